"""Fixtures of the pleadings tests: DOCX builders, uploads, and a small fixed library."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import docx
import pytest
from werkzeug.datastructures import FileStorage

from tracker.documents.models import Document, DocumentKind
from tracker.pleadings.models import PleadingUse
from tracker.pleadings.services import create_pleading
from tracker.taxonomy.models import JurisdictionKind
from tracker.types import Confidentiality


def make_docx(*paragraphs: str) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    return "\n".join(p.text for p in document.paragraphs)


TEMPLATE_PARAGRAPHS = (
    "Application in {{ case_title }}",
    "Before: {{ forum }} (ref. {{ reference }})",
    "Applicants: {{ claimant_pseudonyms }}",
    "Respondents: {{ respondent_pseudonyms }}",
    "Interveners: {{ intervener_pseudonyms }}",
    "Others: {{ other_party_pseudonyms }}",
    "Parties: {{ party_pseudonyms }}",
    "All forums: {{ forums }}",
    "Rights: {{ rights }}",
    "Provisions: {% for p in provisions %}[{{ p }}]{% endfor %}",
    "Dates: {{ dates }}",
    "Lodged by {{ organisation }} on {{ today }}",
)


def upload_data(**overrides: Any) -> dict[str, Any]:
    """Form data for POST /pleadings/new (file as (bytes, name))."""
    data: dict[str, Any] = {
        "title": "Detention brief",
        "kind": "brief",
        "language": "en",
        "summary": "Arguments against immigration detention.",
        "usage_notes": "",
        "confidentiality": "network",
        "provisions": "",
    }
    file = overrides.pop("file", (b"A model brief on detention.\n", "brief.txt"))
    data.update(overrides)
    if file is not None:
        content, name = file
        data["file"] = (io.BytesIO(content), name)
    return data


def add_pleading(user, *, content: bytes = b"Model text.\n", filename: str = "model.txt", **data):
    """Create a pleading through the service (as the user would by uploading)."""
    values = {
        "title": "Model pleading",
        "kind": "brief",
        "language": "en",
        "summary": "A summary.",
        "confidentiality": "network",
        "rights": [],
        "provisions": [],
        "forums": [],
        "systems": [],
    }
    values.update(data)
    from tracker.extensions import db

    file = FileStorage(stream=io.BytesIO(content), filename=filename)
    pleading = create_pleading(user=user, data=values, file=file)
    db.session.commit()
    return pleading


def use(pleading, case):
    from tracker.extensions import db

    db.session.add(PleadingUse(pleading_id=pleading.id, case_id=case.id))
    db.session.commit()


def case_document(case, language: str):
    """A document row on a case in some language (the file itself is not needed here)."""
    from tracker.extensions import db

    db.session.add(
        Document(
            case_id=case.id,
            title="Decision",
            kind=DocumentKind.DECISION,
            language=language,
            filename="decision.pdf",
            content_type="application/pdf",
            size_bytes=1,
            sha256="0" * 64,
            confidentiality=case.confidentiality,
        )
    )
    db.session.commit()


@dataclass
class Library:
    org: Any
    other_org: Any
    user: Any  # litigator of org (outsider to the restricted case)
    teammate: Any  # on the restricted case's team
    other_user: Any
    case: Any
    best: Any
    crosswalk: Any
    unrelated: Any
    foreign_org: Any
    restricted_case: Any


@pytest.fixture()
def library(factory, db) -> Library:
    """A fixed library where the right ranking is known (see test_suggestions)."""
    org = factory.organisation("Refugee Law Centre")
    other_org = factory.organisation("Other NGO")
    user = factory.user("litigator", organisation=org)
    teammate = factory.user("litigator", organisation=org)
    other_user = factory.user("litigator", organisation=other_org)

    coe = factory.jurisdiction("COE", "Council of Europe", kind=JurisdictionKind.SYSTEM)
    france = factory.jurisdiction("FR", "France")
    liberty = factory.right("liberty", "Liberty")
    refoulement = factory.right("non-refoulement", "Non-refoulement")
    education = factory.right("education", "Education")
    echr5 = factory.provision("ECHR", "5", rights=[liberty], title="Right to liberty and security")
    ecthr = factory.forum("ECTHR", coe, name="European Court of Human Rights")
    conseil = factory.forum("FR-CE", france, name="Conseil d'État")

    case = factory.case(
        organisation=org,
        title="M.K. v. France",
        summary="Immigration detention of asylum seekers pending removal to Sudan.",
        jurisdiction=france,
    )
    case.rights = [liberty, refoulement]
    db.session.commit()
    factory.proceeding(case, ecthr)
    case_document(case, "fr")

    best = add_pleading(
        user,
        title="Detention and refoulement application",
        language="fr",
        summary="Challenging immigration detention pending removal; risk on return to Sudan.",
        rights=["non-refoulement", "liberty"],
        forums=["ECTHR"],
    )
    crosswalk = add_pleading(
        other_user,
        title="Article 5 complaint",
        language="en",
        summary="Lawfulness of deprivation of liberty under article 5.",
        provisions="ECHR:5",
    )
    unrelated = add_pleading(
        user,
        title="School enrolment brief",
        language="de",
        summary="Enrolment fees for children at primary school.",
        rights=["education"],
        forums=["FR-CE"],
    )
    foreign_org = add_pleading(
        other_user,
        title="Other NGO internal detention strategy",
        language="fr",
        summary="Immigration detention pending removal to Sudan: our internal strategy.",
        rights=["liberty", "non-refoulement"],
        forums=["ECTHR"],
        confidentiality="organisation",
    )
    # Track record of `best`: 3 visible cases (2 won) + 1 restricted win the outsider cannot see.
    for outcome in ("win", "partial_win", "loss"):
        used = factory.case(organisation=other_org, outcome=outcome, title=f"Used {outcome}")
        factory.proceeding(used, ecthr)
        use(best, used)
    restricted_case = factory.case(
        organisation=org,
        confidentiality=Confidentiality.RESTRICTED,
        team=[teammate],
        outcome="win",
        title="Secret restricted win",
    )
    factory.proceeding(restricted_case, conseil)
    use(best, restricted_case)
    del echr5, education
    return Library(
        org, other_org, user, teammate, other_user, case, best, crosswalk, unrelated,
        foreign_org, restricted_case,
    )  # fmt: skip
