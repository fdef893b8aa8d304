"""Forms of the reference-data admin pages: instruments' titles, provisions, rights."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp

from tracker.taxonomy.services import NUMBER_PATTERN, RIGHT_CODE_PATTERN


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class InstrumentForm(FlaskForm):
    short_title = StringField(
        _l("Short title"), validators=[DataRequired(), Length(max=120)], filters=[_strip]
    )
    title = StringField(
        _l("Full title"), validators=[DataRequired(), Length(max=400)], filters=[_strip]
    )
    version = HiddenField()


class ProvisionForm(FlaskForm):
    number = StringField(
        _l("Number"),
        validators=[
            DataRequired(),
            Length(max=20),
            Regexp(
                f"^{NUMBER_PATTERN.pattern}$",
                message=_l(
                    "Use letters, digits, dots, hyphens and brackets, e.g. 5, P4-4 or 3(1)."
                ),
            ),
        ],
        filters=[_strip],
    )
    title = StringField(
        _l("Title or heading"), validators=[DataRequired(), Length(max=300)], filters=[_strip]
    )
    text = TextAreaField(
        _l("Text or summary"),
        validators=[Optional(), Length(max=20000)],
        filters=[_strip],
        render_kw={"rows": 8},
    )
    placeholder = BooleanField(_l("Placeholder: still to be completed from the published text"))
    rights = SelectMultipleField(_l("Rights (crosswalk)"), coerce=int, validators=[Optional()])
    version = HiddenField()


class ProvisionCreateForm(ProvisionForm):
    instrument = SelectField(_l("Instrument"), coerce=int, validators=[DataRequired()])


class RightForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)], filters=[_strip])
    description = TextAreaField(
        _l("Description"),
        validators=[Optional(), Length(max=5000)],
        filters=[_strip],
        render_kw={"rows": 4},
    )
    # 0 = no parent (a group). Choices are set by the view.
    parent = SelectField(_l("Group"), coerce=int, validators=[Optional()])
    version = HiddenField()


class RightCreateForm(RightForm):
    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(),
            Length(max=60),
            Regexp(
                f"^{RIGHT_CODE_PATTERN.pattern}$",
                message=_l(
                    "Use lower-case letters and digits joined by hyphens, e.g. right-to-water."
                ),
            ),
        ],
        filters=[_strip],
    )
