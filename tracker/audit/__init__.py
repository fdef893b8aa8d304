"""Audit trail area: the service that records changes and the admin page that browses them."""

from __future__ import annotations


def install_guard() -> None:
    """Refuse, at flush time, any change to or deletion of an audit entry (once per process).

    Listening on sqlalchemy.orm.Session (the class) covers Flask-SQLAlchemy's scoped session
    and any other session, since their classes derive from it.
    """
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from tracker.audit.services import guard_audit_trail

    if not event.contains(Session, "before_flush", guard_audit_trail):
        event.listen(Session, "before_flush", guard_audit_trail)
