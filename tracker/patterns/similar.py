"""Similar cases across jurisdictions, for the case page.

similar_cases(user, case, limit=10): visible cases in OTHER jurisdictions that share at least
one right with the case (tags or crosswalked provisions), ranked by
    0.7 x weighted Jaccard of rights and provisions (a shared provision weighs 2, a right 1)
  + 0.3 x TF-IDF cosine similarity of title and summary.
The candidate set is bounded (the most recently updated CANDIDATE_LIMIT, read from the
(updated_at, id) index), so the cost does not grow with the size of the docket.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, or_, select, tuple_

from tracker.access import case_filter
from tracker.cases.models import Case, case_provisions, case_rights
from tracker.extensions import db
from tracker.taxonomy.models import Provision, Right, provision_rights

CANDIDATE_LIMIT = 400
CHUNK = 1000  # cases read in the first step, newest first (then twice as many each step)
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


def _candidates(
    user: Any, case: Case, r0: set[int]
) -> tuple[list[Any], dict[int, set[int]], dict[int, set[int]]]:
    """The CANDIDATE_LIMIT most recently updated visible cases in other jurisdictions that
    share a right with r0, and their tags.

    Cases are read newest first in growing chunks from ix_cases_updated_at_id (keyset, never a sort
    of the docket); each chunk is narrowed to the visible ones in other jurisdictions that
    share a right (probes of the tag tables' keys for these rows only). Most recent cases
    share a right, so one or two chunks usually suffice; at most MAX_SCANNED are read.
    """
    # Probes of the tag tables' (case_id, ...) keys for the chunk's rows only.
    sharing = or_(
        exists(
            select(case_rights.c.case_id).where(
                case_rights.c.case_id == Case.id, case_rights.c.right_id.in_(r0)
            )
        ),
        exists(
            select(case_provisions.c.case_id)
            .join(
                provision_rights,
                provision_rights.c.provision_id == case_provisions.c.provision_id,
            )
            .where(case_provisions.c.case_id == Case.id, provision_rights.c.right_id.in_(r0))
        ),
    )
    found: list[Any] = []  # rows of (id, title, summary)
    rights: dict[int, set[int]] = {}
    provisions: dict[int, set[int]] = {}
    after: tuple[Any, int] | None = None
    scanned = steps = 0
    while len(found) < CANDIDATE_LIMIT and scanned < MAX_SCANNED:
        stmt = select(Case.updated_at, Case.id).order_by(Case.updated_at.desc(), Case.id.desc())
        if after is not None:
            # A row-value comparison: both databases turn it into a range of the index.
            stmt = stmt.where(tuple_(Case.updated_at, Case.id) < tuple_(*after))
        size = min(CHUNK << steps, MAX_SCANNED - scanned)  # doubling: few steps when rare
        steps += 1
        chunk = db.session.execute(stmt.limit(size)).all()
        if not chunk:
            break
        scanned += len(chunk)
        after = (chunk[-1][0], chunk[-1][1])
        # Only what scoring reads (the Case rows of the few shown are loaded afterwards):
        # building 400 full ORM cases was most of the page's time.
        visible = db.session.execute(
            select(Case.id, Case.title, Case.summary).where(
                Case.id.in_([row[1] for row in chunk]),
                Case.id != case.id,
                Case.jurisdiction_id != case.jurisdiction_id,
                case_filter(user),
                sharing,
            )
        ).all()
        if visible:
            order = {row[1]: i for i, row in enumerate(chunk)}
            taken = sorted(visible, key=lambda c: order[c.id])[: CANDIDATE_LIMIT - len(found)]
            chunk_rights, chunk_provisions = _tags([c.id for c in taken])
            found.extend(taken)
            rights.update(chunk_rights)
            provisions.update(chunk_provisions)
        if len(chunk) < size:  # the oldest case has been read
            break
    return found, rights, provisions


def similar_cases(user: Any, case: Case, limit: int = 10) -> list[SimilarCase]:
    """The visible cases most like this one in other jurisdictions (see module docstring)."""
    own_rights, own_provisions = _tags([case.id])
    r0, p0 = own_rights.get(case.id, set()), own_provisions.get(case.id, set())
    if not r0:
        return []
    candidates, rights, provisions = _candidates(user, case, r0)
    if not candidates:
        return []

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
    loaded = {
        c.id: c for c in db.session.scalars(select(Case).where(Case.id.in_([t[2].id for t in top])))
    }
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
