"""Loads the shipped ECHR-OD sample: 501 real judgments of the European Court of Human Rights.

Source: ECHR-OD (European Court of Human Rights Open Data, https://echr-opendata.eu), data
under the Open Database License (ODbL), metadata from HUDOC, Council of Europe; the licence
page ships beside the data in tracker/reports/data/echr-od/. One case per judgment (public,
decided), one ECTHR proceeding with the application numbers, the articles mapped to ECHR
provisions (and through the crosswalk to rights), and per article how the Court treated it
(violation -> upheld, no violation -> rejected). Idempotent: keyed by the HUDOC item id.

A judgment against several states (Moldova and Russia, Cyprus and Turkey) is one case per
respondent state, as DESIGN.md models a matter (a case has one jurisdiction; the outcome and
the treatment of each provision belong to its proceeding): each has its own ECtHR proceeding
with the Court's conclusions on that state, and the cases are linked "related to". The flat
CSV lists conclusions without their state, so the per-state ones are read from
RESPONDENTS_CSV, derived from the full ECHR-OD JSON by derive_respondent_conclusions().
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from tracker.audit.services import record_audit
from tracker.auth.models import Organisation
from tracker.cases.models import (
    Case,
    CaseLink,
    CaseType,
    LinkKind,
    Outcome,
    Proceeding,
    ProceedingTreatment,
    Status,
    Treatment,
)
from tracker.extensions import db
from tracker.taxonomy.models import Forum, Jurisdiction, Provision
from tracker.types import Confidentiality

DATA_DIR = Path(__file__).parent / "data" / "echr-od"
FLAT_CSV = DATA_DIR / "echr_od_explorer_cases_2018_2019_flat.csv"
RESPONDENTS_CSV = DATA_DIR / "echr_od_respondent_conclusions.csv"
RESPONDENTS_FIELDS = ("itemid", "respondent", "violation_articles", "nonviolation_articles")
DEFAULT_ORGANISATION = "ECHR-OD (public data)"
FORUM_CODE = "ECTHR"
REFERENCE_MAX = 120  # Proceeding.reference

_PROTOCOL = re.compile(r"^[pP](\d+)(?:-(\d+))?")


class EchrImportError(RuntimeError):
    """The reference data needed by the import is missing."""


def article_base(token: str) -> str | None:
    """'8-1' -> '8'; 'P1-1-1' / 'p1-1' -> 'P1-1'; '6-3-c' -> '6'; 'p1' -> None (ambiguous)."""
    token = token.strip()
    if not token:
        return None
    m = _PROTOCOL.match(token)
    if m:
        return f"P{m.group(1)}-{m.group(2)}" if m.group(2) else None
    head = token.split("-")[0]
    return head if head.isdigit() else None


def article_bases(articles: str) -> list[str]:
    """Every article named in the `articles` field ('14+8' names both), de-duplicated."""
    out: list[str] = []
    for token in articles.split(";"):
        for part in token.split("+"):
            base = article_base(part)
            if base and base not in out:
                out.append(base)
    return out


def resolve_conclusion_token(token: str, bases: list[str]) -> str | None:
    """An article of violation_articles / nonviolation_articles, as an article base.

    The source writes Article 1 of Protocol No. 1 as "1" or "p1" (reference README) and
    other protocol articles by number only ("4" for P7-4), so a number that is not a
    Convention article of the judgment is looked up among its protocol articles.
    """
    token = token.strip()
    if not token:
        return None
    m = _PROTOCOL.match(token)
    if m:
        protocol = f"P{m.group(1)}-"
        if m.group(2):
            return f"{protocol}{m.group(2)}"
        matches = [b for b in bases if b.startswith(protocol)]
        return matches[0] if len(matches) == 1 else f"{protocol}1"
    if not token.isdigit():
        return None
    if token in bases:
        return token
    protocol_matches = [b for b in bases if b.startswith("P") and b.endswith(f"-{token}")]
    if protocol_matches:
        return protocol_matches[0]
    return "P1-1" if token == "1" else token  # noqa: S105


def outcome_of(violations: list[str], non_violations: list[str], conclusion: str) -> Outcome:
    if violations:
        return Outcome.WIN
    if non_violations:
        return Outcome.LOSS
    if "inadmissible" in conclusion.lower():
        return Outcome.INADMISSIBLE
    return Outcome.NONE_YET


def _split(value: str) -> list[str]:
    return [t.strip() for t in value.split(";") if t.strip()]


def _state_names(iso3: str) -> list[str]:
    """How the Court's conclusions name a state: 'the Republic of Moldova', 'Russia'..."""
    import pycountry

    country = pycountry.countries.get(alpha_3=iso3)
    if country is None:
        return [iso3]
    names = {country.name, getattr(country, "common_name", country.name)}
    names |= {getattr(country, "official_name", country.name)}
    # "Moldova, Republic of" -> "Moldova"; "Russian Federation" -> "Russia" (as HUDOC writes).
    names |= {n.split(",")[0] for n in names}
    names |= {n.replace("Russian Federation", "Russia") for n in names}
    names |= {"Turkey"} if iso3 == "TUR" else set()
    return sorted(names)


def derive_respondent_conclusions(json_path: Path) -> list[dict[str, str]]:
    """Per judgment with several respondents and per state, the violation and no-violation
    articles, from the full ECHR-OD JSON (its conclusion elements name the state concerned in
    `mentions`; an element naming no state concerns them all). Rows as in RESPONDENTS_CSV."""
    import json

    with json_path.open(encoding="utf-8") as fh:
        judgments = json.load(fh)
    out = []
    for j in judgments:
        states = _split(j.get("respondent", "").upper())
        if len(states) < 2:
            continue
        names = {s: [n.lower() for n in _state_names(s)] for s in states}
        found: dict[str, dict[str, list[str]]] = {
            s: {"violation": [], "no-violation": []} for s in states
        }
        for element in j.get("conclusion", []):
            kind, article = element.get("type"), str(element.get("article") or "").strip()
            if kind not in ("violation", "no-violation") or not article:
                continue
            mentions = " | ".join(element.get("mentions", [])).lower()
            concerned = [s for s in states if any(n in mentions for n in names[s])] or states
            for state in concerned:
                if article not in found[state][kind]:
                    found[state][kind].append(article)
        for state in states:
            out.append(
                {
                    "itemid": j["itemid"],
                    "respondent": state,
                    "violation_articles": ";".join(found[state]["violation"]),
                    "nonviolation_articles": ";".join(found[state]["no-violation"]),
                }
            )
    return out


def read_respondent_conclusions(path: Path = RESPONDENTS_CSV) -> dict[tuple[str, str], dict]:
    """(itemid, ISO3) -> that state's row of RESPONDENTS_CSV."""
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        return {(r["itemid"], r["respondent"]): r for r in csv.DictReader(fh)}


@dataclass
class EchrResult:
    created: int = 0  # judgments with at least one case created
    unchanged: int = 0  # judgments already loaded in full
    cases: int = 0  # cases created: one per respondent state
    skipped_rows: list[str] = field(default_factory=list)  # reasons for whole rows skipped
    skipped_articles: Counter = field(default_factory=Counter)  # article -> times skipped
    treatments: Counter = field(default_factory=Counter)  # (provision, treatment) -> count


def read_rows(path: Path = FLAT_CSV) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _organisation(name: str) -> Organisation:
    org = db.session.scalar(
        select(Organisation).where(func.lower(Organisation.name) == name.lower())
    )
    if org is None:
        org = Organisation(name=name, short_name="ECHR-OD")
        db.session.add(org)
        db.session.flush()
        record_audit(action="organisation.create", entity=org, after={"name": name})
    return org


def import_echr_od(
    *, organisation: str = DEFAULT_ORGANISATION, path: Path = FLAT_CSV
) -> EchrResult:
    """Create the judgments not loaded yet; flush, never commit."""
    forum = db.session.scalar(select(Forum).where(Forum.code == FORUM_CODE))
    if forum is None:
        raise EchrImportError(
            "The forum ECTHR is missing: load the reference data first (tracker reference load)."
        )
    states = dict(
        db.session.execute(
            select(Jurisdiction.iso3, Jurisdiction.id).where(Jurisdiction.iso3.is_not(None))
        )
        .tuples()
        .all()
    )
    provisions = {
        p.code: p
        for p in db.session.scalars(
            select(Provision)
            .where(Provision.code.like("ECHR:%"))
            .options(selectinload(Provision.rights))
        )
    }
    org = _organisation(organisation)
    existing = set(
        db.session.scalars(select(Case.reference).where(Case.lead_organisation_id == org.id))
    )
    result = EchrResult()
    created: list[Case] = []
    per_state = read_respondent_conclusions()
    with db.session.no_autoflush:
        _load_rows(
            read_rows(path), result, created, existing, states, provisions, forum, org, per_state
        )
    db.session.flush()
    for case in created:
        record_audit(
            action="case.create",
            entity=case,
            after={"reference": case.reference, "title": case.title, "source": "ECHR-OD"},
            summary="ECHR-OD import",
        )
    db.session.flush()
    return result


def _reference(itemid: str, respondents: list[str], index: int) -> str:
    # The first state keeps the bare item id (what earlier imports keyed the judgment by).
    return itemid if index == 0 else f"{itemid}/{respondents[index]}"


def _load_rows(rows, result, created, existing, states, provisions, forum, org, per_state):
    for row in rows:
        itemid = row["itemid"].strip()
        respondents = _split(row["respondent"].upper())
        references = [_reference(itemid, respondents, k) for k in range(len(respondents))]
        if references and all(ref in existing for ref in references):
            result.unchanged += 1
            continue
        unknown = [r for r in respondents if r not in states]
        if not respondents or len(unknown) == len(respondents):
            result.skipped_rows.append(f"{itemid}: unknown respondent state {row['respondent']}")
            continue
        if unknown:
            result.skipped_rows.append(
                f"{itemid}: unknown respondent state(s) {', '.join(unknown)} (the others loaded)"
            )
        judgment: list[Case] = []
        for k, iso3 in enumerate(respondents):
            if iso3 not in states:
                continue
            if references[k] in existing:
                old = db.session.scalar(
                    select(Case).where(
                        Case.lead_organisation_id == org.id, Case.reference == references[k]
                    )
                )
                judgment.append(old)
                continue
            conclusions = per_state.get((itemid, iso3), row) if len(respondents) > 1 else row
            case = _judgment_case(
                row, references[k], states[iso3], respondents, conclusions, result, provisions
            )
            case.lead_organisation_id = org.id
            case.proceedings[0].forum = forum
            db.session.add(case)
            created.append(case)
            existing.add(references[k])
            result.cases += 1
            judgment.append(case)
        result.created += 1
        # The cases of one judgment point to each other: the first to every other state's.
        first = judgment[0]
        for other in judgment[1:]:
            if first in created or other in created:
                db.session.add(
                    CaseLink(
                        source_case=first,
                        target_case=other,
                        kind=LinkKind.RELATED_TO,
                        note=f"Same ECtHR judgment ({itemid}), another respondent state.",
                    )
                )


def _judgment_case(row, reference, jurisdiction_id, respondents, conclusions, result, provisions):
    """One judgment's case for one respondent state, with the Court's conclusions on it."""
    itemid = row["itemid"].strip()
    bases = article_bases(row["articles"])
    case_provisions = []
    for base in bases:
        prov = provisions.get(f"ECHR:{base}")
        if prov is None:
            result.skipped_articles[base] += 1
        elif prov not in case_provisions:
            case_provisions.append(prov)
    violations = _split(conclusions["violation_articles"])
    non_violations = _split(conclusions["nonviolation_articles"])
    treatments: dict[str, Treatment] = {}
    for tokens, how in ((non_violations, Treatment.REJECTED), (violations, Treatment.UPHELD)):
        for token in tokens:
            base = resolve_conclusion_token(token, bases)
            code = f"ECHR:{base}" if base else None
            if code not in provisions:
                result.skipped_articles[base or token] += 1
                continue
            # A violation found on one complaint outweighs a non-violation on another.
            if treatments.get(code) != Treatment.UPHELD:
                treatments[code] = how
    for code in treatments:
        if provisions[code] not in case_provisions:
            case_provisions.append(provisions[code])
    outcome = outcome_of(violations, non_violations, row["conclusion"])
    decided_on = _date(row["judgementdate"])
    apps = _split(row["appno"])
    proc_reference = ";".join(apps)
    notes = None
    if len(proc_reference) > REFERENCE_MAX:
        shown = []
        for app_no in apps:
            if len(";".join([*shown, app_no])) + 12 > REFERENCE_MAX:
                break
            shown.append(app_no)
        proc_reference = ";".join(shown) + f" (+{len(apps) - len(shown)})"
        notes = "Application numbers: " + "; ".join(apps)
    if len(respondents) > 1:
        extra = (
            "Respondent states: "
            + "; ".join(respondents)
            + ". One case per respondent state, with the Court's conclusions on that state "
            + f"(HUDOC {itemid})."
        )
        notes = f"{notes}\n{extra}" if notes else extra
    rights = []
    for prov in case_provisions:
        for right in prov.rights:
            if right not in rights:
                rights.append(right)
    case = Case(
        reference=reference,
        title=row["docname"].strip()[:300],
        case_type=CaseType.INDIVIDUAL_COMPLAINT,
        summary=row["conclusion"].strip() or None,
        jurisdiction_id=jurisdiction_id,
        confidentiality=Confidentiality.PUBLIC,
        status=Status.DECIDED,
        outcome=outcome,
    )
    case.provisions = case_provisions
    case.rights = rights
    proceeding = Proceeding(
        position=0,
        reference=proc_reference or None,
        filed_on=None,
        decided_on=decided_on,
        status=Status.DECIDED,
        outcome=outcome,
        ecli=row["ecli"].strip()[:80] or None,
        notes=notes,
    )
    proceeding.treatments = [
        ProceedingTreatment(provision=provisions[code], treatment=how)
        for code, how in treatments.items()
    ]
    for code, how in treatments.items():
        result.treatments[(code, how.value)] += 1
    case.proceedings = [proceeding]
    return case


def _date(raw: str) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return datetime.strptime(raw, "%d/%m/%Y").date()
    except ValueError:
        return None
