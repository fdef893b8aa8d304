"""The shipped ECHR-OD sample loads, and its counts match the source file counted here."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tracker.cases.models import (
    Case,
    CaseLink,
    LinkKind,
    Outcome,
    Proceeding,
    ProceedingTreatment,
    Treatment,
)
from tracker.reports.echr import (
    FLAT_CSV,
    RESPONDENTS_CSV,
    article_bases,
    derive_respondent_conclusions,
    import_echr_od,
    read_respondent_conclusions,
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
    assert len(rows) == 501
    # One case per judgment and respondent state: 8 judgments name two states.
    assert db.session.scalar(select(func.count(Case.id))) == 501 + 8
    assert "509 case(s) created" in result.output

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
    assert db.session.scalar(select(func.count(Case.id))) == 509


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


# --- judgments against several states ---------------------------------------------------------
SHARED_SAMPLE = Path(__file__).resolve().parents[3] / "shared/reference/echr-od-sample"


def _per_state(db, outcome=None) -> Counter:
    stmt = (
        select(Jurisdiction.iso3, func.count(Case.id))
        .join(Case, Case.jurisdiction_id == Jurisdiction.id)
        .group_by(Jurisdiction.iso3)
    )
    if outcome is not None:
        stmt = stmt.where(Case.outcome == outcome)
    return Counter(dict(db.session.execute(stmt).tuples().all()))


def test_every_respondent_state_is_counted(reference, db):
    import_echr_od()
    db.session.commit()
    rows = _source()
    # Counted here from the source, independently: every state named in `respondent`.
    expected = Counter(s for r in rows for s in r["respondent"].upper().split(";") if s)
    assert _per_state(db) == expected
    # Russia is named second in the joint judgments: counting first states only missed it.
    assert expected["RUS"] > sum(1 for r in rows if r["respondent"].startswith("RUS"))
    assert expected["RUS"] == sum(1 for r in rows if "RUS" in r["respondent"].split(";"))
    assert expected["TUR"] == sum(1 for r in rows if "TUR" in r["respondent"].split(";"))
    # Wins per state: in the 8 joint judgments the Court found violations only by Russia and
    # Turkey (HUDOC: "Violation ... (Russia)", "No violation ... (the Republic of Moldova)").
    single_wins = Counter(
        r["respondent"] for r in rows if ";" not in r["respondent"] and r["violation_articles"]
    )
    joint = [r for r in rows if ";" in r["respondent"]]
    assert len(joint) == 8
    wins = _per_state(db, Outcome.WIN)
    assert wins["RUS"] == single_wins["RUS"] + 7
    assert wins["TUR"] == single_wins["TUR"] + 1
    assert wins["MDA"] == single_wins["MDA"]
    assert wins["CYP"] == single_wins["CYP"]


def test_a_joint_judgment_is_one_case_per_state_with_its_own_conclusions(reference, db):
    import_echr_od()
    db.session.commit()
    cases = db.session.scalars(
        select(Case).where(Case.reference.like("001-195540%")).order_by(Case.reference)
    ).all()
    assert [(c.reference, c.jurisdiction.iso3) for c in cases] == [
        ("001-195540", "MDA"),
        ("001-195540/RUS", "RUS"),
    ]
    moldova, russia = cases
    assert moldova.outcome is Outcome.LOSS and russia.outcome is Outcome.WIN
    assert all(
        c.title == "CASE OF DOBROVITSKAYA AND OTHERS v. THE REPUBLIC OF MOLDOVA AND RUSSIA"
        for c in cases
    )

    def treated(case):
        return {t.provision.code: t.treatment for t in case.proceedings[0].treatments}

    assert treated(moldova)["ECHR:5"] is Treatment.REJECTED
    assert treated(russia)["ECHR:5"] is Treatment.UPHELD
    assert treated(russia)["ECHR:3"] is Treatment.UPHELD
    assert set(treated(moldova)) == set(treated(russia))
    assert moldova.proceedings[0].ecli == russia.proceedings[0].ecli
    assert "Respondent states: MDA; RUS" in russia.proceedings[0].notes
    link = db.session.scalar(select(CaseLink).where(CaseLink.source_case_id == moldova.id))
    assert (link.target_case_id, link.kind) == (russia.id, LinkKind.RELATED_TO)
    assert db.session.scalar(select(func.count(CaseLink.id))) == 8


def test_an_earlier_import_gains_the_missing_states(reference, db, runner):
    """Databases loaded before this fix hold only the first state of a joint judgment."""
    import_echr_od()
    db.session.commit()
    for case in db.session.scalars(select(Case).where(Case.reference.like("%/%"))).all():
        db.session.delete(case)
    db.session.commit()
    assert db.session.scalar(select(func.count(Case.id))) == 501
    result = runner.invoke(args=["import", "echr-od"])
    assert "8 judgment(s) loaded, 493 already there" in result.output, result.output
    assert db.session.scalar(select(func.count(Case.id))) == 509
    assert db.session.scalar(select(func.count(CaseLink.id))) == 8


def test_the_per_state_conclusions_cover_every_joint_judgment():
    joint = {
        (r["itemid"], s)
        for r in _source()
        if ";" in r["respondent"]
        for s in r["respondent"].split(";")
    }
    assert set(read_respondent_conclusions()) == joint


@pytest.mark.skipif(
    not (SHARED_SAMPLE / "echr_od_explorer_cases_2018_2019.json").exists(),
    reason="the full ECHR-OD JSON (shared/reference/echr-od-sample) is not on this machine",
)
def test_the_per_state_conclusions_are_derived_from_the_full_sample():
    derived = derive_respondent_conclusions(SHARED_SAMPLE / "echr_od_explorer_cases_2018_2019.json")
    with RESPONDENTS_CSV.open(encoding="utf-8", newline="") as fh:
        shipped = list(csv.DictReader(fh))
    assert shipped == derived
