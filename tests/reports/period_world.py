"""Data for the report's period and matrix tests, and its figures worked out by hand.

expected_figures() never calls the code under test: it counts the proceedings listed in
PROCEEDINGS (filed, outcome) for the cases an audience may receive, so a report that ignored
the period, or counted a case its audience may not see, shows a different number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from tracker.cases.models import Outcome, ProceedingTreatment, Status, Treatment
from tracker.types import Confidentiality, Role

C = Confidentiality
WIN, LOSS, PENDING = Outcome.WIN, Outcome.LOSS, Outcome.NONE_YET

# title: (level, lead is the user's organisation, jurisdiction, tag, [(filed, decided, outcome)])
CASES = {
    "Public case, Greece": (
        C.PUBLIC,
        False,
        "GR",
        "liberty",
        [(date(2022, 3, 1), date(2023, 1, 10), WIN), (date(2022, 9, 1), None, PENDING)],
    ),
    "Network case, France": (
        C.NETWORK,
        False,
        "FR",
        None,  # no right tag: liberty only through ECHR 5 (the crosswalk)
        [(date(2024, 2, 1), date(2024, 9, 1), LOSS)],
    ),
    "Own case, Greece": (
        C.ORGANISATION,
        True,
        "GR",
        "refoulement",
        [(date(2024, 3, 1), date(2024, 11, 1), WIN), (date(2021, 1, 1), date(2021, 6, 1), LOSS)],
    ),
    "Hidden case of another organisation": (
        C.ORGANISATION,
        False,
        "FR",
        "liberty",
        [(date(2024, 4, 1), date(2024, 5, 1), WIN)],
    ),
    "Restricted case, Greece": (
        C.RESTRICTED,
        True,
        "GR",
        "liberty",
        [(date(2024, 5, 1), date(2024, 6, 1), WIN)],
    ),
}
LEVELS = {
    "public": {C.PUBLIC},
    "network": {C.PUBLIC, C.NETWORK},
    "organisation": {C.PUBLIC, C.NETWORK, C.ORGANISATION},
}


@dataclass
class PeriodWorld:
    user: object  # litigator of the organisation, on the restricted case's team
    viewer: object  # same organisation, no team: sees exactly the organisation audience


def make_period_world(factory, db) -> PeriodWorld:
    org = factory.organisation("Asylum Aid Network")
    other = factory.organisation("Frontier Law Centre")
    user = factory.user(Role.LITIGATOR, organisation=org)
    viewer = factory.user(Role.VIEWER, organisation=org)
    group = factory.right("personal-freedom", "Personal freedom")
    rights = {
        "liberty": factory.right("liberty", "Liberty", parent_id=group.id),
        "refoulement": factory.right("refoulement", "Non-refoulement"),
    }
    art5 = factory.provision("ECHR", "5", rights=[rights["liberty"]])
    states = {
        "GR": factory.jurisdiction("GR", "Greece"),
        "FR": factory.jurisdiction("FR", "France"),
    }
    forum = factory.forum("ECTHR", jurisdiction=states["FR"], name="European Court")
    for title, (level, own, jur, tag, procs) in CASES.items():
        case = factory.case(
            organisation=org if own else other,
            confidentiality=level,
            title=title,
            jurisdiction=states[jur],
            team=[user] if level == C.RESTRICTED else [],
            status=Status.DECIDED,
        )
        case.rights = [rights[tag]] if tag else []
        case.provisions = [art5] if tag is None else []
        db.session.commit()
        for filed, decided, outcome in procs:
            proc = factory.proceeding(
                case,
                forum=forum,
                filed_on=filed,
                decided_on=decided,
                outcome=outcome,
                status=Status.DECIDED if decided else Status.PENDING,
            )
            if tag == "liberty" and outcome == WIN:
                proc.treatments = [ProceedingTreatment(provision=art5, treatment=Treatment.UPHELD)]
        db.session.commit()
    return PeriodWorld(user=user, viewer=viewer)


def expected_figures(world, audience: str, start: date | None, end: date | None) -> dict:
    """The headline figures, counted by hand from CASES (the period selects filing dates)."""

    def in_period(filed: date) -> bool:
        return (start is None or filed >= start) and (end is None or filed <= end)

    cases, jurisdictions, procs = set(), set(), []
    for title, (level, own, jur, _tag, rows) in CASES.items():
        if level not in LEVELS[audience] or (level == C.ORGANISATION and not own):
            continue
        mine = [row for row in rows if in_period(row[0])]
        if mine:
            cases.add(title)
            jurisdictions.add(jur)
            procs.extend(mine)
    decided = [p for p in procs if p[2] != PENDING]
    wins = [p for p in decided if p[2] == WIN]
    rate = f"{round(100 * len(wins) / len(decided))}%" if decided else "\u2013"
    return {
        "Cases": str(len(cases)),
        "Proceedings": str(len(procs)),
        "Wins": str(len(wins)),
        "Win rate": rate,
        "Jurisdictions": str(len(jurisdictions)),
    }


def headline_in(text: str, label: str, value: str) -> bool:
    """The label followed by its figure in extracted text (a line break or spaces between)."""
    return (
        re.search(rf"(^|\n){re.escape(label)}\s*\n?\s*{re.escape(value)}(\s|$)", text) is not None
    )


def expected_proceedings(audience: str, start: date | None, end: date | None) -> list[str]:
    """The filing dates of the proceedings a proceedings export lists, worked out by hand:
    those filed in the period, of the cases the audience may receive (sorted)."""
    filed = []
    for _title, (level, own, _jur, _tag, rows) in CASES.items():
        if level not in LEVELS[audience] or (level == C.ORGANISATION and not own):
            continue
        filed += [
            row[0].isoformat()
            for row in rows
            if (start is None or row[0] >= start) and (end is None or row[0] <= end)
        ]
    return sorted(filed)
