"""The shipped ECHR-OD sample loads, and its counts match the source file counted here."""

from __future__ import annotations

import csv
from collections import Counter

import pytest
from sqlalchemy import func, select

from tracker.cases.models import Case, Outcome, Proceeding, ProceedingTreatment, Treatment
from tracker.reports.echr import (
    FLAT_CSV,
    article_bases,
    import_echr_od,
    resolve_conclusion_token,
)
from tracker.taxonomy.models import Jurisdiction, Provision


@pytest.fixture()
def reference(db):
    from tracker.taxonomy.reference import load_reference

    load_reference()
    db.session.commit()


def _source() -> list[dict[str, str]]:
    with FLAT_CSV.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_sample_loads_with_counts_matching_the_source(reference, db, runner):
    result = runner.invoke(args=["import", "echr-od"])
    assert result.exit_code == 0, result.output
    assert "501 judgment(s) loaded" in result.output and "Open Database License" in result.output
    rows = _source()
    assert db.session.scalar(select(func.count(Case.id))) == len(rows) == 501

    per_state = Counter(r["respondent"].split(";")[0] for r in rows)
    for iso3 in ("RUS", "UKR", "ROU", "HUN", "LVA"):
        loaded = db.session.scalar(
            select(func.count(Case.id))
            .join(Jurisdiction, Jurisdiction.id == Case.jurisdiction_id)
            .where(Jurisdiction.iso3 == iso3)
        )
        assert loaded == per_state[iso3], iso3

    for article in ("3", "5", "6", "8"):
        # A number in violation_articles is a Convention article when the judgment lists that
        # article; otherwise it is a protocol article (e.g. "3" with only P1-3 listed).
        violations = sum(
            1
            for r in rows
            if article in r["violation_articles"].split(";")
            and article
            in {part.split("-")[0] for t in r["articles"].split(";") for part in t.split("+")}
        )
        upheld = db.session.scalar(
            select(func.count(ProceedingTreatment.id))
            .join(Provision, Provision.id == ProceedingTreatment.provision_id)
            .where(
                Provision.code == f"ECHR:{article}",
                ProceedingTreatment.treatment == Treatment.UPHELD,
            )
        )
        assert upheld == violations, article

    wins = sum(1 for r in rows if r["violation_articles"])
    assert (
        db.session.scalar(
            select(func.count(Proceeding.id)).where(Proceeding.outcome == Outcome.WIN)
        )
        == wins
    )

    case = db.session.scalar(select(Case).where(Case.reference == "001-188991"))
    assert case.title == "CASE OF ĒCIS v. LATVIA" and case.confidentiality.value == "public"
    proc = case.proceedings[0]
    assert proc.forum.code == "ECTHR" and proc.reference == "12879/09"
    assert proc.decided_on.isoformat() == "2019-01-10" and proc.filed_on is None
    assert proc.ecli == "ECLI:CE:ECHR:2019:0110JUD001287909"
    assert {p.code for p in case.provisions} >= {"ECHR:8", "ECHR:14"}
    assert {r.code for r in case.rights}  # through the crosswalk

    again = runner.invoke(args=["import", "echr-od"])
    assert "0 judgment(s) loaded, 501 already there" in again.output
    assert db.session.scalar(select(func.count(Case.id))) == 501


def test_import_needs_the_reference_data(db):
    from tracker.reports.echr import EchrImportError

    with pytest.raises(EchrImportError):
        import_echr_od()


@pytest.mark.parametrize(
    ("articles", "expected"),
    [
        ("8;8-1;14;14+8;35;35-1;41", ["8", "14", "35", "41"]),
        ("13;13+P1-1-1;P1-1;P1-1-1", ["13", "P1-1"]),
        ("6+6-3-c;p1-1", ["6", "P1-1"]),
    ],
)
def test_article_bases(articles, expected):
    assert article_bases(articles) == expected


@pytest.mark.parametrize(
    ("token", "bases", "expected"),
    [
        ("1", ["13", "P1-1"], "P1-1"),  # Article 1 of Protocol No. 1 written as "1"
        ("p1", ["14", "P1-1"], "P1-1"),
        ("p1", ["8", "14", "P1-2"], "P1-2"),
        ("4", ["P7-4"], "P7-4"),
        ("8", ["8", "14"], "8"),
        ("34", ["34"], "34"),
    ],
)
def test_conclusion_tokens(token, bases, expected):
    assert resolve_conclusion_token(token, bases) == expected
