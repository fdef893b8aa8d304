"""The upload form: file, title, kind, language and confidentiality, validated per field."""

from __future__ import annotations

import functools

import pycountry
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from tracker.documents.models import DocumentKind
from tracker.documents.services import LEVEL_RANK
from tracker.types import Confidentiality

KIND_LABELS = {
    DocumentKind.COMPLAINT: _l("Complaint"),
    DocumentKind.BRIEF: _l("Brief"),
    DocumentKind.AMICUS: _l("Amicus brief"),
    DocumentKind.SUBMISSION: _l("Submission"),
    DocumentKind.JUDGMENT: _l("Judgment"),
    DocumentKind.DECISION: _l("Decision"),
    DocumentKind.EVIDENCE: _l("Evidence"),
    DocumentKind.TEMPLATE: _l("Template"),
    DocumentKind.OTHER: _l("Other"),
}

CONFIDENTIALITY_LABELS = {
    Confidentiality.PUBLIC: _l("Public (anyone with an account)"),
    Confidentiality.NETWORK: _l("Network (all members)"),
    Confidentiality.ORGANISATION: _l("Organisation (the case's organisations)"),
    Confidentiality.RESTRICTED: _l("Restricted (named case team only)"),
}

LEVEL_NAMES = {
    Confidentiality.PUBLIC: _l("public"),
    Confidentiality.NETWORK: _l("network"),
    Confidentiality.ORGANISATION: _l("organisation"),
    Confidentiality.RESTRICTED: _l("restricted"),
}

NETWORK_LANGUAGES = ("en", "es", "fr", "pt", "ar")


def _language_name(code: str) -> str:
    lang = pycountry.languages.get(alpha_2=code)
    return lang.name if lang else code


@functools.cache
def _other_languages() -> tuple[tuple[str, str], ...]:
    """(code, label) of the ISO 639-1 languages outside the network's, by label. pycountry's
    table is fixed for the process, and walking its ~7,900 ISO 639-3 entries cost every page
    with an upload form several milliseconds."""
    return tuple(
        sorted(
            (
                (lang.alpha_2, f"{lang.name} ({lang.alpha_2})")
                for lang in pycountry.languages
                if hasattr(lang, "alpha_2") and lang.alpha_2 not in NETWORK_LANGUAGES
            ),
            key=lambda item: item[1],
        )
    )


def language_choices() -> list[SelectChoice]:
    """The network's languages first, then every ISO 639-1 language."""
    network_group = str(_l("Network languages"))
    other_group = str(_l("Other languages (ISO 639-1)"))
    others = _other_languages()
    return [
        *(
            SelectChoice(c, f"{_language_name(c)} ({c})", optgroup=network_group)
            for c in NETWORK_LANGUAGES
        ),
        *(SelectChoice(code, label, optgroup=other_group) for code, label in others),
    ]


LANGUAGE_CODES = frozenset(
    [c for c in NETWORK_LANGUAGES]
    + [lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2")]
)


def language_label(code: str | None) -> str:
    return _language_name(code) if code else ""


class DocumentUploadForm(FlaskForm):
    file = FileField(_l("File"), validators=[FileRequired(_l("Choose a file to upload."))])
    title = StringField(
        _l("Title"),
        validators=[
            Optional(),
            Length(max=300, message=_l("Keep the title under 300 characters.")),
        ],
    )
    kind = SelectField(
        _l("Kind of document"),
        choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()],
        validate_choice=False,
        validators=[InputRequired(_l("Choose the kind of document."))],
    )
    language = SelectField(
        _l("Language"),
        choices=language_choices,
        default="en",
        validate_choice=False,
        validators=[InputRequired(_l("Choose the language of the document."))],
    )
    confidentiality = SelectField(
        _l("Confidentiality"),
        validate_choice=False,
        validators=[InputRequired(_l("Choose who may see the document."))],
    )

    def __init__(self, *args, case=None, **kwargs):
        # Prefixed ids and names: the form sits on the case page among other forms.
        kwargs.setdefault("prefix", "document")
        super().__init__(*args, **kwargs)
        self.case = case
        floor = LEVEL_RANK[case.confidentiality] if case is not None else 0
        self.confidentiality.choices = [
            SelectChoice(level.value, label)
            for level, label in CONFIDENTIALITY_LABELS.items()
            if LEVEL_RANK[level] >= floor
        ]
        if not self.is_submitted() and case is not None:
            self.confidentiality.data = case.confidentiality.value

    def validate_kind(self, field) -> None:
        if field.data not in {k.value for k in DocumentKind}:
            raise ValidationError(_l("Choose a kind of document from the list."))

    def validate_language(self, field) -> None:
        if field.data not in LANGUAGE_CODES:
            raise ValidationError(_l("Choose a language from the list (ISO 639-1 code)."))

    def validate_confidentiality(self, field) -> None:
        if field.data not in {c.value for c in Confidentiality}:
            raise ValidationError(_l("Choose a confidentiality level from the list."))
        if self.case is not None and (
            LEVEL_RANK[Confidentiality(field.data)] < LEVEL_RANK[self.case.confidentiality]
        ):
            raise ValidationError(_l("A document cannot be less restricted than its case."))
