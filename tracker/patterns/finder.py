"""Forum finder: which regional and UN complaint procedures are open to a state's people.

For each forum with an instrument (treaty bodies, regional courts and commissions):
* the state must be bound by the instrument (a Ratification with ratified_on or ratified_year,
  not denounced);
* and its individual-complaint procedure must be accepted (Instrument.complaint_via,
  tracker/taxonomy/data/SOURCES.md):
    - complaint_via is an optional protocol: the state must be bound by that protocol;
    - complaint_via is the instrument itself: a declaration is needed
      (Ratification.complaints_accepted_on: CAT art. 22, ICERD art. 14, CPED art. 31,
      ICRMW art. 77, ACHR art. 62 for the Court, AFCHPR-PROT art. 34(6)), except for the ECHR
      and the African Charter, and for regional commissions (petitions to the Inter-American
      Commission open on ratification of the ACHR), where ratification alone suffices;
    - no complaint_via: the instrument has no individual complaint procedure.
* with a right: the instrument must have a provision that the crosswalk maps to the right (or
  one of its children); forums whose instrument does not cover the right are listed apart.
Special procedures (no instrument) are open to everyone and listed apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from tracker.extensions import db
from tracker.taxonomy.models import (
    Forum,
    ForumLevel,
    Instrument,
    Jurisdiction,
    Provision,
    Ratification,
    Right,
    provision_rights,
)

RATIFICATION_SUFFICES = frozenset({"ECHR", "ACHPR"})
_ARTICLE = re.compile(r"art\.\s*[\w().]+", re.IGNORECASE)


@dataclass
class ForumAccess:
    forum: Forum
    instrument: Instrument | None
    is_open: bool
    reason: str  # why (not) open, in words
    ratified_on: date | None = None
    ratified_year: int | None = None
    accepted_on: date | None = None  # declaration, or ratification of the protocol
    via: Instrument | None = None
    covers_right: bool = True
    provisions: tuple[str, ...] = ()  # codes of the instrument's provisions on the right


@dataclass
class FinderResult:
    jurisdiction: Jurisdiction
    right: Right | None
    open: list[ForumAccess]
    closed: list[ForumAccess]
    not_covering: list[ForumAccess]  # procedures open but the treaty has no article on it
    everyone: list[Forum]  # special procedures


def _declaration_article(instrument: Instrument) -> str | None:
    match = _ARTICLE.search(instrument.note or "")
    return match.group(0) if match else None


def _bound(r: Ratification | None) -> bool:
    return r is not None and r.is_party


def forum_finder(jurisdiction: Jurisdiction, right: Right | None = None) -> FinderResult:
    """The complaint procedures open (and not open, with why) to people in the jurisdiction."""
    forums = db.session.scalars(
        select(Forum).where(Forum.instrument_id.is_not(None)).order_by(Forum.level, Forum.code)
    ).all()
    everyone = db.session.scalars(
        select(Forum)
        .where(Forum.level == ForumLevel.UN_SPECIAL_PROCEDURE, Forum.instrument_id.is_(None))
        .order_by(Forum.code)
    ).all()
    ratifications = {
        r.instrument_id: r
        for r in db.session.scalars(
            select(Ratification).where(Ratification.jurisdiction_id == jurisdiction.id)
        )
    }
    covering: dict[int, list[str]] = {}
    if right is not None:
        family = {right.id} | {c.id for c in right.children}
        for inst_id, code in db.session.execute(
            select(Provision.instrument_id, Provision.code)
            .join(provision_rights, provision_rights.c.provision_id == Provision.id)
            .where(provision_rights.c.right_id.in_(family))
            .order_by(Provision.position, Provision.code)
        ):
            covering.setdefault(inst_id, [])
            if code not in covering[inst_id]:
                covering[inst_id].append(code)
    result = FinderResult(jurisdiction, right, [], [], [], list(everyone))
    for forum in forums:
        access = _access(forum, ratifications)
        if right is not None:
            access.covers_right = forum.instrument_id in covering
            access.provisions = tuple(covering.get(forum.instrument_id, ()))
        if not access.is_open:
            result.closed.append(access)
        elif access.covers_right:
            result.open.append(access)
        else:
            result.not_covering.append(access)
    return result


def _access(forum: Forum, ratifications: dict[int, Ratification]) -> ForumAccess:
    inst = forum.instrument
    r = ratifications.get(inst.id)
    access = ForumAccess(forum=forum, instrument=inst, is_open=False, reason="")
    if r is not None:
        access.ratified_on, access.ratified_year = r.ratified_on, r.ratified_year
    if not _bound(r):
        if r is not None and r.denounced_on is not None:
            access.reason = _(
                "Denounced %(instrument)s (effective %(date)s).",
                instrument=inst.short_title,
                date=r.denounced_on.isoformat(),
            )
        else:
            access.reason = _("Not a party to %(instrument)s.", instrument=inst.short_title)
        return access
    via = inst.complaint_via
    access.via = via
    if via is None:
        access.reason = _(
            "Party to %(instrument)s, which has no individual complaint procedure.",
            instrument=inst.short_title,
        )
        return access
    if via.id == inst.id:
        if inst.code in RATIFICATION_SUFFICES or forum.level == ForumLevel.REGIONAL_COMMISSION:
            access.is_open = True
            access.reason = _(
                "Party to %(instrument)s: ratification alone opens individual complaints.",
                instrument=inst.short_title,
            )
            return access
        article = _declaration_article(inst) or _("the optional declaration")
        if r.complaints_accepted_on is not None:
            access.is_open = True
            access.accepted_on = r.complaints_accepted_on
            access.reason = _(
                "Party to %(instrument)s and made the %(article)s declaration.",
                instrument=inst.short_title,
                article=article,
            )
        else:
            access.reason = _(
                "Ratified %(instrument)s but has not made the %(article)s declaration.",
                instrument=inst.short_title,
                article=article,
            )
        return access
    protocol = ratifications.get(via.id)
    if _bound(protocol):
        access.is_open = True
        access.accepted_on = protocol.ratified_on
        access.reason = _(
            "Party to %(instrument)s and to %(protocol)s.",
            instrument=inst.short_title,
            protocol=via.short_title,
        )
    else:
        access.reason = _(
            "Ratified %(instrument)s but not %(protocol)s, which opens individual complaints.",
            instrument=inst.short_title,
            protocol=via.short_title,
        )
    return access


def states() -> list[Any]:
    """States for the finder's picker, by name."""
    from tracker.taxonomy.models import JurisdictionKind

    return db.session.scalars(
        select(Jurisdiction)
        .where(Jurisdiction.kind == JurisdictionKind.STATE)
        .order_by(Jurisdiction.name)
    ).all()
