"""Forms for the admin pages: users, organisations, audit trail filters."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    SelectField,
    SelectMultipleField,
    StringField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, Email, Length, Optional, ValidationError

from tracker.types import Role

ROLE_DESCRIPTIONS = {
    Role.VIEWER: _l("Viewer: reads what their organisation and the network share"),
    Role.LITIGATOR: _l("Litigator: logs and edits their organisation's cases"),
    Role.COORDINATOR: _l("Coordinator: watches the network's docket and opportunities"),
    Role.ADMIN: _l("Administrator: users, organisations, reference data, audit trail"),
}


def role_choices() -> list[SelectChoice]:
    return [SelectChoice(role.value, label) for role, label in ROLE_DESCRIPTIONS.items()]


class UserEditForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    organisation = SelectField(_l("Organisation"), coerce=int, validators=[DataRequired()])
    role = SelectField(_l("Role"), choices=role_choices, validators=[DataRequired()])


class UserCreateForm(UserEditForm):
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(), Email(), Length(max=254)],
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
    )


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    short_name = StringField(_l("Short name"), validators=[Optional(), Length(max=50)])
    website = URLField(
        _l("Website"),
        validators=[Optional(), Length(max=300), URL(message=_l("Enter a full web address."))],
    )
    present_in = SelectMultipleField(
        _l("Present in"), coerce=int, validators=[Optional()], render_kw={"size": 10}
    )


class AuditFilterForm(FlaskForm):
    """GET filters: bookmarkable, so no CSRF token."""

    class Meta:
        csrf = False

    user = StringField(_l("User (e-mail)"), validators=[Optional(), Length(max=254)])
    entity_type = SelectField(_l("Record type"), validators=[Optional()])
    entity_id = StringField(_l("Record id"), validators=[Optional(), Length(max=60)])
    action = SelectField(_l("Action"), validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))
