"""The case list's total, facets, sort and pages against a direct Python computation.

A small random docket (every confidentiality level, partners, team, tags, crosswalked
provisions, proceedings with treatments and filing dates, ties in the sort columns) is read
through the list's own functions and pages, and compared with what the rules say in Python:
visibility by can_see_case() (the twin of case_filter() that tests/security proves), the right
filter's counting rule (tag, crosswalk or treatment, a parent counting its children) and the
documented sort (NULLs last, then the newest id first).
"""

from __future__ import annotations

import random
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from tracker.access import can_see_case
from tracker.cases import queries
from tracker.cases.filters import parse_filters
from tracker.cases.models import (
    Case,
    CaseMember,
    Outcome,
    Proceeding,
    ProceedingTreatment,
    Status,
    TeamRole,
    Treatment,
)
from tracker.types import Confidentiality, Role

N_CASES = 48
PER_PAGE = 5  # many pages, so that the pages read from the end are exercised too


@pytest.fixture()
def docket(db, factory):
    rng = random.Random(20261204)
    orgs = [factory.organisation(f"Org {c}") for c in "ABC"]
    viewer = factory.user(role=Role.VIEWER, organisation=orgs[0])
    fr, de, gr = (factory.jurisdiction(c) for c in ("FR", "DE", "GR"))
    forums = [
        factory.forum("FR-CE", jurisdiction=fr),
        factory.forum("DE-BVG", jurisdiction=de),
        factory.forum("GR-COS", jurisdiction=gr),
    ]
    protection = factory.right("protection")
    children = [
        factory.right("non-refoulement", parent=protection),
        factory.right("asylum", parent=protection),
    ]
    rights = [protection, *children, factory.right("liberty"), factory.right("health")]
    provisions = [
        factory.provision("ECHR", "5", rights=[rights[3]]),
        factory.provision("ECHR", "3", rights=[children[0]]),
        factory.provision("ICCPR", "9"),
        factory.provision("CAT", "3", rights=[children[0], rights[4]]),
    ]
    words = ["alpha", "beta", "gamma", "delta"]
    base = datetime(2025, 6, 1, tzinfo=UTC)
    for _ in range(N_CASES):
        case = Case(
            title=rng.choice(words),  # ties on purpose
            case_type="individual_complaint",
            summary=rng.choice(["Detention of a family.", "Removal order.", "Health care."]),
            jurisdiction=rng.choice([fr, de, gr]),
            lead_organisation=rng.choice(orgs),
            confidentiality=rng.choice(list(Confidentiality)),
            status=rng.choice(list(Status)),
            outcome=rng.choice(list(Outcome)),
        )
        case.partners = rng.sample(orgs, rng.randint(0, 1))
        if rng.random() < 0.25:
            case.team.append(CaseMember(user=viewer, role=TeamRole.MEMBER))
        case.rights = rng.sample(rights, rng.randint(0, 2))
        case.provisions = rng.sample(provisions, rng.randint(0, 2))
        db.session.add(case)
        for _ in range(rng.randint(0, 2)):
            proc = Proceeding(
                case=case,
                forum=rng.choice(forums),
                status=Status.PENDING,
                outcome=Outcome.NONE_YET,
                filed_on=rng.choice([None, date(2021, 3, 1), date(2023, 5, 2), date(2024, 7, 3)]),
            )
            db.session.add(proc)
            if rng.random() < 0.5:
                target = rng.choice(
                    [{"right": rng.choice(rights)}, {"provision": rng.choice(provisions)}]
                )
                db.session.add(
                    ProceedingTreatment(
                        proceeding=proc, treatment=rng.choice(list(Treatment)), **target
                    )
                )
    db.session.commit()
    for case in db.session.scalars(select(Case)):
        # A few distinct instants, so that the id tie-breaker decides often.
        stamp = base + timedelta(hours=rng.randint(0, 6))
        db.session.execute(update(Case).where(Case.id == case.id).values(updated_at=stamp))
    db.session.commit()
    db.session.expire_all()
    return viewer


def _family(code: str, all_rights) -> set[str]:
    return {code} | {r.code for r in all_rights if r.parent and r.parent.code == code}


def _in_window(proc: Proceeding, args: dict) -> bool:
    if "forum" in args and proc.forum.code != args["forum"]:
        return False
    if "filed_from" in args and (
        proc.filed_on is None or proc.filed_on < date.fromisoformat(args["filed_from"])
    ):
        return False
    return not (
        "filed_to" in args
        and (proc.filed_on is None or proc.filed_on > date.fromisoformat(args["filed_to"]))
    )


def _counts_for(case: Case, family: set[str], args: dict) -> bool:
    """The right filter's rule (tracker/patterns/rules.py), written out in Python."""
    if {r.code for r in case.rights} & family:
        return True
    if any({r.code for r in p.rights} & family for p in case.provisions):
        return True
    for proc in case.proceedings:
        if not _in_window(proc, args):
            continue
        for t in proc.treatments:
            named = {t.right.code} if t.right_id else {r.code for r in t.provision.rights}
            if named & family:
                return True
    return False


def _matching(user, args: dict, all_rights) -> list[Case]:
    out = []
    for case in db_all_cases():
        if not can_see_case(user, case):
            continue
        if "q" in args and args["q"] not in (case.summary or "").lower():
            continue
        if "status" in args and case.status.value != args["status"]:
            continue
        if "jurisdiction" in args and case.jurisdiction.code != args["jurisdiction"]:
            continue
        procs = [p for p in case.proceedings if _in_window(p, args)]
        window = {"forum", "filed_from", "filed_to"} & set(args)
        if window and not procs:
            continue
        if "right" in args and not _counts_for(case, _family(args["right"], all_rights), args):
            continue
        out.append(case)
    return out


def db_all_cases() -> list[Case]:
    from tracker.extensions import db

    return list(db.session.scalars(select(Case).order_by(Case.id)))


def _expected_facets(cases: list[Case], args: dict, all_rights) -> dict[str, dict[str, int]]:
    exp: dict[str, dict[str, int]] = {k: {} for k in queries.FACET_KEYS}

    def bump(facet: str, value: str) -> None:
        exp[facet][value] = exp[facet].get(value, 0) + 1

    for case in cases:
        bump("jurisdiction", case.jurisdiction.code)
        bump("status", case.status.value)
        bump("outcome", case.outcome.value)
        for code in {p.forum.code for p in case.proceedings}:
            bump("forum", code)
        for year in {p.filed_on.year for p in case.proceedings if p.filed_on}:
            bump("year", str(year))
        for right in all_rights:
            if _counts_for(case, _family(right.code, all_rights), args):
                bump("right", right.code)
    return exp


FILTERS = [
    {},
    {"status": "pending"},
    {"jurisdiction": "GR"},
    {"right": "protection"},
    {"right": "non-refoulement"},
    {"forum": "DE-BVG"},
    {"filed_from": "2023-01-01", "filed_to": "2024-12-31"},
    {"right": "liberty", "forum": "FR-CE"},
    {"q": "detention"},
    {"q": "detention", "jurisdiction": "FR", "status": "closed"},
]


@pytest.mark.parametrize("args", FILTERS, ids=lambda a: "&".join(f"{k}={v}" for k, v in a.items()))
def test_total_and_facets_equal_a_direct_count(db, docket, args):
    from tracker.taxonomy.models import Right

    all_rights = list(db.session.scalars(select(Right)))
    cases = _matching(docket, args, all_rights)
    total, facets = queries.list_summary(docket, parse_filters(args))
    assert total == len(cases)
    expected = _expected_facets(cases, args, all_rights)
    if not cases:
        assert facets == {}
        return
    for key in queries.FACET_KEYS:
        got = {fv.value: fv.count for fv in facets[key]}
        assert got == expected[key], key


@pytest.mark.parametrize(
    "sort",
    [
        "-updated",
        "updated",
        "title",
        "-title",
        "filed",
        "-filed",
        "status",
        "-status",
        "outcome",
        "-outcome",
    ],
)
@pytest.mark.parametrize("args", [{}, {"jurisdiction": "FR"}], ids=["all", "FR"])
def test_every_page_in_the_documented_order(db, docket, monkeypatch, sort, args):
    from tracker.taxonomy.models import Right

    monkeypatch.setattr(queries, "PER_PAGE", PER_PAGE)
    cases = _matching(docket, args, list(db.session.scalars(select(Right))))

    def value(case: Case):
        if sort.lstrip("-") == "filed":
            dates = [p.filed_on for p in case.proceedings if p.filed_on]
            return min(dates) if dates else None
        return {
            "updated": case.updated_at,
            "title": case.title,
            "status": case.status.value,
            "outcome": case.outcome.value,
        }[sort.lstrip("-")]

    expected = sorted(cases, key=lambda c: -c.id)  # the tie-breaker: newest id first
    present = [c for c in expected if value(c) is not None]
    present.sort(key=value, reverse=sort.startswith("-"))  # stable: ties keep the id order
    expected_ids = [c.id for c in present] + [c.id for c in expected if value(c) is None]

    filters = parse_filters(args)
    pages = -(-len(cases) // PER_PAGE)
    got: list[int] = []
    for page in range(1, pages + 2):  # one past the end: empty
        result, _filed, _facets = queries.case_list(docket, filters, sort, page)
        assert result.total == len(cases)
        assert result.pages == pages
        if page > pages:
            assert result.items == []
        got.extend(c.id for c in result.items)
    assert got == expected_ids


def test_each_rights_facet_count_is_the_length_of_the_list_it_opens(client, login, db, docket):
    """Over HTTP: follow every rights facet link and read the result count it promises."""
    login(docket)
    for start in ("/cases/", "/cases/?status=closed", "/cases/?forum=FR-CE"):
        html = client.get(start).get_data(as_text=True)
        links = re.findall(
            r'<a href="([^"]*right=[^"]*)">[^<]*</a> <span class="count" '
            r'aria-label="[^"]*">(\d+)</span>',
            html.split('class="facets"')[1].split("</details>")[0],
        )
        assert links, start
        for href, count in links:
            page = client.get(href.replace("&amp;", "&")).get_data(as_text=True)
            shown = re.search(r'class="result-count" role="status">(\d+) case', page)
            assert shown and shown.group(1) == count, (start, href)


def _assert_unfiltered_exact(user) -> None:
    all_rights = list(db_all_rights())
    cases = _matching(user, {}, all_rights)
    total, facets = queries.list_summary(user, parse_filters({}))
    assert total == len(cases), user.email
    expected = _expected_facets(cases, {}, all_rights)
    for key in queries.FACET_KEYS:
        assert {fv.value: fv.count for fv in facets[key]} == expected[key], (user.email, key)


def db_all_rights():
    from tracker.extensions import db
    from tracker.taxonomy.models import Right

    return db.session.scalars(select(Right))


def test_unfiltered_counts_follow_every_edit_for_each_viewer(db, docket, factory):
    """The unfiltered list counts public and network cases from stored totals: after edits
    of status, outcome, level, jurisdiction, rights, proceedings and deletes, committed as
    any writer does, its numbers are still the direct count, for viewers who see different
    cases (the docket's viewer, on some teams; a coordinator of another organisation)."""
    other_org = db.session.scalars(select(Case.lead_organisation_id)).first()
    outsider = factory.user(role=Role.COORDINATOR, email="elsewhere@example.org")
    insider = factory.user(role=Role.LITIGATOR, email="insider@example.org")
    insider.organisation_id = other_org
    db.session.commit()
    viewers = [docket, outsider, insider]
    for user in viewers:
        _assert_unfiltered_exact(user)
    rng = random.Random(8)
    cases = list(db.session.scalars(select(Case).order_by(Case.id)))
    open_cases = [c for c in cases if c.confidentiality in (Confidentiality.PUBLIC, "network")]
    forums = {p.forum for c in cases for p in c.proceedings}
    rights = list(db_all_rights())
    for step, case in enumerate(rng.sample(open_cases, 8)):
        edit = step % 8
        if edit == 0:
            case.status = Status.CLOSED if case.status is not Status.CLOSED else Status.FILED
        elif edit == 1:
            case.outcome = Outcome.WIN if case.outcome is not Outcome.WIN else Outcome.LOSS
        elif edit == 2:
            case.confidentiality = Confidentiality.ORGANISATION
        elif edit == 3:
            case.jurisdiction = next(p.forum.jurisdiction for c in cases for p in c.proceedings)
        elif edit == 4:
            case.rights = [r for r in rights if r not in case.rights][:2]
        elif edit == 5:
            db.session.add(
                Proceeding(
                    case=case,
                    forum=sorted(forums, key=lambda f: f.code)[0],
                    status=Status.PENDING,
                    outcome=Outcome.NONE_YET,
                    filed_on=date(2019, 2, 2),
                )
            )
        elif edit == 6:
            db.session.delete(case)
        else:
            case.confidentiality = Confidentiality.PUBLIC
        db.session.commit()
        db.session.expire_all()
        for user in viewers:
            _assert_unfiltered_exact(user)
