"""Fixtures of the cases tests: a little reference data, a litigator and form helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.security.conftest import visibility_world  # noqa: F401  (shared fixture)
from tracker.taxonomy.models import ForumLevel, JurisdictionKind, SystemMembership
from tracker.types import Role


@dataclass
class Ref:
    fr: Any
    coe: Any
    ias: Any
    fr_court: Any
    ecthr: Any
    iachr: Any
    liberty: Any
    nonref: Any
    echr5: Any
    iccpr9: Any


@pytest.fixture()
def ref(factory, db) -> Ref:
    """France in the Council of Europe; a French court, the ECtHR (4 months), the IACHR."""
    fr = factory.jurisdiction("FR", name="France")
    coe = factory.jurisdiction("COE", name="Council of Europe", kind=JurisdictionKind.SYSTEM)
    ias = factory.jurisdiction("IAS", name="Inter-American system", kind=JurisdictionKind.SYSTEM)
    factory.commit(SystemMembership(system=coe, state=fr))
    fr_court = factory.forum("FR-CE", jurisdiction=fr, name="Conseil d'État")
    ecthr = factory.forum(
        "ECTHR",
        jurisdiction=coe,
        name="European Court of Human Rights",
        level=ForumLevel.REGIONAL_COURT,
        filing_limit_months=4,
        filing_limit_basis="Art. 35(1) ECHR",
    )
    iachr = factory.forum(
        "IACHR",
        jurisdiction=ias,
        name="Inter-American Commission on Human Rights",
        level=ForumLevel.REGIONAL_COMMISSION,
        filing_limit_months=6,
    )
    protection = factory.right("protection", name="Protection")
    nonref = factory.right("non-refoulement", name="Non-refoulement", parent=protection)
    liberty = factory.right("liberty", name="Liberty and security")
    echr5 = factory.provision("ECHR", "5", title="Right to liberty and security", rights=[liberty])
    iccpr9 = factory.provision("ICCPR", "9", title="Liberty and security of person")
    return Ref(fr, coe, ias, fr_court, ecthr, iachr, liberty, nonref, echr5, iccpr9)


@pytest.fixture()
def litigator(factory):
    return factory.user(role=Role.LITIGATOR, name="Lina Litigator")


def case_form(**overrides) -> dict[str, Any]:
    """A valid case form as the browser would post it."""
    data: dict[str, Any] = {
        "title": "A.B. v. France",
        "reference": "REF-1",
        "case_type": "individual_complaint",
        "jurisdiction": "FR",
        "summary": "Detention pending removal.",
        "strategic_aim": "End detention of children.",
        "arguments": "Art. 5 ECHR.",
        "confidentiality": "network",
        "status": "pending",
        "outcome": "none_yet",
        "opened_on": "2024-01-10",
        "rights": "liberty; non-refoulement",
        "provisions": "ECHR:5",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def proceeding_form(**overrides) -> dict[str, Any]:
    data: dict[str, Any] = {
        "forum": "FR-CE",
        "reference": "No 123456",
        "filed_on": "2024-02-01",
        "decided_on": "",
        "status": "pending",
        "outcome": "none_yet",
    }
    data.update(overrides)
    return data
