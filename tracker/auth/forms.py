"""Forms for signing in and managing one's own account."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])
    otp = StringField(_l("Authentication code"), validators=[Optional(), Length(min=6, max=8)])
    next = HiddenField()


class LogoutForm(FlaskForm):
    """Empty form: logout is a POST with a CSRF token."""
