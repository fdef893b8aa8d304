"""Helpers for signing in with a second factor in tests (importable from any area)."""

from __future__ import annotations

import time

import pyotp


def totp_code(user, offset_steps: int = 0) -> str:
    """The user's code for the current time step (+ offset: the app accepts -1..+1)."""
    return pyotp.TOTP(user.totp_secret).at(time.time() + 30 * offset_steps)
