"""Time-based one-time passwords (RFC 6238) as the second factor, with pyotp."""

from __future__ import annotations

import time

import pyotp

from tracker.auth.throttle import claim_totp_step

ISSUER = "Litigation tracker"
INTERVAL = 30
DRIFT_STEPS = 1  # accept the previous and the next code too (clock drift, typing time)


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret, interval=INTERVAL).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg_data_uri(uri: str) -> str | None:
    """The otpauth URI as a QR code (SVG data URI: CSP allows data: images)."""
    try:
        import segno
    except ImportError:  # pragma: no cover - optional nicety
        return None
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def _clean(code: str | None) -> str:
    return "".join(ch for ch in (code or "") if ch.isdigit())


def matching_step(secret: str | None, code: str | None, *, at: float | None = None) -> int | None:
    """The time step whose code this is (within the allowed drift), or None."""
    code = _clean(code)
    if not secret or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret, interval=INTERVAL)
    now = time.time() if at is None else at
    current = int(now // INTERVAL)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if pyotp.utils.strings_equal(totp.at(step * INTERVAL), code):
            return step
    return None


def verify_code(user_id: int, secret: str | None, code: str | None) -> bool:
    """A valid code that has not been used before (each time step counts once per user)."""
    step = matching_step(secret, code)
    if step is None:
        return False
    return claim_totp_step(user_id, step)
