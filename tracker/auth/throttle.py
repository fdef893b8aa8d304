"""Login throttling that works across workers: counters live in Flask-Limiter's storage.

Per address, POST /login is limited by a Flask-Limiter decorator (see routes.py). Per account,
only *failed* attempts count, keyed on a digest of the normalised e-mail, so an attacker
cannot lock out a known address faster than it fails, and unknown and existing addresses are
throttled alike (no enumeration). The same storage remembers the TOTP time steps already
used, so a code cannot be replayed within its window.
"""

from __future__ import annotations

import hashlib
import logging

from flask import current_app
from limits import parse

from tracker.extensions import limiter

log = logging.getLogger(__name__)

LOGIN_PER_ADDRESS = "10 per minute"
LOGIN_FAILURES_PER_ACCOUNT = "5 per 15 minutes"
# Changing one's password, confirming or disabling TOTP: guesses per signed-in user.
ACCOUNT_CHECKS_PER_USER = "10 per 15 minutes"

_NAMESPACE = "tracker-login-failures"


def _account_key(email: str) -> str:
    # A digest, so the shared storage (Redis) never holds the addresses themselves.
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _swallow(exc: Exception) -> bool:
    """Follow Flask-Limiter's RATELIMIT_SWALLOW_ERRORS: fail open only if configured so."""
    if current_app.config.get("RATELIMIT_SWALLOW_ERRORS"):
        log.warning("rate-limit storage unavailable: %s", exc)
        return True
    return False


def _enabled() -> bool:
    return current_app.config.get("RATELIMIT_ENABLED", True)


def account_blocked(email: str) -> bool:
    """Whether this e-mail has used up its failed attempts (checked before the password)."""
    if not _enabled():
        return False
    item = parse(LOGIN_FAILURES_PER_ACCOUNT)
    try:
        return not limiter.limiter.test(item, _NAMESPACE, _account_key(email))
    except Exception as exc:
        if _swallow(exc):
            return False
        raise


def record_failure(email: str) -> None:
    if not _enabled():
        return
    item = parse(LOGIN_FAILURES_PER_ACCOUNT)
    try:
        limiter.limiter.hit(item, _NAMESPACE, _account_key(email))
    except Exception as exc:
        if not _swallow(exc):
            raise


def clear_failures(email: str) -> None:
    item = parse(LOGIN_FAILURES_PER_ACCOUNT)
    try:
        limiter.limiter.clear(item, _NAMESPACE, _account_key(email))
    except Exception as exc:
        if not _swallow(exc):
            raise


def claim_totp_step(user_id: int, timestep: int) -> bool:
    """True the first time a user's TOTP time step is used; False on any reuse (atomic)."""
    key = f"tracker-totp-used/{user_id}/{timestep}"
    # Three windows of 30 s cover the accepted drift (one step either side).
    count = limiter.storage.incr(key, expiry=120)
    return count == 1


def forget_totp_step(user_id: int, timestep: int) -> None:
    """Make a time step usable again (test helpers only: signing in twice in one window)."""
    limiter.storage.clear(f"tracker-totp-used/{user_id}/{timestep}")
