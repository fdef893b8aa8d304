"""Account services: password hashing and policy, users, server-side sessions."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context, request
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from tracker.audit.services import record_audit, snapshot
from tracker.auth.models import ApiToken, Organisation, User, UserSession
from tracker.extensions import db
from tracker.types import Role, utcnow

# argon2id with the library's current recommended parameters.
_hasher = PasswordHasher()
# Under TESTING only: a deliberately cheap argon2id, so that hundreds of test sign-ins do not
# each cost 64 MiB and a few hundred milliseconds (the way Django's tests swap hashers).
_test_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@lru_cache(maxsize=2)
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A fixed hash to verify against when the account does not exist, so that an unknown
    e-mail costs the same time as a wrong password (no user enumeration by timing).

    Made on first use, not at import: hashing costs 64 MiB and a few hundred milliseconds,
    which every command (an export, a migration) would otherwise pay at start-up.
    """
    return hasher.hash(secrets.token_urlsafe(16))


def _current_hasher() -> PasswordHasher:
    return _test_hasher if has_app_context() and current_app.testing else _hasher


PASSWORD_MIN, PASSWORD_MAX = 12, 128


class AccountError(ValueError):
    """A domain error about accounts; the message is safe to show to the person."""


class WeakPassword(AccountError):
    pass


class DuplicateEmail(AccountError):
    pass


class UnknownOrganisation(AccountError):
    pass


class DuplicateOrganisation(AccountError):
    pass


class LastAdministrator(AccountError):
    pass


class WrongPassword(AccountError):
    pass


class WrongCode(AccountError):
    pass


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    # zxcvbn ships the 30,000 most frequent passwords of public breach corpora.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password_policy(password: str, *, email: str | None = None) -> None:
    """Length 12-128, no composition rules, not a common password (NIST SP 800-63B)."""
    if len(password) < PASSWORD_MIN:
        raise WeakPassword(_("Use at least %(n)d characters.", n=PASSWORD_MIN))
    if len(password) > PASSWORD_MAX:
        raise WeakPassword(_("Use at most %(n)d characters.", n=PASSWORD_MAX))
    lowered = password.lower()
    if lowered in _common_passwords():
        raise WeakPassword(_("This password is too common; choose another."))
    if email and lowered == email.lower():
        raise WeakPassword(_("The password must not be your e-mail address."))
    # Long but trivially guessable ("aaaaaaaaaaaa", "password1234"): zxcvbn's estimate.
    from zxcvbn import zxcvbn

    if zxcvbn(password[:64], user_inputs=[email or ""])["score"] < 2:
        raise WeakPassword(_("This password is too easy to guess; try a longer passphrase."))


def hash_password(password: str) -> str:
    return _current_hasher().hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """Constant-work check: an unknown user still costs one argon2 verification."""
    hasher = _current_hasher()
    known = user is not None and user.password_hash
    stored = user.password_hash if known else _dummy_hash(hasher)
    try:
        ok = hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    if user is None or not user.password_hash:
        return False
    if ok and hasher.check_needs_rehash(stored):
        user.password_hash = hasher.hash(password)
    return ok


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _valid_email(email: str) -> bool:
    """The syntax check the admin form uses (email_validator), without a DNS lookup."""
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def create_organisation(*, name: str, short_name: str | None = None) -> Organisation:
    name = name.strip()
    if not name:
        raise AccountError(_("An organisation needs a name."))
    existing = db.session.scalar(
        select(Organisation).where(func.lower(Organisation.name) == name.lower())
    )
    if existing is not None:
        raise AccountError(_("An organisation named %(name)r already exists.", name=name))
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
    if len(email) > 254 or not _valid_email(email):
        raise AccountError(_("Enter a valid e-mail address."))
    if get_user_by_email(email) is not None:
        raise DuplicateEmail(_("A user with the e-mail %(email)s already exists.", email=email))
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
        _persist_session(row, ended_at=now, ended_reason="idle timeout")
        return None
    if now - row.created_at > absolute:
        _persist_session(row, ended_at=now, ended_reason="absolute timeout")
        return None
    if not row.user.is_active:
        return None
    # Touch at most once a minute: no write on every page view.
    if now - row.last_seen_at > timedelta(minutes=1):
        _persist_session(row, last_seen_at=now)
    return row


def _persist_session(row: UserSession, **values) -> None:
    """Write session bookkeeping at once, in its own short transaction.

    Read-only requests never commit the request's unit of work, and a request that fails must
    not lose the fact that a session timed out; so this does not ride on db.session.
    """
    with db.engine.begin() as conn:
        conn.execute(update(UserSession).where(UserSession.id == row.id).values(**values))
    for key, value in values.items():
        set_committed_value(row, key, value)


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


# --- Administration of users ----------------------------------------------------------------


def _active_admins_besides(user: User) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN, User.disabled_at.is_(None), User.id != user.id)
    )


def _keep_an_admin(user: User) -> None:
    if user.role == Role.ADMIN and user.is_active and not _active_admins_besides(user):
        raise LastAdministrator(_("At least one active administrator must remain."))


def update_user(*, user: User, name: str, organisation: Organisation, role: Role) -> User:
    """Change a user's name, organisation or role (audited with before and after)."""
    name = (name or "").strip()
    if not name:
        raise AccountError(_("A user needs a name."))
    if role != Role.ADMIN:
        _keep_an_admin(user)
    before = snapshot(user)
    user.name = name
    user.organisation = organisation
    user.role = role
    db.session.flush()
    after = snapshot(user)
    if before != after:
        record_audit(action="update", entity=user, before=before, after=after)
    return user


def disable_user(*, user: User, actor: User | None = None) -> int:
    """Disable the account and end all its sessions at once. Returns the sessions ended."""
    if actor is not None and actor.id == user.id:
        raise AccountError(_("You cannot disable your own account."))
    if not user.is_active:
        return 0
    _keep_an_admin(user)
    before = snapshot(user)
    user.disabled_at = utcnow()
    ended = end_all_sessions(user, "disabled")
    db.session.flush()
    record_audit(
        action="disable",
        entity=user,
        before=before,
        after=snapshot(user),
        summary=f"{ended} session(s) ended",
    )
    return ended


def enable_user(*, user: User) -> User:
    if user.is_active:
        return user
    before = snapshot(user)
    user.disabled_at = None
    db.session.flush()
    record_audit(action="enable", entity=user, before=before, after=snapshot(user))
    return user


# --- Invitations: one-time set-password links ------------------------------------------------

INVITATION_MAX_AGE_HOURS = 72


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"])


def _invitation_salt(user: User) -> str:
    # Salted with the current password hash: once a password is set, every earlier link dies.
    return f"set-password:{user.password_hash or ''}"


def invitation_token(user: User) -> str:
    return _serializer().dumps({"u": user.id}, salt=_invitation_salt(user))


def invitation_max_age() -> int:
    return int(current_app.config.get("INVITATION_MAX_AGE_HOURS", INVITATION_MAX_AGE_HOURS)) * 3600


def user_for_invitation(token: str) -> User | None:
    """The active user a set-password link is for, or None if forged, used or expired."""
    if not token or len(token) > 512:
        return None
    serializer = _serializer()
    try:
        _ok, payload = serializer.loads_unsafe(token)
        user_id = int(payload["u"]) if isinstance(payload, dict) else None
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    user = db.session.get(User, user_id) if user_id else None
    if user is None or not user.is_active:
        return None
    try:
        serializer.loads(token, salt=_invitation_salt(user), max_age=invitation_max_age())
    except BadSignature:  # SignatureExpired is a BadSignature too
        return None
    return user


def record_invitation(*, user: User, mailed: bool) -> None:
    record_audit(
        action="invite",
        entity=user,
        summary="set-password link issued" + (" and mailed" if mailed else ""),
    )


# --- Passwords -------------------------------------------------------------------------------


def _store_password(user: User, password: str) -> None:
    check_password_policy(password, email=user.email)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()


def revoke_all_tokens(user: User) -> int:
    """Revoke every live API token of the user (a new password: whoever held the old one may
    have made tokens with it). Returns how many."""
    return (
        db.session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        ).rowcount
        or 0
    )


class PasswordChanged(NamedTuple):
    sessions_ended: int
    tokens_revoked: int


def set_password_from_invitation(*, user: User, password: str) -> None:
    """Set the password from a one-time link; every session and API token of the user ends."""
    _store_password(user, password)
    end_all_sessions(user, "password set")
    revoked = revoke_all_tokens(user)
    db.session.flush()
    record_audit(
        action="set_password",
        entity=user,
        summary=f"password set from a one-time link; {revoked} API token(s) revoked",
    )


def change_password(
    *, user: User, current_password: str, new_password: str, keep_token: str | None
) -> PasswordChanged:
    """Change one's own password; ends every other session and revokes every API token."""
    if not verify_password(user, current_password):
        raise WrongPassword(_("Your current password is not right."))
    if current_password == new_password:
        raise WeakPassword(_("Choose a password different from the current one."))
    _store_password(user, new_password)
    ended = end_all_sessions(user, "password changed", except_token=keep_token)
    revoked = revoke_all_tokens(user)
    db.session.flush()
    # No hash in the trail: snapshot() leaves it out, and we record only the event.
    record_audit(
        action="change_password",
        entity=user,
        summary=(
            f"password changed; {ended} other session(s) ended, {revoked} API token(s) revoked"
        ),
    )
    return PasswordChanged(ended, revoked)


# --- Two-factor authentication ---------------------------------------------------------------


def pending_totp_secret(user: User) -> str:
    """The secret being set up (created on first use); not active until confirmed."""
    from tracker.auth.totp import new_secret

    if user.totp_enabled_at is not None:
        raise AccountError(_("Two-factor authentication is already on."))
    if not user.totp_secret:
        user.totp_secret = new_secret()
        db.session.flush()
    return user.totp_secret


def confirm_totp(*, user: User, code: str) -> None:
    from tracker.auth.totp import verify_code

    if user.totp_enabled_at is not None:
        raise AccountError(_("Two-factor authentication is already on."))
    if not verify_code(user.id, user.totp_secret, code):
        raise WrongCode(_("That code is not right. Check your device's clock and try again."))
    user.totp_enabled_at = utcnow()
    db.session.flush()
    record_audit(action="enable_totp", entity=user, summary="two-factor authentication on")


def disable_totp(*, user: User, password: str, code: str) -> None:
    from tracker.auth.totp import verify_code

    if user.totp_enabled_at is None:
        raise AccountError(_("Two-factor authentication is not on."))
    if not verify_password(user, password):
        raise WrongPassword(_("Your password is not right."))
    if not verify_code(user.id, user.totp_secret, code):
        raise WrongCode(_("That code is not right."))
    user.totp_secret = None
    user.totp_enabled_at = None
    db.session.flush()
    record_audit(action="disable_totp", entity=user, summary="two-factor authentication off")


def reset_totp(*, user: User) -> None:
    """An administrator turns off a user's second factor (lost device)."""
    if user.totp_enabled_at is None and not user.totp_secret:
        return
    user.totp_secret = None
    user.totp_enabled_at = None
    ended = end_all_sessions(user, "two-factor reset")
    db.session.flush()
    record_audit(
        action="reset_totp",
        entity=user,
        summary=f"two-factor authentication reset by an administrator; {ended} session(s) ended",
    )


# --- Sessions --------------------------------------------------------------------------------


def active_sessions(user: User) -> list[UserSession]:
    """The user's live sessions (not ended and within both timeouts), newest first."""
    now = utcnow()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    absolute = timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])
    return list(
        db.session.scalars(
            select(UserSession)
            .where(
                UserSession.user_id == user.id,
                UserSession.ended_at.is_(None),
                UserSession.last_seen_at > now - idle,
                UserSession.created_at > now - absolute,
            )
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )


def end_user_session(*, user: User, session_id: int) -> bool:
    """End one of the user's own sessions; False if it is not theirs or already ended."""
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != user.id or row.ended_at is not None:
        return False
    _end(row, "ended by user", utcnow())
    return True


def is_current_session(row: UserSession, token: str | None) -> bool:
    return bool(token) and row.token_hash == _token_hash(token)


# --- Organisations ---------------------------------------------------------------------------


def _organisation_snapshot(org: Organisation) -> dict:
    return snapshot(org, extra={"present_in": sorted(j.code for j in org.present_in)})


def _check_organisation_name(name: str, *, exclude_id: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise AccountError(_("An organisation needs a name."))
    stmt = select(Organisation.id).where(func.lower(Organisation.name) == name.lower())
    if exclude_id is not None:
        stmt = stmt.where(Organisation.id != exclude_id)
    if db.session.scalar(stmt) is not None:
        raise DuplicateOrganisation(_("An organisation with this name already exists."))
    return name


def save_organisation(
    *,
    organisation: Organisation | None,
    name: str,
    short_name: str | None = None,
    website: str | None = None,
    present_in: list | None = None,
) -> Organisation:
    """Create (organisation=None) or update an organisation; audited with before/after."""
    name = _check_organisation_name(
        name, exclude_id=organisation.id if organisation is not None else None
    )
    creating = organisation is None
    if creating:
        organisation = Organisation(name=name)
        db.session.add(organisation)
        before = None
    else:
        before = _organisation_snapshot(organisation)
    organisation.name = name
    organisation.short_name = (short_name or "").strip() or None
    organisation.website = (website or "").strip() or None
    organisation.present_in = list(present_in or [])
    db.session.flush()
    after = _organisation_snapshot(organisation)
    if creating:
        record_audit(action="create", entity=organisation, after=after)
    elif before != after:
        action = "rename" if before.get("name") != after.get("name") else "update"
        record_audit(action=action, entity=organisation, before=before, after=after)
    return organisation
