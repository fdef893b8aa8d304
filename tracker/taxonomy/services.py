"""Administrators' edits of the reference data: instruments' titles, provisions, rights.

Every function validates, changes the row, marks it as edited in the app (`edited_at`, so
`tracker reference load` keeps it), writes an audit entry with the before/after values and
flushes; the route commits once. Domain problems raise ReferenceEditError naming the form
field they belong to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from tracker.audit.services import record_audit, snapshot
from tracker.extensions import db
from tracker.taxonomy.models import Instrument, Provision, Right, provision_rights
from tracker.taxonomy.reference import shipped_keys
from tracker.types import utcnow

NUMBER_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9().\-]*")
RIGHT_CODE_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

# How the records that refer to a provision or a right are named in a refusal. Tables of other
# areas that are not listed here are named after the table.
USAGE_LABELS = {
    "case_rights": _l("cases"),
    "case_provisions": _l("cases"),
    "proceeding_treatments": _l("proceedings (how a forum treated it)"),
    "pleading_rights": _l("model pleadings"),
    "pleading_provisions": _l("model pleadings"),
    "opportunities": _l("knock-on opportunities"),
}


class ReferenceEditError(Exception):
    """A change the reference data cannot take; `field` names the form field, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class StaleEdit(ReferenceEditError):
    """Someone saved the record after this form was opened."""


class InUse(ReferenceEditError):
    """The record is used elsewhere and cannot be deleted."""


# --- helpers ---------------------------------------------------------------------------------
def version_of(record: Instrument | Provision | Right) -> str:
    """The token a form carries to detect a concurrent edit: when the row was last edited."""
    return record.edited_at.isoformat() if record.edited_at is not None else ""


def _check_version(record: Any, version: str | None) -> None:
    if version is not None and version != version_of(record):
        raise StaleEdit(
            _(
                "Someone else saved this record after you opened it. Your changes were not "
                "saved: open it again to see the current version, then redo them."
            )
        )


def _mark_edited(record: Any) -> None:
    record.edited_at = utcnow()


def _derived_data_changed() -> None:
    """The crosswalk or the rights hierarchy changed: numbers derived from them are stale.

    Called inside the unit of work of the edit, after the flush: the patterns page's facts
    and totals are rebuilt in the same transaction (seconds at 100,000 cases; such edits are
    rare). Knock-on opportunities follow at their nightly `tracker opportunities refresh`.
    """
    from tracker.patterns import facts

    facts.rebuild()


def provision_snapshot(provision: Provision) -> dict[str, Any]:
    return snapshot(provision, extra={"rights": sorted(r.code for r in provision.rights)})


def _same(before: dict[str, Any], after: dict[str, Any]) -> bool:
    ignore = {"edited_at"}
    return {k: v for k, v in before.items() if k not in ignore} == {
        k: v for k, v in after.items() if k not in ignore
    }


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _required(value: str | None, field_name: str, max_len: int) -> str:
    value = _clean(value)
    if value is None:
        raise ReferenceEditError(_("This field is required."), field_name)
    if len(value) > max_len:
        raise ReferenceEditError(
            _("At most %(n)d characters.", n=max_len),
            field_name,
        )
    return value


def is_shipped_provision(provision: Provision) -> bool:
    return (provision.instrument.code, provision.number) in shipped_keys().provisions


def is_shipped_right(right: Right) -> bool:
    return right.code in shipped_keys().rights


@dataclass
class Usage:
    """What refers to a provision or a right, for the delete page."""

    used_by: list[str] = field(default_factory=list)  # kinds of records that use it
    children: list[Right] = field(default_factory=list)
    mapped: list[str] = field(default_factory=list)  # crosswalk partners, as labels
    shipped: bool = False

    @property
    def can_delete(self) -> bool:
        return not (self.used_by or self.children or self.shipped)


def _used_by(table_name: str, row_id: int) -> list[str]:
    """The kinds of records (outside the crosswalk and the rights tree) that refer to a row.

    Walks every foreign key to the table, so references that other areas add later are
    found without changes here. Existence only, never counts: an administrator may not see
    every case that uses a right (restricted cases), and a count would reveal them.
    """
    found: list[str] = []
    for table in db.metadata.sorted_tables:
        if table.name in (provision_rights.name, table_name):
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name != table_name:
                continue
            hit = db.session.scalar(select(fk.parent).where(fk.parent == row_id).limit(1))
            if hit is not None:
                label = str(USAGE_LABELS.get(table.name, table.name.replace("_", " ")))
                if label not in found:
                    found.append(label)
    return found


# --- instruments -----------------------------------------------------------------------------
def update_instrument(
    *, instrument: Instrument, short_title: str, title: str, version: str | None = None
) -> bool:
    """Change an instrument's titles. Returns False when nothing changed (nothing written)."""
    _check_version(instrument, version)
    short_title = _required(short_title, "short_title", 120)
    title = _required(title, "title", 400)
    before = snapshot(instrument)
    instrument.short_title, instrument.title = short_title, title
    after = snapshot(instrument)
    if _same(before, after):
        return False
    _mark_edited(instrument)
    db.session.flush()
    record_audit(
        action="instrument.update",
        entity=instrument,
        before=before,
        after=snapshot(instrument),
        summary=instrument.short_title,
    )
    db.session.flush()
    return True


# --- provisions ------------------------------------------------------------------------------
def _clean_number(number: str | None) -> str:
    number = _required(number, "number", 20)
    if not NUMBER_PATTERN.fullmatch(number):
        raise ReferenceEditError(
            _("Use letters, digits, dots, hyphens and brackets, e.g. 5, P4-4 or 3(1)."), "number"
        )
    return number


def _check_number_free(instrument: Instrument, number: str, exclude_id: int | None) -> str:
    code = f"{instrument.code}:{number}"
    if len(code) > 60:
        raise ReferenceEditError(_("This number is too long for this instrument."), "number")
    stmt = select(Provision).where(
        (Provision.code == code)
        | ((Provision.instrument_id == instrument.id) & (Provision.number == number))
    )
    if exclude_id is not None:
        stmt = stmt.where(Provision.id != exclude_id)
    if db.session.scalars(stmt.limit(1)).first() is not None:
        raise ReferenceEditError(
            _(
                "%(instrument)s already has a provision numbered %(number)s.",
                instrument=instrument.short_title,
                number=number,
            ),
            "number",
        )
    return code


def create_provision(
    *,
    instrument: Instrument,
    number: str,
    title: str,
    text: str | None = None,
    placeholder: bool = False,
    rights: Iterable[Right] = (),
) -> Provision:
    number = _clean_number(number)
    title = _required(title, "title", 300)
    code = _check_number_free(instrument, number, None)
    position = db.session.scalar(
        select(func.coalesce(func.max(Provision.position), 0)).where(
            Provision.instrument_id == instrument.id
        )
    )
    provision = Provision(
        code=code,
        instrument=instrument,
        number=number,
        title=title,
        text=_clean(text),
        placeholder=bool(placeholder),
        position=position + 1,
        rights=list(rights),
    )
    _mark_edited(provision)
    db.session.add(provision)
    db.session.flush()
    record_audit(
        action="provision.create",
        entity=provision,
        after=provision_snapshot(provision),
        summary=f"{instrument.short_title} {number}",
    )
    db.session.flush()
    if provision.rights:
        _derived_data_changed()
    return provision


def update_provision(
    *,
    provision: Provision,
    number: str,
    title: str,
    text: str | None,
    placeholder: bool,
    rights: Iterable[Right],
    version: str | None = None,
) -> bool:
    """Change a provision and its crosswalk. Returns False when nothing changed."""
    _check_version(provision, version)
    number = _clean_number(number)
    title = _required(title, "title", 300)
    before = provision_snapshot(provision)
    if number != provision.number:
        if is_shipped_provision(provision):
            raise ReferenceEditError(
                _(
                    "This provision comes from the shipped reference data: its number cannot "
                    "change (the next reference load would add the original again). Add a new "
                    "provision instead."
                ),
                "number",
            )
        provision.code = _check_number_free(provision.instrument, number, provision.id)
    before_rights = set(before["rights"])
    provision.number = number
    provision.title = title
    provision.text = _clean(text)
    provision.placeholder = bool(placeholder)
    provision.rights = sorted(set(rights), key=lambda r: r.id)
    after = provision_snapshot(provision)
    if _same(before, after):
        return False
    _mark_edited(provision)
    db.session.flush()
    record_audit(
        action="provision.update",
        entity=provision,
        before=before,
        after=provision_snapshot(provision),
        summary=f"{provision.instrument.short_title} {provision.number}",
    )
    db.session.flush()
    if set(after["rights"]) != before_rights:
        _derived_data_changed()
    return True


def provision_usage(provision: Provision) -> Usage:
    return Usage(
        used_by=_used_by("provisions", provision.id),
        mapped=[r.name for r in provision.rights],
        shipped=is_shipped_provision(provision),
    )


def delete_provision(*, provision: Provision) -> None:
    usage = provision_usage(provision)
    if usage.shipped:
        raise InUse(
            _(
                "This provision comes from the shipped reference data, so the next reference "
                "load would add it again. Edit it instead."
            )
        )
    if usage.used_by:
        raise InUse(
            _(
                "This provision is in use (by %(kinds)s), so it cannot be deleted.",
                kinds=", ".join(usage.used_by),
            )
        )
    before = provision_snapshot(provision)
    provision_id, label = provision.id, f"{provision.instrument.short_title} {provision.number}"
    had_rights = bool(provision.rights)
    db.session.execute(
        delete(provision_rights).where(provision_rights.c.provision_id == provision_id)
    )
    db.session.expire(provision, ["rights"])
    db.session.delete(provision)
    db.session.flush()
    record_audit(
        action="provision.delete",
        entity_type="provisions",
        entity_id=provision_id,
        before=before,
        summary=label,
    )
    db.session.flush()
    if had_rights:
        _derived_data_changed()


# --- rights ----------------------------------------------------------------------------------
def _check_parent(right: Right | None, parent: Right | None) -> None:
    """The taxonomy has two levels: groups (no parent) and the rights under them."""
    if parent is None:
        return
    if right is not None and parent.id == right.id:
        raise ReferenceEditError(_("A right cannot be its own parent."), "parent")
    if parent.parent_id is not None:
        raise ReferenceEditError(
            _(
                "%(name)s is itself under a group. The taxonomy has two levels: choose a group "
                "(a right without a parent).",
                name=parent.name,
            ),
            "parent",
        )
    if right is not None and right.children:
        raise ReferenceEditError(
            _(
                "%(name)s is a group with rights under it, so it cannot be placed under "
                "another group. Move its rights first.",
                name=right.name,
            ),
            "parent",
        )


def _next_position(parent: Right | None) -> int:
    where = Right.parent_id.is_(None) if parent is None else Right.parent_id == parent.id
    return (db.session.scalar(select(func.coalesce(func.max(Right.position), 0)).where(where))) + 1


def right_snapshot(right: Right) -> dict[str, Any]:
    return snapshot(right, extra={"parent": right.parent.code if right.parent else None})


def create_right(
    *, code: str, name: str, description: str | None = None, parent: Right | None = None
) -> Right:
    code = _required(code, "code", 60)
    if not RIGHT_CODE_PATTERN.fullmatch(code):
        raise ReferenceEditError(
            _("Use lower-case letters and digits joined by hyphens, e.g. right-to-water."), "code"
        )
    if db.session.scalar(select(Right.id).where(Right.code == code)) is not None:
        raise ReferenceEditError(_("A right with the code %(code)s exists.", code=code), "code")
    name = _required(name, "name", 200)
    _check_parent(None, parent)
    right = Right(
        code=code,
        name=name,
        description=_clean(description),
        parent=parent,
        position=_next_position(parent),
    )
    _mark_edited(right)
    db.session.add(right)
    db.session.flush()
    record_audit(action="right.create", entity=right, after=right_snapshot(right), summary=name)
    db.session.flush()
    if parent is not None:
        _derived_data_changed()
    return right


def update_right(
    *,
    right: Right,
    name: str,
    description: str | None,
    parent: Right | None,
    version: str | None = None,
) -> bool:
    """Change a right's name, description or group. Returns False when nothing changed."""
    _check_version(right, version)
    name = _required(name, "name", 200)
    _check_parent(right, parent)
    before = right_snapshot(right)
    moved = (parent.id if parent else None) != right.parent_id
    right.name = name
    right.description = _clean(description)
    if moved:
        right.position = _next_position(parent)
        right.parent = parent
    after = right_snapshot(right)
    if _same(before, after):
        return False
    _mark_edited(right)
    db.session.flush()
    record_audit(
        action="right.update",
        entity=right,
        before=before,
        after=right_snapshot(right),
        summary=right.name,
    )
    db.session.flush()
    if moved:
        _derived_data_changed()
    return True


def right_usage(right: Right) -> Usage:
    mapped = db.session.scalars(
        select(Provision)
        .join(provision_rights, provision_rights.c.provision_id == Provision.id)
        .where(provision_rights.c.right_id == right.id)
        .order_by(Provision.code)
    ).all()
    return Usage(
        used_by=_used_by("rights", right.id),
        children=list(right.children),
        mapped=[p.code for p in mapped],
        shipped=is_shipped_right(right),
    )


def delete_right(*, right: Right) -> None:
    usage = right_usage(right)
    if usage.shipped:
        raise InUse(
            _(
                "This right comes from the shipped reference data, so the next reference load "
                "would add it again. Edit it instead."
            )
        )
    if usage.children:
        raise InUse(
            _(
                "%(name)s has rights under it (%(children)s): move or delete them first.",
                name=right.name,
                children=", ".join(c.name for c in usage.children),
            )
        )
    if usage.used_by:
        raise InUse(
            _(
                "This right is in use (by %(kinds)s), so it cannot be deleted.",
                kinds=", ".join(usage.used_by),
            )
        )
    before = right_snapshot(right)
    before["crosswalk"] = usage.mapped
    right_id, label = right.id, right.name
    db.session.execute(delete(provision_rights).where(provision_rights.c.right_id == right_id))
    for provision in db.session.identity_map.values():
        if isinstance(provision, Provision):
            db.session.expire(provision, ["rights"])
    db.session.delete(right)
    db.session.flush()
    record_audit(
        action="right.delete",
        entity_type="rights",
        entity_id=right_id,
        before=before,
        summary=label,
    )
    db.session.flush()
    if usage.mapped or before.get("parent"):
        _derived_data_changed()
