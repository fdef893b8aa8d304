"""Similar cases across jurisdictions, for the case page.

similar_cases(user, case, limit=10): visible cases in OTHER jurisdictions that share at least
one right with the case (tags or crosswalked provisions), ranked by
    0.7 x weighted Jaccard of rights and provisions (a shared provision weighs 2, a right 1)
  + 0.3 x TF-IDF cosine similarity of title and summary.
The candidate set is bounded (the most recently updated CANDIDATE_LIMIT among the MAX_SCANNED
most recently updated, read in one statement from the (updated_at, id) index, with the tags
of each), so the cost does not grow with the size of the docket.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, func, select, tuple_, union_all
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.util import ClauseAdapter

from tracker.access import case_filter
from tracker.cases.models import Case, case_provisions, case_rights
from tracker.extensions import db
from tracker.taxonomy.models import Provision, Right, provision_rights

CANDIDATE_LIMIT = 400
MAX_SCANNED = 20_000  # a bound on the walk when few recent cases share a right
TAG_WEIGHT, TEXT_WEIGHT = 0.7, 0.3
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "that",
        "this",
        "from",
        "was",
        "were",
        "are",
        "has",
        "have",
        "had",
        "not",
        "but",
        "its",
        "his",
        "her",
        "their",
        "they",
        "which",
        "who",
        "whom",
        "into",
        "under",
        "over",
        "about",
        "after",
        "before",
        "between",
        "against",
        "also",
        "been",
        "being",
        "than",
        "then",
        "there",
        "these",
        "those",
        "such",
        "case",
        "cases",
        "court",
        "state",
    ]
)


@dataclass
class SimilarCase:
    case: Case
    score: float
    shared_rights: list[str]
    shared_provisions: list[str]
    text_score: float


def _terms(text: str) -> Counter:
    """How often each word (3+ letters, lowercased, stopwords left out) occurs in the text."""
    return Counter(w for w in map(str.lower, _WORD.findall(text)) if w not in _STOP)


def _crosswalk() -> dict[int, set[int]]:
    """The rights each provision maps to (reference data, a few hundred rows: read whole)."""
    rights: dict[int, set[int]] = defaultdict(set)
    for pid, rid in db.session.execute(select(provision_rights)):
        rights[pid].add(rid)
    return rights


def _tag_lists(case_id: Any) -> tuple[Any, Any]:
    """The case's right ids and provision ids, each as one "1,5,9" string (scalar subqueries
    that probe the tag tables' (case_id, ...) keys)."""

    def listed(column: Any, key: Any) -> Any:
        return (
            select(func.aggregate_strings(cast(column, String), ","))
            .where(key == case_id)
            .scalar_subquery()
        )

    return (
        listed(case_rights.c.right_id, case_rights.c.case_id),
        listed(case_provisions.c.provision_id, case_provisions.c.case_id),
    )


def _ids(listed: str | None) -> set[int]:
    return {int(x) for x in listed.split(",")} if listed else set()


def _tags(
    rights_listed: str | None, provisions_listed: str | None, crosswalk: dict[int, set[int]]
) -> tuple[set[int], set[int]]:
    """(rights, provisions) of a case: its rights are those it is tagged with and those its
    provisions map to."""
    provisions = _ids(provisions_listed)
    return _ids(rights_listed).union(*(crosswalk[p] for p in provisions)), provisions


def _window(*columns: Any) -> Any:
    """The MAX_SCANNED most recently updated cases, newest first, as a subquery of `columns`.

    Both forms stream the (updated_at, id) index and stop as soon as the outer LIMIT is met,
    so a page reads about as many cases as it needs (a thousand or two), never the docket.
    PostgreSQL reads a LIMITed subquery lazily in index order. SQLite would materialise and
    sort one, so there the window's far end is found first (one covering-index read) and the
    subquery is a plain range that it flattens into the outer query.
    """
    newest_first = (Case.updated_at.desc(), Case.id.desc())
    if db.session.get_bind().dialect.name == "postgresql":
        return select(*columns).order_by(*newest_first).limit(MAX_SCANNED).subquery()
    recent = select(*columns)
    edge = db.session.execute(
        select(Case.updated_at, Case.id).order_by(*newest_first).offset(MAX_SCANNED - 1).limit(1)
    ).first()
    if edge is not None:
        # A row-value comparison: a range of the index on both columns.
        recent = recent.where(tuple_(Case.updated_at, Case.id) >= tuple_(*edge))
    return recent.subquery()


def _candidates(user: Any, case: Case, r0: set[int], p_r0: set[int]) -> list[Any]:
    """(id, title, summary, right ids, provision ids) of the CANDIDATE_LIMIT most recently
    updated cases among the MAX_SCANNED most recent that the user may see, in other
    jurisdictions, tagged with a right in r0 or a provision in p_r0 (those that map to one):
    one statement, which reads no more of the window than it needs.
    """
    recent = _window(
        Case.id,
        Case.updated_at,
        Case.title,
        Case.summary,
        Case.jurisdiction_id,
        Case.confidentiality,
        Case.lead_organisation_id,
    )
    # case_filter() is written over Case: the same conditions over the window's columns.
    visible = ClauseAdapter(recent).traverse(case_filter(user))
    # One correlated EXISTS over both tag tables' keys, probed for the rows read only. Two
    # EXISTS joined by OR are hashed by PostgreSQL instead: every case sharing a right (tens
    # of thousands of rows, growing with the docket) read on each page view.
    sharing = union_all(
        select(case_rights.c.case_id).where(
            case_rights.c.case_id == recent.c.id, case_rights.c.right_id.in_(r0)
        ),
        select(case_provisions.c.case_id).where(
            case_provisions.c.case_id == recent.c.id, case_provisions.c.provision_id.in_(p_r0)
        ),
    ).exists()
    return db.session.execute(
        select(recent.c.id, recent.c.title, recent.c.summary, *_tag_lists(recent.c.id))
        .where(
            recent.c.id != case.id,
            recent.c.jurisdiction_id != case.jurisdiction_id,
            visible,
            sharing,
        )
        .order_by(recent.c.updated_at.desc(), recent.c.id.desc())
        .limit(CANDIDATE_LIMIT)
    ).all()


def similar_cases(user: Any, case: Case, limit: int = 10) -> list[SimilarCase]:
    """The visible cases most like this one in other jurisdictions (see module docstring)."""
    crosswalk = _crosswalk()
    r0, p0 = _tags(*db.session.execute(select(*_tag_lists(case.id))).one(), crosswalk)
    if not r0:
        return []
    p_r0 = {pid for pid, rights in crosswalk.items() if rights & r0}
    candidates = _candidates(user, case, r0, p_r0)
    if not candidates:
        return []
    tags = {c.id: _tags(c[3], c[4], crosswalk) for c in candidates}

    docs = {c.id: _terms(f"{c.title} {c.summary or ''}") for c in candidates}
    own_doc = _terms(f"{case.title} {case.summary or ''}")
    df: Counter = Counter(own_doc.keys())
    for doc in docs.values():
        df.update(doc.keys())
    n_docs = len(docs) + 1
    idf = {t: math.log((1 + n_docs) / (1 + n)) + 1 for t, n in df.items()}
    own_vec = {t: tf * idf[t] for t, tf in own_doc.items()}
    own_norm = math.sqrt(sum(x * x for x in own_vec.values())) or 1.0
    scored = []
    for c in candidates:
        rc, pc = tags[c.id]
        inter = 2 * len(p0 & pc) + len(r0 & rc)
        union = 2 * len(p0 | pc) + len(r0 | rc)
        tag_score = inter / union if union else 0.0
        dot = norm2 = 0.0
        for t, tf in docs[c.id].items():
            w = tf * idf[t]
            norm2 += w * w
            if t in own_vec:
                dot += w * own_vec[t]
        text_score = dot / ((math.sqrt(norm2) or 1.0) * own_norm)
        total = TAG_WEIGHT * tag_score + TEXT_WEIGHT * text_score
        scored.append((total, text_score, c, r0 & rc, p0 & pc))
    scored.sort(key=lambda s: (-s[0], -s[2].id))
    top = scored[:limit]
    shown = select(Case).where(Case.id.in_([t[2].id for t in top]))
    # The partial names each case's jurisdiction: one join, not a query per case.
    loaded = {c.id: c for c in db.session.scalars(shown.options(joinedload(Case.jurisdiction)))}
    top = [
        (total, text, loaded[row.id], r, p) for total, text, row, r, p in top if row.id in loaded
    ]
    right_names = (
        dict(
            db.session.execute(
                select(Right.id, Right.name).where(Right.id.in_({r for t in top for r in t[3]}))
            ).all()
        )
        if top
        else {}
    )
    prov_codes = (
        dict(
            db.session.execute(
                select(Provision.id, Provision.code).where(
                    Provision.id.in_({p for t in top for p in t[4]})
                )
            ).all()
        )
        if top
        else {}
    )
    return [
        SimilarCase(
            case=c,
            score=round(total, 3),
            shared_rights=sorted(right_names[r] for r in shared_r if r in right_names),
            shared_provisions=sorted(prov_codes[p] for p in shared_p if p in prov_codes),
            text_score=round(text, 3),
        )
        for total, text, c, shared_r, shared_p in top
    ]
