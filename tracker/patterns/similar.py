"""Similar cases across jurisdictions, for the case page.

similar_cases(user, case, limit=10): visible cases in OTHER jurisdictions that share at least
one right with the case (tags or crosswalked provisions), ranked by
    0.7 x weighted Jaccard of rights and provisions (a shared provision weighs 2, a right 1)
  + 0.3 x TF-IDF cosine similarity of title and summary.
The candidate set is bounded (the most recently updated CANDIDATE_LIMIT), so the cost does not
grow with the size of the docket.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select

from tracker.access import case_filter
from tracker.cases.models import Case, case_provisions, case_rights
from tracker.extensions import db
from tracker.taxonomy.models import Provision, Right, provision_rights

CANDIDATE_LIMIT = 400
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


def _tokens(text: str) -> list[str]:
    return [w for w in (m.group(0).lower() for m in _WORD.finditer(text or "")) if w not in _STOP]


def _tags(case_ids: list[int]) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    rights: dict[int, set[int]] = defaultdict(set)
    provisions: dict[int, set[int]] = defaultdict(set)
    for cid, rid in db.session.execute(
        select(case_rights.c.case_id, case_rights.c.right_id).where(
            case_rights.c.case_id.in_(case_ids)
        )
    ):
        rights[cid].add(rid)
    for cid, pid, rid in db.session.execute(
        select(
            case_provisions.c.case_id, case_provisions.c.provision_id, provision_rights.c.right_id
        )
        .outerjoin(
            provision_rights, provision_rights.c.provision_id == case_provisions.c.provision_id
        )
        .where(case_provisions.c.case_id.in_(case_ids))
    ):
        provisions[cid].add(pid)
        if rid is not None:
            rights[cid].add(rid)
    return rights, provisions


def similar_cases(user: Any, case: Case, limit: int = 10) -> list[SimilarCase]:
    """The visible cases most like this one in other jurisdictions (see module docstring)."""
    own_rights, own_provisions = _tags([case.id])
    r0, p0 = own_rights.get(case.id, set()), own_provisions.get(case.id, set())
    if not r0:
        return []
    sharing = or_(
        Case.id.in_(select(case_rights.c.case_id).where(case_rights.c.right_id.in_(r0))),
        Case.id.in_(
            select(case_provisions.c.case_id)
            .join(
                provision_rights,
                provision_rights.c.provision_id == case_provisions.c.provision_id,
            )
            .where(provision_rights.c.right_id.in_(r0))
        ),
    )
    candidates = db.session.scalars(
        select(Case)
        .where(
            case_filter(user),
            Case.id != case.id,
            Case.jurisdiction_id != case.jurisdiction_id,
            sharing,
        )
        .order_by(Case.updated_at.desc(), Case.id.desc())
        .limit(CANDIDATE_LIMIT)
    ).all()
    if not candidates:
        return []
    ids = [c.id for c in candidates]
    rights, provisions = _tags(ids)

    docs = {c.id: Counter(_tokens(f"{c.title} {c.summary or ''}")) for c in candidates}
    own_doc = Counter(_tokens(f"{case.title} {case.summary or ''}"))
    df: Counter = Counter()
    for doc in [*docs.values(), own_doc]:
        df.update(doc.keys())
    n_docs = len(docs) + 1

    def vector(doc: Counter) -> dict[str, float]:
        return {t: tf * (math.log((1 + n_docs) / (1 + df[t])) + 1) for t, tf in doc.items()}

    def norm(v: dict[str, float]) -> float:
        return math.sqrt(sum(x * x for x in v.values())) or 1.0

    own_vec = vector(own_doc)
    own_norm = norm(own_vec)
    scored = []
    for c in candidates:
        rc, pc = rights.get(c.id, set()), provisions.get(c.id, set())
        inter = 2 * len(p0 & pc) + len(r0 & rc)
        union = 2 * len(p0 | pc) + len(r0 | rc)
        tag_score = inter / union if union else 0.0
        vec = vector(docs[c.id])
        text_score = sum(w * own_vec.get(t, 0.0) for t, w in vec.items()) / (norm(vec) * own_norm)
        total = TAG_WEIGHT * tag_score + TEXT_WEIGHT * text_score
        scored.append((total, text_score, c, r0 & rc, p0 & pc))
    scored.sort(key=lambda s: (-s[0], -s[2].id))
    top = scored[:limit]
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
