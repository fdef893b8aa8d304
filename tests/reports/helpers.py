"""Shared data for the reports tests: two organisations, cases at every level, tags, parties."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tracker.cases.models import (
    Outcome,
    Party,
    PartyRole,
    ProceedingTreatment,
    Status,
    Treatment,
)
from tracker.types import Confidentiality, Role

C = Confidentiality


@dataclass
class World:
    org: object
    other: object
    user: object  # litigator of `org`, on the team of the restricted case
    viewer: object
    cases: dict


def make_world(factory, db) -> World:
    org = factory.organisation("Asylum Aid Network")
    other = factory.organisation("Frontier Law Centre")
    user = factory.user(Role.LITIGATOR, organisation=org)
    viewer = factory.user(Role.VIEWER, organisation=org)
    liberty = factory.right("liberty", "Liberty and freedom from arbitrary detention")
    refoulement = factory.right("non-refoulement", "Non-refoulement")
    factory.jurisdiction("FR", "France")
    gr = factory.jurisdiction("GR", "Greece")
    art5 = factory.provision("ECHR", "5", rights=[liberty])
    art3 = factory.provision("ECHR", "3", rights=[refoulement])
    ecthr = factory.forum("ECTHR", name="European Court of Human Rights")
    cases = {}
    for level, owner in (
        (C.PUBLIC, org),
        (C.NETWORK, other),
        (C.ORGANISATION, org),
        (C.RESTRICTED, org),
    ):
        case = factory.case(
            organisation=owner,
            confidentiality=level,
            title=f"{level.value.title()} case v. Greece",
            reference=f"REF-{level.value}",
            jurisdiction=gr,
            team=[user] if level == C.RESTRICTED else [],
            partners=[other] if level == C.PUBLIC else [],
            summary=f"Summary of the {level.value} case",
            strategic_aim=f"SECRET-AIM-{level.value}",
            arguments=f"SECRET-ARGS-{level.value}",
            status=Status.DECIDED,
            outcome=Outcome.WIN,
            opened_on=date(2023, 5, 1),
        )
        case.rights = [liberty, refoulement]
        case.provisions = [art5, art3]
        case.parties.append(
            Party(
                role=PartyRole.CLAIMANT,
                pseudonym=f"A.B.-{level.value}",
                full_name=f"FULLNAME-{level.value}",
                details="born 1990, address known",
            )
        )
        db.session.commit()
        proc = factory.proceeding(
            case,
            forum=ecthr,
            reference=f"123/{level.value}",
            status=Status.DECIDED,
            outcome=Outcome.WIN,
            filed_on=date(2023, 6, 1),
            decided_on=date(2024, 2, 1),
            notes=f"NOTE-{level.value}",
        )
        proc.treatments = [
            ProceedingTreatment(provision=art5, treatment=Treatment.UPHELD),
            ProceedingTreatment(right=refoulement, treatment=Treatment.REJECTED),
        ]
        db.session.commit()
        cases[level] = case
    return World(org=org, other=other, user=user, viewer=viewer, cases=cases)


def four_countries(factory, db):
    """A litigator whose organisation has a network case in each of four countries."""
    org = factory.organisation("Four Countries Network")
    user = factory.user(Role.LITIGATOR, organisation=org)
    for code, name, status, outcome in (
        ("GR", "Greece", Status.DECIDED, Outcome.WIN),
        ("IT", "Italy", Status.DECIDED, Outcome.LOSS),
        ("ES", "Spain", Status.FILED, None),
        ("FR", "France", Status.DECIDED, Outcome.WIN),
    ):
        case = factory.case(
            organisation=org,
            confidentiality="network",
            title=f"Case in {name}",
            jurisdiction=factory.jurisdiction(code, name),
            status=status,
            outcome=outcome,
        )
        factory.proceeding(case, status=status, outcome=outcome, filed_on=date(2023, 6, 1))
    db.session.commit()
    return user
