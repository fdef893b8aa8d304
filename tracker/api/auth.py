"""Personal API tokens and the API's authentication, scopes, errors and rate limit.

A token is shown once, when it is created; only its SHA-256 is stored, with a short prefix
that identifies it in lists. A valid token keys its own rate limit; an invalid one counts
against its address. Every API request is authenticated here:
a bearer token (read or read-write scope), or, for reading only, the signed-in browser
session. State-changing calls refuse the session, so the CSRF exemption cannot be abused.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app, g, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from tracker.access import can
from tracker.api import bp
from tracker.audit.services import record_audit
from tracker.auth.models import ApiToken, TokenScope, User
from tracker.extensions import db, limiter
from tracker.types import utcnow

TOKEN_PREFIX = "lt_"  # noqa: S105 (a public marker, not a secret)
PREFIX_LENGTH = 12
MAX_TOKENS_PER_USER = 20
LAST_USED_EVERY = timedelta(minutes=5)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenError(ValueError):
    pass


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    *, user: User, name: str, scope: TokenScope, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for the user: (row, the secret to show once). Flushes and audits."""
    if not can(user, "api.token"):
        raise TokenError(_("You cannot create API tokens."))
    active = db.session.scalars(
        select(ApiToken.id).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    if len(active) >= MAX_TOKENS_PER_USER:
        raise TokenError(
            _("You have %(n)d active tokens; revoke one first.", n=MAX_TOKENS_PER_USER)
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name.strip()[:100],
        prefix=secret[:PREFIX_LENGTH],
        token_hash=hash_token(secret),
        scope=scope,
        expires_at=expires_at,
    )
    db.session.add(token)
    db.session.flush()
    record_audit(
        action="api_token.create",
        entity=token,
        after={"name": token.name, "prefix": token.prefix, "scope": scope.value},
        user_id=user.id,
    )
    return token, secret


def revoke_token(*, user: User, token: ApiToken) -> None:
    if token.user_id != user.id:
        raise TokenError(_("This is not your token."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
        record_audit(
            action="api_token.revoke",
            entity=token,
            after={"prefix": token.prefix},
            user_id=user.id,
        )


def token_user(secret: str) -> tuple[User, ApiToken] | None:
    """The active user of a valid, unexpired, unrevoked token."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    if token is None or token.revoked_at is not None:
        return None
    now = utcnow()
    if token.expires_at is not None and token.expires_at <= now:
        return None
    user = db.session.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY:
        token.last_used_at = now
        db.session.commit()
    return user, token


# --- Errors: always JSON {error, reason} -------------------------------------------------------
ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    501: "not_implemented",
}


class ApiError(Exception):
    def __init__(self, status: int, reason: str, **extra):
        super().__init__(reason)
        self.status, self.reason, self.extra = status, reason, extra


def error_response(status: int, reason: str, **extra):
    body = {"error": ERROR_CODES.get(status, "error"), "reason": reason, **extra}
    response = jsonify(body)
    response.status_code = status
    return response


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    response = error_response(exc.status, exc.reason, **exc.extra)
    if "allow" in exc.extra:
        response.headers["Allow"] = ", ".join(exc.extra["allow"])
    return response


@bp.errorhandler(HTTPException)
def _http_error(exc: Exception):
    if request.blueprint == "api.tokens":
        return exc  # the HTML token pages use the site's error pages
    if not isinstance(exc, HTTPException):  # an unexpected error (registered for 500)
        db.session.rollback()
        current_app.logger.exception("API error", exc_info=exc)
        return error_response(500, _("Something went wrong on our side."))
    status = exc.code or 500
    reasons = {
        404: _("There is nothing here."),
        405: _("This method is not allowed here."),
        413: _("The request body is too large."),
        429: _("Too many requests: slow down and try again in a minute."),
    }
    response = error_response(status, reasons.get(status) or exc.description or "")
    if status == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


# Code-specific handlers win over class-based ones in Flask, and the site registers its own
# HTML pages per code: register ours per code too, so the API always answers JSON.
for _code in (400, 401, 403, 404, 405, 409, 413, 415, 429, 500):
    bp.register_error_handler(_code, _http_error)


# --- Authentication of every API request -------------------------------------------------------
def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _checked_bearer() -> tuple[User, ApiToken] | None:
    """The bearer token's user and row if the token is valid; looked up once per request (the
    rate limit's key needs it before authenticate() runs)."""
    # Kept in the WSGI environ, which lives exactly as long as the request (`g` may outlive
    # it when a caller holds an app context across requests, as the tests do).
    key = "tracker.api_bearer"
    if key not in request.environ:
        secret = _bearer()
        request.environ[key] = token_user(secret) if secret is not None else None
    return request.environ[key]


def rate_key() -> str:
    """Per valid token, else per signed-in user, else per address.

    An invalid token counts against its address, never a bucket of its own: keying on what
    the client sends would give every made-up token a fresh limit (and unlimited guesses).
    """
    if _bearer() is not None:
        found = _checked_bearer()
        if found is not None:
            return f"api-token:{found[1].id}"
    elif getattr(current_user, "is_authenticated", False):
        return f"api-user:{current_user.id}"
    return "api-ip:" + (request.remote_addr or "unknown")


def rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT", "300 per minute")


limiter.limit(rate_limit, key_func=rate_key)(bp)


@bp.before_request
def authenticate():
    if request.blueprint == "api.tokens":
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.path))
        return None
    g.api_token = None
    if _bearer() is not None:
        found = _checked_bearer()
        if found is None:
            raise ApiError(401, _("The API token is invalid, expired or revoked."))
        user, token = found
        g._login_user = user  # current_user for this request only; no session is created
        g.api_token = token
        if request.method not in READ_METHODS and token.scope != TokenScope.WRITE:
            raise ApiError(403, _("This token may only read (scope: read)."))
        return None
    if current_user.is_authenticated:
        if request.method not in READ_METHODS:
            raise ApiError(
                401,
                _(
                    "Changes through the API need an API token "
                    "(Authorization: Bearer ...); a browser session may only read."
                ),
            )
        return None
    raise ApiError(401, _("Authentication required: send Authorization: Bearer <token>."))
