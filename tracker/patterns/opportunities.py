"""Knock-on opportunities: computing them from wins (for the refresh service) and reading them.

How a win becomes opportunities (DESIGN.md, "Knock-on opportunities"):
* Source: a proceeding with outcome win or partial win that is a win on right R (the rule of
  tracker/patterns/rules.py, evaluated for each right the proceeding counts for: its case's
  tags, crosswalked provisions, and its treatments).
* Instruments I behind the win on R: the instruments of the provisions invoked by the case or
  treated in the proceeding that the crosswalk maps to R (or to a child of R), plus the
  instrument of the forum when it is a treaty body or regional forum.
* Targets: every other STATE bound by one of I (a Ratification with ratified_on or
  ratified_year and no denounced_on), and, when the win came from a regional court or
  commission of a system (ECtHR -> COE), every current member of that system (left_on null).
* Score (higher first), computed only from public and network cases so that no organisation
  or restricted case moves a number outsiders see:
    40  no win on R yet in T
    10  per pending case on R in T (at most 3): they can cite the win now
     5  per network organisation present in T (at most 3)
   0-10 recency of the win (10 this year, 0 after ten years)
   0-10 forum level of the win (regional court 10 ... first instance 2)
* The basis is stored as JSON facts (instruments and articles, system, forum, year), never a
  case title, and worded at display time (translatable).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import distinct, func, or_, select

from tracker.access import case_filter
from tracker.auth.models import Organisation, organisation_jurisdictions
from tracker.cases.models import (
    Case,
    Proceeding,
    ProceedingTreatment,
    Status,
    Treatment,
    case_provisions,
    case_rights,
)
from tracker.extensions import db
from tracker.patterns import rules
from tracker.patterns.models import Opportunity, OpportunityStatus
from tracker.taxonomy.models import (
    Forum,
    ForumLevel,
    Instrument,
    Jurisdiction,
    JurisdictionKind,
    Provision,
    Ratification,
    Right,
    SystemMembership,
    provision_rights,
)
from tracker.types import Confidentiality

ACTIVE_STATUSES = (Status.FILED, Status.PENDING, Status.ON_APPEAL)
OPEN_LEVELS = (Confidentiality.PUBLIC, Confidentiality.NETWORK)
REGIONAL_LEVELS = (ForumLevel.REGIONAL_COURT, ForumLevel.REGIONAL_COMMISSION)
LEVEL_POINTS = {
    ForumLevel.REGIONAL_COURT: 10,
    ForumLevel.TREATY_BODY: 8,
    ForumLevel.REGIONAL_COMMISSION: 7,
    ForumLevel.CONSTITUTIONAL: 6,
    ForumLevel.APEX: 5,
    ForumLevel.UN_SPECIAL_PROCEDURE: 3,
    ForumLevel.APPEAL: 3,
    ForumLevel.FIRST_INSTANCE: 2,
}


@dataclass
class Candidate:
    """One (winning proceeding, right, target) the refresh wants to exist."""

    case_id: int
    proceeding_id: int
    right_id: int
    target_id: int
    instrument_id: int | None
    basis: dict[str, Any]
    level: ForumLevel
    decided: date | None


@dataclass
class _Win:
    proceeding_id: int
    case_id: int
    jurisdiction_id: int
    forum: Forum
    decided: date | None
    rights: set[int] = field(default_factory=set)


def _families() -> tuple[dict[int, set[int]], dict[int, int | None]]:
    parents = dict(db.session.execute(select(Right.id, Right.parent_id)).all())
    family: dict[int, set[int]] = {rid: {rid} for rid in parents}
    for rid, parent in parents.items():
        if parent is not None and parent in family:
            family[parent].add(rid)
    return family, parents


def compute_candidates(case_ids: Iterable[int] | None = None) -> list[Candidate]:
    """Every opportunity the wins of these cases (or of all cases) give rise to."""
    family, parents = _families()
    stmt = (
        select(
            Proceeding.id,
            Proceeding.case_id,
            Case.jurisdiction_id,
            Proceeding.forum_id,
            Proceeding.decided_on,
            Proceeding.filed_on,
        )
        .join(Case, Case.id == Proceeding.case_id)
        .where(Proceeding.outcome.in_(rules.WIN_OUTCOMES))
    )
    if case_ids is not None:
        case_ids = list(case_ids)
        if not case_ids:
            return []
        stmt = stmt.where(Proceeding.case_id.in_(case_ids))
    rows = db.session.execute(stmt).all()
    if not rows:
        return []
    forum_ids = {r[3] for r in rows}
    forums = {f.id: f for f in db.session.scalars(select(Forum).where(Forum.id.in_(forum_ids)))}
    wins = [_Win(r[0], r[1], r[2], forums[r[3]], r[4] or r[5]) for r in rows]
    source_cases = {w.case_id for w in wins}
    proceeding_ids = [w.proceeding_id for w in wins]

    # Case-level rights: tags, and provisions with their crosswalk rights.
    tags: dict[int, set[int]] = defaultdict(set)
    for case_id, right_id in db.session.execute(
        select(case_rights.c.case_id, case_rights.c.right_id).where(
            case_rights.c.case_id.in_(source_cases)
        )
    ):
        tags[case_id].add(right_id)
    case_provs: dict[int, set[int]] = defaultdict(set)
    for case_id, provision_id in db.session.execute(
        select(case_provisions.c.case_id, case_provisions.c.provision_id).where(
            case_provisions.c.case_id.in_(source_cases)
        )
    ):
        case_provs[case_id].add(provision_id)
    # Treatments of the winning proceedings.
    treat_rows = db.session.execute(
        select(
            ProceedingTreatment.proceeding_id,
            ProceedingTreatment.right_id,
            ProceedingTreatment.provision_id,
            ProceedingTreatment.treatment,
        ).where(ProceedingTreatment.proceeding_id.in_(proceeding_ids))
    ).all()
    all_provisions = {p for ps in case_provs.values() for p in ps} | {
        r[2] for r in treat_rows if r[2] is not None
    }
    prov_rights: dict[int, set[int]] = defaultdict(set)
    prov_info: dict[int, tuple[int, str, str]] = {}
    if all_provisions:
        for provision_id, right_id in db.session.execute(
            select(provision_rights.c.provision_id, provision_rights.c.right_id).where(
                provision_rights.c.provision_id.in_(all_provisions)
            )
        ):
            prov_rights[provision_id].add(right_id)
        for pid, inst_id, number, inst_code in db.session.execute(
            select(Provision.id, Provision.instrument_id, Provision.number, Instrument.code)
            .join(Instrument, Instrument.id == Provision.instrument_id)
            .where(Provision.id.in_(all_provisions))
        ):
            prov_info[pid] = (inst_id, number, inst_code)
    treatments: dict[int, list[tuple[set[int], int | None, Treatment]]] = defaultdict(list)
    for proceeding_id, right_id, provision_id, treatment in treat_rows:
        named = {right_id} if right_id is not None else set(prov_rights.get(provision_id, ()))
        treatments[proceeding_id].append((named, provision_id, Treatment(treatment)))

    def with_parents(ids: set[int]) -> set[int]:
        return ids | {parents[i] for i in ids if parents.get(i) is not None}

    # Which rights each winning proceeding is a win on (see rules.py).
    for win in wins:
        tagged = set(tags[win.case_id])
        for pid in case_provs[win.case_id]:
            tagged |= prov_rights.get(pid, set())
        treated = set()
        for named, _pid, _t in treatments[win.proceeding_id]:
            treated |= named
        for right_id in with_parents(tagged | treated):
            fam = family.get(right_id, {right_id})
            names = [t for named, _p, t in treatments[win.proceeding_id] if named & fam]
            upheld = any(t is Treatment.UPHELD for t in names)
            if upheld or (tagged & fam and not names):
                win.rights.add(right_id)
        # An opportunity per most specific right: drop a parent when a child is won too.
        win.rights = {
            r for r in win.rights if not any(parents.get(o) == r for o in win.rights if o != r)
        }

    # Binding: ratifications in force, and current members of systems.
    ratified: dict[int, set[int]] = defaultdict(set)  # instrument -> states
    for inst_id, jur_id in db.session.execute(
        select(Ratification.instrument_id, Ratification.jurisdiction_id)
        .join(Jurisdiction, Jurisdiction.id == Ratification.jurisdiction_id)
        .where(
            or_(Ratification.ratified_on.is_not(None), Ratification.ratified_year.is_not(None)),
            Ratification.denounced_on.is_(None),
            Jurisdiction.kind == JurisdictionKind.STATE,
        )
    ):
        ratified[inst_id].add(jur_id)
    members: dict[int, set[int]] = defaultdict(set)
    for system_id, state_id in db.session.execute(
        select(SystemMembership.system_id, SystemMembership.state_id)
        .join(Jurisdiction, Jurisdiction.id == SystemMembership.state_id)
        .where(SystemMembership.left_on.is_(None), Jurisdiction.kind == JurisdictionKind.STATE)
    ):
        members[system_id].add(state_id)
    systems = {
        j.id: j.code
        for j in db.session.scalars(
            select(Jurisdiction).where(Jurisdiction.kind == JurisdictionKind.SYSTEM)
        )
    }
    inst_codes = dict(db.session.execute(select(Instrument.id, Instrument.code)).all())

    out: list[Candidate] = []
    for win in wins:
        forum = win.forum
        regional_system = (
            forum.jurisdiction_id
            if forum.level in REGIONAL_LEVELS and forum.jurisdiction_id in systems
            else None
        )
        provisions = case_provs[win.case_id] | {
            p for _n, p, _t in treatments[win.proceeding_id] if p is not None
        }
        for right_id in win.rights:
            fam = family.get(right_id, {right_id})
            # Instruments (with their articles) whose provisions map to this right.
            articles: dict[int, list[str]] = defaultdict(list)
            for pid in sorted(provisions):
                if prov_rights.get(pid, set()) & fam and pid in prov_info:
                    inst_id, number, _code = prov_info[pid]
                    articles[inst_id].append(number)
            if forum.instrument_id and forum.level not in (
                ForumLevel.APEX,
                ForumLevel.CONSTITUTIONAL,
                ForumLevel.APPEAL,
                ForumLevel.FIRST_INSTANCE,
            ):
                articles.setdefault(forum.instrument_id, [])
            targets: dict[int, list[int]] = defaultdict(list)  # target -> instruments
            for inst_id in articles:
                for state in ratified.get(inst_id, ()):
                    targets[state].append(inst_id)
            regional_targets = members.get(regional_system, set()) if regional_system else set()
            for state in regional_targets:
                targets.setdefault(state, [])
            targets.pop(win.jurisdiction_id, None)
            for target_id, inst_ids in targets.items():
                basis = {
                    "instruments": [
                        {"code": inst_codes.get(i, "?"), "articles": articles[i]}
                        for i in sorted(set(inst_ids), key=lambda i: inst_codes.get(i, ""))
                    ],
                    "system": systems.get(regional_system)
                    if target_id in regional_targets
                    else None,
                    "forum": forum.code,
                    "forum_name": forum.name,
                    "level": forum.level.value,
                    "year": win.decided.year if win.decided else None,
                }
                out.append(
                    Candidate(
                        case_id=win.case_id,
                        proceeding_id=win.proceeding_id,
                        right_id=right_id,
                        target_id=target_id,
                        instrument_id=min(inst_ids) if inst_ids else None,
                        basis=basis,
                        level=forum.level,
                        decided=win.decided,
                    )
                )
    return out


# --- ranking ---------------------------------------------------------------------------------
@dataclass
class TargetFacts:
    wins: set[tuple[int, int]]  # (jurisdiction, right family) with a win
    pending: dict[tuple[int, int], int]  # (jurisdiction, right family) -> pending cases
    organisations: dict[int, int]  # jurisdiction -> active organisations present


def target_facts(target_ids: Iterable[int]) -> TargetFacts:
    """Ranking facts for target jurisdictions, from public and network cases only."""
    from tracker.patterns.queries import _case_pairs, _proceeding_pairs

    target_ids = list(set(target_ids))
    if not target_ids:
        return TargetFacts(set(), {}, {})
    base = select(Case.id).where(
        Case.confidentiality.in_(OPEN_LEVELS), Case.jurisdiction_id.in_(target_ids)
    )
    pp = _proceeding_pairs(base, [])
    won = (
        select(distinct(Case.jurisdiction_id), pp.c.right_id)
        .join(Case, Case.id == pp.c.case_id)
        .where(
            pp.c.outcome.in_(rules.WIN_OUTCOMES),
            or_(pp.c.is_upheld == 1, (pp.c.is_tag == 1) & (pp.c.is_treat == 0)),
        )
    )
    wins = {(j, r) for j, r in db.session.execute(won).all()}
    active = base.where(Case.status.in_(ACTIVE_STATUSES))
    cp = _case_pairs(active)
    pp_active = _proceeding_pairs(active, [])
    pairs = (
        select(cp.c.case_id, cp.c.right_id)
        .union(select(pp_active.c.case_id, pp_active.c.right_id).where(pp_active.c.is_treat == 1))
        .subquery()
    )
    pending = {
        (j, r): n
        for j, r, n in db.session.execute(
            select(Case.jurisdiction_id, pairs.c.right_id, func.count(distinct(pairs.c.case_id)))
            .join(Case, Case.id == pairs.c.case_id)
            .group_by(Case.jurisdiction_id, pairs.c.right_id)
        ).all()
    }
    orgs: dict[int, set[int]] = defaultdict(set)
    for org_id, jur_id in db.session.execute(
        select(Organisation.id, Organisation.country_id).where(
            Organisation.is_active.is_(True), Organisation.country_id.in_(target_ids)
        )
    ):
        orgs[jur_id].add(org_id)
    for org_id, jur_id in db.session.execute(
        select(
            organisation_jurisdictions.c.organisation_id,
            organisation_jurisdictions.c.jurisdiction_id,
        )
        .join(Organisation, Organisation.id == organisation_jurisdictions.c.organisation_id)
        .where(
            Organisation.is_active.is_(True),
            organisation_jurisdictions.c.jurisdiction_id.in_(target_ids),
        )
    ):
        orgs[jur_id].add(org_id)
    return TargetFacts(wins, pending, {j: len(o) for j, o in orgs.items()})


def score(
    *,
    right_id: int,
    target_id: int,
    level: ForumLevel | str,
    decided: date | None,
    facts: TargetFacts,
    today: date | None = None,
) -> float:
    today = today or date.today()
    points = 0.0 if (target_id, right_id) in facts.wins else 40.0
    points += 10.0 * min(facts.pending.get((target_id, right_id), 0), 3)
    points += 5.0 * min(facts.organisations.get(target_id, 0), 3)
    if decided is not None:
        age = max((today - decided).days / 365.25, 0.0)
        points += max(0.0, 10.0 * (1 - age / 10))
    points += LEVEL_POINTS.get(ForumLevel(level), 0)
    return round(points, 2)


# --- reading ---------------------------------------------------------------------------------
def visible_opportunities(
    user: Any,
    *,
    right_ids: Iterable[int] = (),
    target_ids: Iterable[int] = (),
    instrument_ids: Iterable[int] = (),
    statuses: Iterable[OpportunityStatus] = (OpportunityStatus.OPEN, OpportunityStatus.ASSIGNED),
):
    """A statement over the opportunities whose source case the user may see, best first.

    For the list page, the report ("open opportunities") and the API's /opportunities.
    """
    stmt = (
        select(Opportunity)
        .join(Case, Case.id == Opportunity.source_case_id)
        .where(case_filter(user))
    )
    right_ids, target_ids = list(right_ids), list(target_ids)
    instrument_ids, statuses = list(instrument_ids), list(statuses)
    if right_ids:
        stmt = stmt.where(Opportunity.right_id.in_(right_ids))
    if target_ids:
        stmt = stmt.where(Opportunity.target_jurisdiction_id.in_(target_ids))
    if instrument_ids:
        stmt = stmt.where(Opportunity.instrument_id.in_(instrument_ids))
    if statuses:
        stmt = stmt.where(Opportunity.status.in_(statuses))
    return stmt.order_by(Opportunity.score.desc(), Opportunity.id)


def basis_text(opportunity: Opportunity, target_name: str | None = None) -> str:
    """The basis in words: "Both bound by ECHR art. 5; European Court of Human Rights, 2021"."""
    try:
        data = json.loads(opportunity.basis or "{}")
    except ValueError:
        return opportunity.basis or ""
    parts = []
    instruments = data.get("instruments") or []
    if instruments:
        bound = "; ".join(
            i["code"]
            + (
                " " + _("art. %(numbers)s", numbers=", ".join(i["articles"]))
                if i.get("articles")
                else ""
            )
            for i in instruments
        )
        parts.append(_("both bound by %(instruments)s", instruments=bound))
    if data.get("system"):
        parts.append(_("both under the %(system)s system", system=data["system"]))
    forum = data.get("forum_name") or data.get("forum") or ""
    if data.get("year"):
        parts.append(_("win before the %(forum)s (%(year)s)", forum=forum, year=data["year"]))
    elif forum:
        parts.append(_("win before the %(forum)s", forum=forum))
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] if text else ""


def pending_cases_for(user: Any, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], list]:
    """Visible active cases per (target jurisdiction, right family) that could cite a win."""
    from tracker.patterns.queries import _case_pairs, _proceeding_pairs

    pairs = set(pairs)
    if not pairs:
        return {}
    targets = {t for t, _ in pairs}
    base = select(Case.id).where(
        case_filter(user), Case.jurisdiction_id.in_(targets), Case.status.in_(ACTIVE_STATUSES)
    )
    cp = _case_pairs(base)
    pp = _proceeding_pairs(base, [])
    union = (
        select(cp.c.case_id, cp.c.right_id)
        .union(select(pp.c.case_id, pp.c.right_id).where(pp.c.is_treat == 1))
        .subquery()
    )
    rows = db.session.execute(
        select(Case.jurisdiction_id, union.c.right_id, Case.id, Case.title)
        .join(Case, Case.id == union.c.case_id)
        .order_by(Case.title)
    ).all()
    out: dict[tuple[int, int], list] = defaultdict(list)
    for jur_id, right_id, case_id, title in rows:
        if (jur_id, right_id) in pairs and len(out[(jur_id, right_id)]) < 5:
            out[(jur_id, right_id)].append((case_id, title))
    return out


def organisations_in(target_ids: Iterable[int]) -> dict[int, list[Organisation]]:
    """Active organisations present in (or based in) each jurisdiction."""
    target_ids = set(target_ids)
    if not target_ids:
        return {}
    out: dict[int, dict[int, Organisation]] = defaultdict(dict)
    for org in db.session.scalars(
        select(Organisation).where(
            Organisation.is_active.is_(True), Organisation.country_id.in_(target_ids)
        )
    ):
        out[org.country_id][org.id] = org
    for org, jur_id in db.session.execute(
        select(Organisation, organisation_jurisdictions.c.jurisdiction_id)
        .join(
            organisation_jurisdictions,
            organisation_jurisdictions.c.organisation_id == Organisation.id,
        )
        .where(
            Organisation.is_active.is_(True),
            organisation_jurisdictions.c.jurisdiction_id.in_(target_ids),
        )
    ):
        out[jur_id][org.id] = org
    return {j: sorted(o.values(), key=lambda x: x.name) for j, o in out.items()}
