"""Writes audit entries in the caller's transaction, so they commit or roll back with it."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import inspect

from tracker.audit.models import AuditEntry
from tracker.extensions import db

# Never copied into the audit trail.
SECRET_FIELDS = frozenset({"password_hash", "totp_secret", "token_hash"})


def _jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    return value


def snapshot(record: Any, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The record's column values (secrets left out), plus any extra values such as tags."""
    values = {
        attr.key: _jsonable(getattr(record, attr.key))
        for attr in inspect(record).mapper.column_attrs
        if attr.key not in SECRET_FIELDS
    }
    if extra:
        values.update({k: _jsonable(v) for k, v in extra.items()})
    return values


def record_audit(
    *,
    action: str,
    entity: Any | None = None,
    entity_type: str | None = None,
    entity_id: Any | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    summary: str | None = None,
    user_id: int | None = None,
) -> AuditEntry:
    """Add an audit entry to the session (flushed with the rest of the unit of work)."""
    if entity is not None and hasattr(entity, "_get_current_object"):
        entity = entity._get_current_object()  # e.g. current_user, a werkzeug LocalProxy
    if entity is not None:
        entity_type = entity_type or type(entity).__tablename__
        entity_id = entity_id if entity_id is not None else getattr(entity, "id", None)
    if before is not None and after is not None:
        # Keep only what changed, so the trail reads as a diff.
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        before = {k: before.get(k) for k in sorted(changed)}
        after = {k: after.get(k) for k in sorted(changed)}
    if (
        user_id is None
        and has_request_context()
        and getattr(current_user, "is_authenticated", False)
    ):
        user_id = current_user.id
    entry = AuditEntry(
        action=action,
        entity_type=entity_type or "unknown",
        entity_id=None if entity_id is None else str(entity_id),
        before=before,
        after=after,
        summary=summary,
        user_id=user_id,
        ip_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry


class AuditTrailImmutable(RuntimeError):
    """Raised when code tries to change or delete an audit entry."""


def guard_audit_trail(session, _flush_context, _instances) -> None:
    """The audit table is append-only as far as the application is concerned."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEntry) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditTrailImmutable("audit entries cannot be changed or deleted")
