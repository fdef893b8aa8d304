"""Account services: password hashing and policy, users, server-side sessions."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, request
from sqlalchemy import func, select, update

from tracker.audit.services import record_audit, snapshot
from tracker.auth.models import Organisation, User, UserSession
from tracker.extensions import db
from tracker.types import Role, utcnow

# argon2id with the library's current recommended parameters.
_hasher = PasswordHasher()
# A fixed hash to verify against when the account does not exist, so that an unknown e-mail
# costs the same time as a wrong password (no user enumeration by timing).
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

PASSWORD_MIN, PASSWORD_MAX = 12, 128


class AccountError(ValueError):
    """A domain error about accounts; the message is safe to show to the person."""


class WeakPassword(AccountError):
    pass


class DuplicateEmail(AccountError):
    pass


class UnknownOrganisation(AccountError):
    pass


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    # zxcvbn ships the 30,000 most frequent passwords of public breach corpora.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password_policy(password: str, *, email: str | None = None) -> None:
    """Length 12-128, no composition rules, not a common password (NIST SP 800-63B)."""
    if len(password) < PASSWORD_MIN:
        raise WeakPassword(f"Use at least {PASSWORD_MIN} characters.")
    if len(password) > PASSWORD_MAX:
        raise WeakPassword(f"Use at most {PASSWORD_MAX} characters.")
    lowered = password.lower()
    if lowered in _common_passwords():
        raise WeakPassword("This password is too common; choose another.")
    if email and lowered == email.lower():
        raise WeakPassword("The password must not be your e-mail address.")
    # Long but trivially guessable ("aaaaaaaaaaaa", "password1234"): zxcvbn's estimate.
    from zxcvbn import zxcvbn

    if zxcvbn(password[:64], user_inputs=[email or ""])["score"] < 2:
        raise WeakPassword("This password is too easy to guess; try a longer passphrase.")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """Constant-work check: an unknown user still costs one argon2 verification."""
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        ok = _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    if user is None or not user.password_hash:
        return False
    if ok and _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
    return ok


def normalise_email(email: str) -> str:
    return email.strip().lower()


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def create_organisation(*, name: str, short_name: str | None = None) -> Organisation:
    name = name.strip()
    if not name:
        raise AccountError("An organisation needs a name.")
    existing = db.session.scalar(
        select(Organisation).where(func.lower(Organisation.name) == name.lower())
    )
    if existing is not None:
        raise AccountError(f"An organisation named {name!r} already exists.")
    org = Organisation(name=name, short_name=(short_name or None))
    db.session.add(org)
    db.session.flush()
    record_audit(action="create", entity=org, after=snapshot(org))
    return org


def create_user(
    *,
    email: str,
    name: str,
    organisation: Organisation,
    role: Role,
    password: str | None = None,
) -> User:
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise AccountError("Enter a valid e-mail address.")
    if get_user_by_email(email) is not None:
        raise DuplicateEmail(f"A user with the e-mail {email} already exists.")
    user = User(email=email, name=name.strip() or email, organisation=organisation, role=role)
    if password is not None:
        check_password_policy(password, email=email)
        user.password_hash = hash_password(password)
        user.password_changed_at = utcnow()
    db.session.add(user)
    db.session.flush()
    record_audit(action="create", entity=user, after=snapshot(user))
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User) -> str:
    """Open a server-side session and return the opaque token for the cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            ip_address=request.remote_addr,
            user_agent=(request.user_agent.string or "")[:300],
        )
    )
    user.last_login_at = utcnow()
    return token


def load_session(token: str | None) -> UserSession | None:
    """The live session for a cookie token, or None if unknown, ended or timed out."""
    if not token:
        return None
    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == _token_hash(token)))
    if row is None or row.ended_at is not None:
        return None
    now = utcnow()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    absolute = timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])
    if now - row.last_seen_at > idle:
        _end(row, "idle timeout", now)
        return None
    if now - row.created_at > absolute:
        _end(row, "absolute timeout", now)
        return None
    if not row.user.is_active:
        return None
    # Touch at most once a minute: no write on every page view.
    if now - row.last_seen_at > timedelta(minutes=1):
        row.last_seen_at = now
    return row


def _end(row: UserSession, reason: str, now: datetime) -> None:
    row.ended_at = now
    row.ended_reason = reason


def end_session(token: str | None, reason: str = "logout") -> None:
    if not token:
        return
    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == _token_hash(token)))
    if row is not None and row.ended_at is None:
        _end(row, reason, utcnow())


def end_all_sessions(user: User, reason: str, *, except_token: str | None = None) -> int:
    """End every live session of the user (logout everywhere, disable, password change)."""
    stmt = (
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_reason=reason)
    )
    if except_token:
        stmt = stmt.where(UserSession.token_hash != _token_hash(except_token))
    return db.session.execute(stmt).rowcount or 0
