"""Pages to create and revoke personal API tokens (session login, CSRF-protected forms)."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from tracker.access import can
from tracker.api import tokens_bp
from tracker.api.auth import TokenError, create_token, revoke_token
from tracker.auth.models import ApiToken, TokenScope
from tracker.extensions import db
from tracker.types import utcnow

EXPIRY_CHOICES = [
    SelectChoice("30", _l("30 days")),
    SelectChoice("90", _l("90 days")),
    SelectChoice("365", _l("1 year")),
    SelectChoice("0", _l("Never")),
]


class TokenForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("What the token is for, e.g. “monthly funder report”."),
    )
    scope = SelectField(
        _l("Access"),
        choices=[
            SelectChoice(TokenScope.READ.value, _l("Read only")),
            SelectChoice(TokenScope.WRITE.value, _l("Read and write")),
        ],
        default=TokenScope.READ.value,
    )
    expires = SelectField(_l("Expires after"), choices=EXPIRY_CHOICES, default="90")


class RevokeForm(FlaskForm):
    pass


def _require() -> None:
    if not can(current_user, "api.token"):
        abort(403)


def _render(form: TokenForm, secret: str | None = None, status: int = 200):
    tokens = db.session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == current_user.id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())
    ).all()
    return (
        render_template(
            "api/tokens.html",
            form=form,
            tokens=tokens,
            secret=secret,
            revoke_form=RevokeForm(),
            now=utcnow(),
        ),
        status,
    )


@tokens_bp.route("/", methods=["GET", "POST"])
def index():
    _require()
    form = TokenForm()
    if form.validate_on_submit():
        days = int(form.expires.data)
        try:
            _token, secret = create_token(
                user=current_user._get_current_object(),
                name=form.name.data,
                scope=TokenScope(form.scope.data),
                expires_at=utcnow() + timedelta(days=days) if days else None,
            )
        except TokenError as exc:
            db.session.rollback()
            form.name.errors.append(str(exc))
            return _render(form, status=400)
        db.session.commit()
        # The secret is shown on this response only; it is never stored or shown again.
        return _render(TokenForm(formdata=None), secret=secret, status=201)
    return _render(form, status=400 if form.errors else 200)


@tokens_bp.route("/<int:token_id>/revoke", methods=["POST"])
def revoke(token_id: int):
    _require()
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    if RevokeForm().validate_on_submit():
        revoke_token(user=current_user._get_current_object(), token=token)
        db.session.commit()
        flash(_("The token “%(name)s” is revoked.", name=token.name), "success")
    return redirect(url_for("api.tokens.index"))
