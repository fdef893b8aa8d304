"""Deny-by-default login gate, session loading, safe redirects and security headers."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Flask, abort, g, jsonify, redirect, request, session, url_for
from flask_babel import format_number
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from tracker.extensions import login_manager
from tracker.types import Role

# The only endpoints an anonymous request may reach. Everything else needs a signed-in user.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "auth.set_password", "main.healthz", "static"})

# What an administrator without a second factor may reach: setting it up, or leaving.
TOTP_SETUP_ENDPOINTS = frozenset({"auth.totp_setup", "auth.logout"})

SESSION_TOKEN_KEY = "sid"  # noqa: S105 (a session key name, not a secret)

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# The largest id any table holds: ids are INTEGER columns, and PostgreSQL's INTEGER stops
# here (SQLite's at 2**63 - 1). A larger id in a URL cannot name a record.
MAX_ID = 2**31 - 1


def digits_up_to(limit: int) -> str:
    """A regular expression for the decimal numbers 0..limit: a number with more digits than
    limit, or as many digits and larger, does not match (leading zeros count as digits)."""
    digits = str(limit)
    width = len(digits)
    alternatives = [rf"\d{{1,{width - 1}}}"] if width > 1 else []
    for i, digit in enumerate(digits):
        low = 1 if i == 0 and width > 1 else 0
        if int(digit) > low:
            rest = width - i - 1
            tail = rf"\d{{{rest}}}" if rest else ""
            alternatives.append(f"{digits[:i]}[{low}-{int(digit) - 1}]{tail}")
    alternatives.append(digits)
    return "(?:" + "|".join(alternatives) + ")"


class BoundedIntConverter(IntegerConverter):
    """The app's `int` converter: an id past MAX_ID does not match the route, so it is a 404.

    Without the bound such an id reached the database and failed there (a 500: an overflow on
    SQLite, "integer out of range" on PostgreSQL). The bound is in the regular expression, not
    only in to_python(): Werkzeug treats a failed conversion as the end of matching, so the
    API's catch-all JSON 404 would be skipped and another method's rule would turn it into a
    405. Rules may still pass their own min/max (checked after matching, as usual).
    """

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
        if max is not None and not fixed_digits and max >= 0:
            self.regex = ("-?" if signed else "") + digits_up_to(max)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_next(target: str | None, default: str = "/") -> str:
    """Accept only a relative path on this site: one leading '/', no backslash, no scheme."""
    if not target or not isinstance(target, str) or len(target) > 2000:
        return default
    # Check the value as given and once percent-decoded ("/%5Cevil", "/%2F/evil"): some
    # browsers and proxies decode before they resolve.
    for candidate in (target, unquote(target)):
        if _CONTROL.search(candidate) or "\\" in candidate:
            return default
        if not candidate.startswith("/") or candidate.startswith("//"):
            return default
        parts = urlsplit(candidate)
        if parts.scheme or parts.netloc:
            return default
    return target


@login_manager.user_loader
def _load_user(user_id: str):
    from tracker.auth.services import load_session

    row = load_session(session.get(SESSION_TOKEN_KEY))
    if row is None or str(row.user_id) != str(user_id):
        return None
    g.user_session = row
    return row.user


def needs_totp_setup(user: Any) -> bool:
    """Administrators must use a second factor before they can do anything else."""
    return (
        getattr(user, "is_authenticated", False)
        and user.role == Role.ADMIN
        and user.totp_enabled_at is None
    )


def require(action: str, *, status: int | None = None) -> Callable:
    """View decorator: the signed-in user's role must allow `action` (tracker.access.ACTIONS).

    Admin areas answer 404 (they do not announce themselves to other roles); other actions
    answer 403, for use where the record itself is visible to the user. Pass `status` to
    choose explicitly.
    """
    from tracker.access import can

    refusal = status or (404 if action.startswith("admin.") else 403)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not can(current_user, action):
                abort(refusal)
            return view(*args, **kwargs)

        wrapped.required_action = action  # for tests and introspection
        return wrapped

    return decorator


def _forget_cached_user():
    g.pop("_login_user", None)
    g.pop("user_session", None)


def _gate():
    endpoint = request.endpoint
    if endpoint in PUBLIC_ENDPOINTS:
        return None
    if current_user.is_authenticated:
        if needs_totp_setup(current_user) and endpoint not in TOTP_SETUP_ENDPOINTS:
            return redirect(url_for("auth.totp_setup"))
        return None
    if request.path.startswith("/api/"):
        return None  # the API authenticates with tokens in its own before_request
    if endpoint is None:
        return None  # a 404 for an unknown URL says nothing about our records
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


# --- Input every view can rely on -------------------------------------------------------------
MAX_PAGE = 1_000_000
_PAGE = re.compile(r"[0-9]{1,7}")  # ASCII digits only: "²".isdigit() is true, int("²") fails


def _has_nul(value: Any) -> bool:
    """Whether a JSON value (or a plain string) holds a NUL character anywhere."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _nul_in_request() -> bool:
    for multi in (request.args, request.form):
        for key, value in multi.items(multi=True):
            if "\x00" in key or "\x00" in value:
                return True
    if any("\x00" in (f.filename or "") for f in request.files.values()):
        return True
    if any(_has_nul(v) for v in (request.view_args or {}).values()):
        return True
    return request.is_json and _has_nul(request.get_json(silent=True))


def _refuse(field: str, message: str):
    if request.path.startswith("/api/"):
        from tracker.api.auth import error_response

        return error_response(400, _("Invalid parameter."), fields={field: message})
    abort(400, description=message)


def _check_input():
    """Refuse, for every endpoint at once, input that no view should have to survive.

    A NUL character cannot be stored in PostgreSQL text (the driver raises DataError, a 500);
    a `page` past what any list has overflowed the database's OFFSET (another 500). Both get
    a clear 400 here instead, as JSON under /api/.
    """
    if _nul_in_request():
        return _refuse("body", _("The request contains a NUL character, which is not allowed."))
    for raw in request.args.getlist("page"):
        if not _PAGE.fullmatch(raw) or not 1 <= int(raw) <= MAX_PAGE:
            return _refuse(
                "page", _("The page is a whole number from 1 to %(n)s.", n=format_number(MAX_PAGE))
            )
    return None


def _headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
    from flask import current_app

    if current_app.config["SESSION_COOKIE_SECURE"]:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def _unauthorized():
    if request.path.startswith("/api/"):
        return jsonify(error="unauthorized", reason="Authentication required."), 401
    return redirect(url_for("auth.login", next=safe_next(request.full_path)))


def init_app(app: Flask) -> None:
    login_manager.session_protection = None  # our server-side sessions do this job
    login_manager.unauthorized_handler(_unauthorized)
    # Flask-Login caches the user on `g`, which lives as long as the app context. When a
    # caller keeps one app context across requests (tests, scripts), a cached user would skip
    # the session checks below, so every request starts by forgetting it.
    app.before_request_funcs.setdefault(None, []).insert(0, _forget_cached_user)
    app.before_request(_gate)
    app.before_request(_check_input)
    from tracker.audit import install_guard

    install_guard()
    app.after_request(_headers)
    app.jinja_env.globals["safe_next"] = safe_next
