"""A small fixed world for the patterns tests; every expected number is worked out by hand.

Reference data
  States FR, DE, ES, RU, MA; systems COE, UN.
  COE members: FR, DE, ES (current), RU (left 2022-03-16).
  Rights: liberty-and-movement > liberty; family-and-child > family-life; dignity > torture.
  Crosswalk: ECHR:5 -> liberty, ECHR:8 -> family-life, ICCPR:9 -> liberty, CAT:3 -> torture.
  Ratifications: ECHR by FR, DE, ES, and RU (denounced 2022-09-16); ICCPR by FR, DE, ES, MA;
    ICCPR-OP1 by FR, DE, ES (not MA); CAT by FR (art. 22 declaration 1988-06-23) and MA (no
    declaration). MA is bound by neither ECHR nor COE.
  Forums: FR-CE (FR apex), DE-BVERFG (DE constitutional), ES-TS (ES apex), ECTHR (COE regional
    court, ECHR, 4 months), HRC (UN treaty body, ICCPR), CAT-COMM (UN treaty body, CAT).

Cases (lead organisation "Org A", network unless said otherwise)
  C1 FR tags liberty, provisions ECHR:5; P1 FR-CE filed 2021-03-01, decided 2021-09-01, WIN,
     no treatment  -> a win on liberty.
  C2 FR no tags, provisions ECHR:5 and ECHR:8; P2 ECTHR filed 2022-05-01, decided 2023-01-10,
     WIN; treatments ECHR:8 upheld, ECHR:5 rejected -> counts for family-life (crosswalk) and
     liberty (crosswalk); a win on family-life, NOT a win on liberty.
  C3 DE tags liberty; P3 DE-BVERFG filed 2022-02-01, LOSS.
  C4 DE tags family-life; no proceeding; planned.
  C6 ES tags liberty; P6 ES-TS filed 2020-01-10, decided 2020-06-01, WIN -> ES has a win on
     liberty.
  C7 DE tags liberty; P7 DE-BVERFG filed 2023-03-01, pending -> a pending liberty case in DE.
  C5 (only with the `restricted_win` fixture) ES, RESTRICTED, lead "Org B", team = insider;
     tags liberty; P5 ECTHR filed 2023-02-01, decided 2024-01-01, WIN.
Users: outsider (coordinator, Org A, not on C5's team), insider (litigator, Org B, on C5's team),
  viewer (Org A). "Org DE" is based in DE (an organisation that could act there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from tracker.cases.models import (
    Outcome,
    ProceedingTreatment,
    Status,
    Treatment,
)
from tracker.patterns.services import refresh_opportunities
from tracker.taxonomy.models import (
    ForumLevel,
    InstrumentKind,
    JurisdictionKind,
    Ratification,
    SystemMembership,
)
from tracker.types import Confidentiality, Role


@dataclass
class World:
    j: dict[str, Any] = field(default_factory=dict)
    r: dict[str, Any] = field(default_factory=dict)
    p: dict[str, Any] = field(default_factory=dict)
    f: dict[str, Any] = field(default_factory=dict)
    i: dict[str, Any] = field(default_factory=dict)
    c: dict[str, Any] = field(default_factory=dict)
    proc: dict[str, Any] = field(default_factory=dict)
    u: dict[str, Any] = field(default_factory=dict)
    o: dict[str, Any] = field(default_factory=dict)


def build_world(factory) -> World:
    w = World()
    db = factory.db
    # Build without the per-commit refresh, then refresh once (test_alerts tests the hook).
    db.session.info["defer_opportunities"] = True
    for code in ("FR", "DE", "ES", "RU", "MA"):
        w.j[code] = factory.jurisdiction(
            code,
            name={"FR": "France", "DE": "Germany", "ES": "Spain", "RU": "Russia", "MA": "Morocco"}[
                code
            ],
        )
    w.j["COE"] = factory.jurisdiction("COE", name="Council of Europe", kind=JurisdictionKind.SYSTEM)
    w.j["UN"] = factory.jurisdiction("UN", name="United Nations", kind=JurisdictionKind.SYSTEM)
    for code in ("FR", "DE", "ES"):
        db.session.add(SystemMembership(system=w.j["COE"], state=w.j[code]))
    db.session.add(SystemMembership(system=w.j["COE"], state=w.j["RU"], left_on=date(2022, 3, 16)))

    w.r["lm"] = factory.right("liberty-and-movement", "Liberty and movement", position=1)
    w.r["liberty"] = factory.right("liberty", "Liberty", parent=w.r["lm"], position=2)
    w.r["fc"] = factory.right("family-and-child", "Family and child", position=3)
    w.r["family-life"] = factory.right("family-life", "Family life", parent=w.r["fc"], position=4)
    w.r["dignity"] = factory.right("dignity-and-integrity", "Dignity", position=5)
    w.r["torture"] = factory.right("torture", "Torture", parent=w.r["dignity"], position=6)

    w.i["ECHR"] = factory.instrument("ECHR", system=w.j["COE"])
    w.i["ECHR"].complaint_via_id = w.i["ECHR"].id
    w.i["ICCPR"] = factory.instrument("ICCPR", system=w.j["UN"])
    w.i["ICCPR-OP1"] = factory.instrument(
        "ICCPR-OP1", kind=InstrumentKind.PROTOCOL, parent=w.i["ICCPR"], system=w.j["UN"]
    )
    w.i["ICCPR"].complaint_via = w.i["ICCPR-OP1"]
    w.i["CAT"] = factory.instrument(
        "CAT", system=w.j["UN"], note="Individual complaints require the art. 22 declaration"
    )
    w.i["CAT"].complaint_via_id = w.i["CAT"].id
    w.p["ECHR:5"] = factory.provision("ECHR", "5", rights=[w.r["liberty"]])
    w.p["ECHR:8"] = factory.provision("ECHR", "8", rights=[w.r["family-life"]])
    w.p["ICCPR:9"] = factory.provision("ICCPR", "9", rights=[w.r["liberty"]])
    w.p["CAT:3"] = factory.provision("CAT", "3", rights=[w.r["torture"]])

    def ratify(inst, code, **kw):
        kw.setdefault("ratified_on", date(1990, 1, 1))
        db.session.add(Ratification(instrument=w.i[inst], jurisdiction=w.j[code], **kw))

    for code in ("FR", "DE", "ES"):
        ratify("ECHR", code)
        ratify("ICCPR", code)
        ratify("ICCPR-OP1", code)
    ratify("ECHR", "RU", denounced_on=date(2022, 9, 16))
    ratify("ICCPR", "MA")
    ratify("CAT", "FR", complaints_accepted_on=date(1988, 6, 23))
    ratify("CAT", "MA")
    db.session.commit()

    w.f["FR-CE"] = factory.forum("FR-CE", w.j["FR"], name="Council of State")
    w.f["DE-BVERFG"] = factory.forum(
        "DE-BVERFG", w.j["DE"], level=ForumLevel.CONSTITUTIONAL, name="Constitutional Court"
    )
    w.f["ES-TS"] = factory.forum("ES-TS", w.j["ES"], name="Supreme Court of Spain")
    w.f["ECTHR"] = factory.forum(
        "ECTHR",
        w.j["COE"],
        level=ForumLevel.REGIONAL_COURT,
        instrument=w.i["ECHR"],
        name="European Court of Human Rights",
        filing_limit_months=4,
        filing_limit_basis="four months from the final domestic decision",
    )
    w.f["HRC"] = factory.forum(
        "HRC",
        w.j["UN"],
        level=ForumLevel.TREATY_BODY,
        instrument=w.i["ICCPR"],
        name="Human Rights Committee",
    )
    w.f["CAT-COMM"] = factory.forum(
        "CAT-COMM",
        w.j["UN"],
        level=ForumLevel.TREATY_BODY,
        instrument=w.i["CAT"],
        name="Committee against Torture",
    )

    w.o["A"] = factory.organisation("Org A")
    w.o["B"] = factory.organisation("Org B")
    w.o["DE"] = factory.organisation("Org DE", country_id=w.j["DE"].id)
    w.u["outsider"] = factory.user(Role.COORDINATOR, w.o["A"], email="outsider@example.org")
    w.u["insider"] = factory.user(Role.LITIGATOR, w.o["B"], email="insider@example.org")
    w.u["viewer"] = factory.user(Role.VIEWER, w.o["A"], email="viewer@example.org")

    def case(key, jur, title, rights=(), provisions=(), **kw):
        c = factory.case(
            organisation=kw.pop("organisation", w.o["A"]),
            jurisdiction=w.j[jur],
            title=title,
            **kw,
        )
        c.rights = [w.r[x] for x in rights]
        c.provisions = [w.p[x] for x in provisions]
        db.session.commit()
        w.c[key] = c
        return c

    def proceeding(key, case_key, forum, filed, outcome, decided=None, treatments=(), **kw):
        p = factory.proceeding(
            w.c[case_key],
            w.f[forum],
            filed_on=filed,
            decided_on=decided,
            outcome=outcome,
            status=kw.pop("status", Status.DECIDED if decided else Status.PENDING),
        )
        for prov, t in treatments:
            db.session.add(ProceedingTreatment(proceeding=p, provision=w.p[prov], treatment=t))
        db.session.commit()
        w.proc[key] = p
        return p

    case(
        "C1",
        "FR",
        "Liberty FR",
        ["liberty"],
        ["ECHR:5"],
        status=Status.DECIDED,
        outcome=Outcome.WIN,
    )
    proceeding("P1", "C1", "FR-CE", date(2021, 3, 1), Outcome.WIN, date(2021, 9, 1))
    case(
        "C2",
        "FR",
        "Family FR",
        [],
        ["ECHR:5", "ECHR:8"],
        status=Status.DECIDED,
        outcome=Outcome.WIN,
    )
    proceeding(
        "P2",
        "C2",
        "ECTHR",
        date(2022, 5, 1),
        Outcome.WIN,
        date(2023, 1, 10),
        treatments=[("ECHR:8", Treatment.UPHELD), ("ECHR:5", Treatment.REJECTED)],
    )
    case("C3", "DE", "Liberty DE lost", ["liberty"], status=Status.DECIDED, outcome=Outcome.LOSS)
    proceeding("P3", "C3", "DE-BVERFG", date(2022, 2, 1), Outcome.LOSS, date(2022, 12, 1))
    case("C4", "DE", "Family DE planned", ["family-life"], status=Status.PLANNED)
    case("C6", "ES", "Liberty ES won", ["liberty"], status=Status.DECIDED, outcome=Outcome.WIN)
    proceeding("P6", "C6", "ES-TS", date(2020, 1, 10), Outcome.WIN, date(2020, 6, 1))
    case("C7", "DE", "Liberty DE pending", ["liberty"], status=Status.PENDING)
    proceeding("P7", "C7", "DE-BVERFG", date(2023, 3, 1), Outcome.NONE_YET)
    db.session.info.pop("defer_opportunities", None)
    refresh_opportunities()
    db.session.commit()
    return w


def add_restricted_win(factory, w: World) -> None:
    c = factory.case(
        organisation=w.o["B"],
        confidentiality=Confidentiality.RESTRICTED,
        team=[w.u["insider"]],
        jurisdiction=w.j["ES"],
        title="Secret liberty ES",
        status=Status.DECIDED,
        outcome=Outcome.WIN,
    )
    c.rights = [w.r["liberty"]]
    c.provisions = [w.p["ECHR:5"]]
    factory.db.session.commit()
    w.c["C5"] = c
    w.proc["P5"] = factory.proceeding(
        c,
        w.f["ECTHR"],
        filed_on=date(2023, 2, 1),
        decided_on=date(2024, 1, 1),
        outcome=Outcome.WIN,
        status=Status.DECIDED,
    )


@pytest.fixture()
def world(factory) -> World:
    return build_world(factory)


@pytest.fixture()
def restricted_win(factory, world) -> World:
    add_restricted_win(factory, world)
    return world
