"""Forms of the pleadings library: upload, edit, new version, confirmations, draft.

The forms check shape (types, lengths, choices); the services check meaning (codes exist,
the file is safe and of an allowed type, a template's placeholders are allowed).
"""

from __future__ import annotations

from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from tracker.documents.models import DocumentKind
from tracker.types import Confidentiality

# The kinds a library item can be (a judgment or evidence is not a model pleading).
PLEADING_KINDS = {
    DocumentKind.COMPLAINT: _l("Complaint"),
    DocumentKind.BRIEF: _l("Brief"),
    DocumentKind.AMICUS: _l("Amicus brief"),
    DocumentKind.SUBMISSION: _l("Submission to a treaty body"),
    DocumentKind.TEMPLATE: _l("Template (DOCX with placeholders)"),
    DocumentKind.OTHER: _l("Other"),
}

CONFIDENTIALITY_CHOICES = {
    Confidentiality.PUBLIC: _l("Public (anyone with an account)"),
    Confidentiality.NETWORK: _l("Network (all members of the network)"),
    Confidentiality.ORGANISATION: _l("Organisation (members of your organisation)"),
    Confidentiality.RESTRICTED: _l("Restricted (only you)"),
}
CONFIDENTIALITY_SHORT = {
    Confidentiality.PUBLIC: _l("Public"),
    Confidentiality.NETWORK: _l("Network"),
    Confidentiality.ORGANISATION: _l("Organisation"),
    Confidentiality.RESTRICTED: _l("Restricted"),
}

# ISO 639-1 codes of the languages pleadings are written in across the network.
LANGUAGES = (
    "en", "es", "fr", "pt", "ar", "de", "it", "el", "nl", "pl", "ru", "tr", "uk", "hu",
    "ro", "bg", "hr", "fa", "ps", "so", "ti", "am", "sw", "zh", "hi", "ur", "bn",
)  # fmt: skip


def language_name(code: str | None) -> str:
    """The language's name in the reader's locale ("French", "francés"), else the code."""
    if not code:
        return ""
    try:
        name = Locale.parse(code).get_display_name(str(get_locale() or "en"))
    except (ValueError, TypeError):
        return code
    return name or code


def language_choices() -> list[tuple[str, str]]:
    return sorted(((c, language_name(c)) for c in LANGUAGES), key=lambda x: x[1].lower())


def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(key.value, label) for key, label in labels.items()]


def select_choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class CodesField(StringField):
    """Codes separated by ";" in one value; several values (a script, an older form) are
    joined, so "rights=a&rights=b" means the same as "rights=a; b"."""

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = "; ".join(v.strip() for v in valuelist if v and v.strip())


class PleadingForm(FlaskForm):
    """Metadata of a model pleading (edit); the upload form adds the file."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    kind = SelectField(_l("Kind"), choices=_choices(PLEADING_KINDS), validators=[InputRequired()])
    language = SelectField(_l("Language"), choices=[], validators=[InputRequired()])
    summary = TextAreaField(
        _l("Summary of its arguments"),
        validators=[DataRequired(), Length(max=20000)],
        description=_l("What it argues and how; this text is searched and used for suggestions."),
    )
    usage_notes = TextAreaField(
        _l("Usage notes"),
        validators=[Optional(), Length(max=20000)],
        description=_l("When it fits, what to adapt, pitfalls met when it was used."),
    )
    # Codes separated by ";": static/js/picker.js turns these into type-ahead pickers over
    # the taxonomy endpoints (as on the case form); without JavaScript, codes are typed.
    rights = CodesField(
        _l("Rights"),
        validators=[Optional(), Length(max=4000)],
        description=_l("Type to search; without JavaScript, codes separated by “;”."),
    )
    provisions = CodesField(
        _l("Provisions"),
        validators=[Optional(), Length(max=4000)],
        description=_l(
            "Type an article or a treaty to search; without JavaScript, codes separated by "
            "“;” (e.g. ECHR:5; ICCPR:9)."
        ),
    )
    forums = CodesField(
        _l("Forums"),
        validators=[Optional(), Length(max=4000)],
        description=_l("Type to search; without JavaScript, codes separated by “;”."),
    )
    systems = SelectMultipleField(
        _l("Regional or UN systems"),
        choices=[],
        validators=[Optional()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    confidentiality = SelectField(
        _l("Who may see it"),
        choices=_choices(CONFIDENTIALITY_CHOICES),
        default=Confidentiality.NETWORK.value,
        validators=[InputRequired()],
    )
    is_template = BooleanField(
        _l("This is a template with placeholders (DOCX) from which drafts can be started")
    )


class PleadingUploadForm(PleadingForm):
    file = FileField(
        _l("File"),
        validators=[FileRequired(message=_l("Choose the file to upload."))],
        description=_l("PDF, Word (DOCX), OpenDocument (ODT) or plain text (UTF-8)."),
    )


class VersionForm(FlaskForm):
    file = FileField(
        _l("New version"),
        validators=[FileRequired(message=_l("Choose the file to upload."))],
        description=_l("The earlier versions are kept."),
    )
    note = StringField(_l("What changed"), validators=[Optional(), Length(max=500)])


class ConfirmForm(FlaskForm):
    """A POST with only a CSRF token (delete, endorse, unlink)."""


class EndorseForm(FlaskForm):
    endorse = HiddenField(validators=[InputRequired()])


class UseForm(FlaskForm):
    case_id = IntegerField(
        _l("Case number"),
        validators=[InputRequired(), NumberRange(min=1)],
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
    next = HiddenField()


class DraftForm(FlaskForm):
    case_id = IntegerField(
        _l("Case number"),
        validators=[InputRequired(), NumberRange(min=1)],
    )
    # The choices are the case's proceedings (set by the view, which checks the choice).
    proceeding_id = SelectField(
        _l("Forum for {{ forum }} and {{ reference }}"),
        coerce=int,
        choices=[],
        validate_choice=False,
        validators=[Optional()],
    )
    full_names = BooleanField(_l("Use the claimants' full names (case team only)"))
