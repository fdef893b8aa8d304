"""Forms of the patterns area (every state change is a POST with CSRF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class AssignOpportunityForm(FlaskForm):
    organisation = SelectField(_l("Organisation"), coerce=int, validators=[Optional()])
    assignee = SelectField(_l("Person"), coerce=int, validators=[Optional()])


class DismissOpportunityForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for dismissing"),
        validators=[
            DataRequired(message=_l("Give a reason for dismissing it.")),
            Length(max=2000),
        ],
        filters=[_strip],
    )


class ConfirmForm(FlaskForm):
    """Convert / reopen / mark read: a POST with a CSRF token and nothing else."""


class WatchForm(FlaskForm):
    kind = HiddenField(validators=[DataRequired()])
    target = HiddenField(validators=[DataRequired(), Length(max=60)])
    action = HiddenField(validators=[DataRequired()])
    next = HiddenField()
