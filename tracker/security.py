"""Deny-by-default login gate, session loading, safe redirects and security headers."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Flask, abort, g, jsonify, redirect, request, session, url_for
from flask_login import current_user

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
    from tracker.audit import install_guard

    install_guard()
    app.after_request(_headers)
    app.jinja_env.globals["safe_next"] = safe_next
