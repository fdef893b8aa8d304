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
* instruments of a system whose law binds through membership (MEMBERSHIP_SYSTEMS: the EU
  Charter) bind every current member state of that system (SystemMembership), not through
  ratification: the data has no ratifications of them;
* with a right: the instrument must have a provision that the crosswalk maps to the right (or
  one of its children); forums whose instrument does not cover the right are listed apart.
Special procedures (no instrument) are open to everyone and listed apart.

The forum's note shown to users is user_note(): forums.csv's notes are written for the people
who maintain the data, and USER_NOTES words the ones that read like it for users.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
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
    SystemMembership,
    provision_rights,
)

RATIFICATION_SUFFICES = frozenset({"ECHR", "ACHPR"})

# Systems whose instruments bind their member states through membership, not ratification:
# the EU Charter has the legal value of the Treaties (art. 6(1) TEU) and binds the Member
# States when they implement EU law (art. 51 of the Charter).
MEMBERSHIP_SYSTEMS = frozenset({"EU"})
# How people reach the system's court when its instrument has no individual complaint.
MEMBERSHIP_ROUTES = {
    "EU": _l(
        "There is no individual complaint under the Charter: cases reach the Court of Justice "
        "mostly through a national court's request for a preliminary ruling (art. 267 TFEU)."
    ),
}

# What users read under a forum, where forums.csv's note is written for maintainers.
USER_NOTES = {
    # Shown under "no fixed limit" (the forum has no filing_limit_months).
    "HRC": _l(
        "A communication submitted more than five years after domestic "
        "remedies were exhausted may be rejected as an abuse of the right of submission, "
        "unless the delay is justified (rule 99(c) of the Committee's rules of procedure)."
    ),
    "CMW": _l(
        "Individual communications (art. 77) had not become operative when this list was last "
        "checked: they need declarations by ten States."
    ),
}
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
    member_since: date | None = None  # bound through membership of the instrument's system
    note: str | None = None  # the forum's note, worded for users (user_note)


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


def user_note(forum: Forum) -> str | None:
    """The forum's note as users should read it (USER_NOTES, else the data file's note)."""
    note = USER_NOTES.get(forum.code)
    return str(note) if note is not None else forum.note


def _memberships(jurisdiction: Jurisdiction) -> dict[int, SystemMembership]:
    return {
        m.system_id: m
        for m in db.session.scalars(
            select(SystemMembership).where(SystemMembership.state_id == jurisdiction.id)
        )
    }


def _ratifications(jurisdiction: Jurisdiction) -> dict[int, Ratification]:
    return {
        r.instrument_id: r
        for r in db.session.scalars(
            select(Ratification).where(Ratification.jurisdiction_id == jurisdiction.id)
        )
    }


def forum_access(forum: Forum, jurisdiction: Jurisdiction) -> ForumAccess:
    """Whether one forum's complaint procedure is open to people in the jurisdiction, and why."""
    return _access(forum, _ratifications(jurisdiction), memberships=_memberships(jurisdiction))


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
    ratifications = _ratifications(jurisdiction)
    memberships = _memberships(jurisdiction)
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
        access = _access(forum, ratifications, memberships=memberships)
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


def _access(
    forum: Forum,
    ratifications: dict[int, Ratification],
    *,
    memberships: dict[int, SystemMembership] | None = None,
) -> ForumAccess:
    """The access to one forum, from the state's ratifications and (for the instruments of
    MEMBERSHIP_SYSTEMS) its memberships by system id; forum_access() looks both up."""
    inst = forum.instrument
    if inst.system is not None and inst.system.code in MEMBERSHIP_SYSTEMS:
        return _access_by_membership(forum, (memberships or {}).get(inst.system_id))
    r = ratifications.get(inst.id)
    access = ForumAccess(
        forum=forum, instrument=inst, is_open=False, reason="", note=user_note(forum)
    )
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


def _access_by_membership(forum: Forum, membership: SystemMembership | None) -> ForumAccess:
    inst = forum.instrument
    system = inst.system
    access = ForumAccess(
        forum=forum, instrument=inst, is_open=False, reason="", note=user_note(forum)
    )
    names = {"system": system.name, "instrument": inst.short_title}
    if membership is None:
        access.reason = _(
            "Not a member of the %(system)s, so %(instrument)s does not bind it.", **names
        )
        return access
    if membership.left_on is not None:
        access.reason = _(
            "Left the %(system)s on %(date)s: %(instrument)s no longer binds it.",
            date=membership.left_on.isoformat(),
            **names,
        )
        return access
    access.member_since = membership.joined_on
    if membership.joined_on is not None:
        bound = _(
            "Member of the %(system)s since %(date)s: bound by %(instrument)s through membership.",
            date=membership.joined_on.isoformat(),
            **names,
        )
    else:
        bound = _("Member of the %(system)s: bound by %(instrument)s through membership.", **names)
    via = inst.complaint_via
    access.via = via
    if via is None:
        route = MEMBERSHIP_ROUTES.get(system.code)
        access.reason = (
            f"{bound} {route}"
            if route
            else f"{bound} " + _("It has no individual complaint procedure.")
        )
        return access
    access.is_open = True
    access.reason = bound
    return access


def states() -> list[Any]:
    """States for the finder's picker, by name."""
    from tracker.taxonomy.models import JurisdictionKind

    return db.session.scalars(
        select(Jurisdiction)
        .where(Jurisdiction.kind == JurisdictionKind.STATE)
        .order_by(Jurisdiction.name)
    ).all()
