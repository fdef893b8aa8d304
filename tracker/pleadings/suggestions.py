"""Model pleadings suggested for a case, ranked, each with the reasons in words.

Score = relevance + context, where relevance must be positive for a pleading to appear at
all (a pleading that only shares the language or has a good record is not "for" this case):

  relevance = WEIGHT_PROVISION x shared provisions
            + WEIGHT_RIGHT     x shared rights (crosswalk-aware: both sides' rights are
                                 widened with the rights their provisions map to, so a
                                 pleading tagged ECHR:5 matches a case tagged "liberty")
            + WEIGHT_FORUM if a forum of the case's proceedings is one the pleading fits,
              else WEIGHT_SYSTEM if a regional/UN system of the case is one the pleading
              fits (the systems of the case's forums, and those its state is a member of:
              a Greek case with only domestic proceedings fits an ECtHR pleading)
            + WEIGHT_TEXT x TF-IDF cosine of the case's summary/aim/arguments with the
              pleading's title, summary, notes and text (counted from TEXT_MIN_SIMILARITY)
  context   = WEIGHT_LANGUAGE if the pleading's language is one of the case's documents'
              languages (else the user's locale)
            + WEIGHT_WIN x wins among the VISIBLE cases that used it (at most TRACK_WINS_CAP),
              the case being viewed left out (its own use says nothing about this case)
            + ENDORSED_BOOST if the network endorsed it

Everything goes through pleading_filter() and case_filter(): a pleading the user may not
see is never suggested, and track records count only cases the user may see. The library is
scored in Python (a network's library is thousands of items, not millions); the candidate
set is capped at MAX_CANDIDATES, most recently updated first.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from babel.lists import format_list
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from tracker.access import can, can_see_case, document_filter, pleading_filter
from tracker.cases.models import Case
from tracker.documents.models import Document
from tracker.extensions import db
from tracker.pleadings.models import ModelPleading, PleadingUse
from tracker.taxonomy.models import Jurisdiction, JurisdictionKind, Provision, SystemMembership

# --- Scoring weights (documented in the module docstring) ------------------------------------
WEIGHT_PROVISION = 4.0  # per provision both invoke: the strongest sign the argument transfers
WEIGHT_RIGHT = 3.0  # per right in common (after the crosswalk)
WEIGHT_FORUM = 3.0  # the pleading was written for a forum this case is before
WEIGHT_SYSTEM = 1.5  # ... or for the same regional / UN system
WEIGHT_TEXT = 4.0  # times the cosine similarity (0..1) of the texts
TEXT_MIN_SIMILARITY = 0.08  # below this, texts are treated as unrelated
WEIGHT_LANGUAGE = 1.5  # no translation needed
WEIGHT_WIN = 1.0  # per win among visible cases that used it ...
TRACK_WINS_CAP = 3  # ... counted up to this many
ENDORSED_BOOST = 2.0  # endorsed by the network's coordinators
MAX_CANDIDATES = 2000
TEXT_CHARS = 20_000  # of each version's extracted text used for similarity

_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_STOPWORDS = frozenset(
    """the and for that with this from are was were been has have had not but his her their
    its they them which who whom whose what when where why how all any can could should would
    may might must shall will into onto than then there these those such also other our out
    over under upon about after before between during against within without per via les des
    une dans pour par sur avec est son ses aux que qui pas los las del por con para una
    como más sus que dos das com para uma pelo pela nos""".split()  # noqa: SIM905
)


@dataclass
class Suggestion:
    pleading: ModelPleading
    score: float
    reasons: list[str] = field(default_factory=list)
    cases: int = 0
    wins: int = 0
    used_here: bool = False


def _tokens(text: str) -> list[str]:
    return [w for w in (m.lower() for m in _WORD.findall(text or "")) if w not in _STOPWORDS]


def _tfidf_cosines(query: str, documents: dict[int, str]) -> dict[int, float]:
    """Cosine similarity of each document with the query, in TF-IDF space over them all."""
    query_tf = Counter(_tokens(query))
    if not query_tf:
        return {}
    doc_tfs = {key: Counter(_tokens(text)) for key, text in documents.items()}
    n = len(doc_tfs) + 1
    df: Counter = Counter(query_tf.keys())
    for tf in doc_tfs.values():
        df.update(tf.keys())
    idf = {term: math.log((1 + n) / (1 + count)) + 1.0 for term, count in df.items()}

    def vector(tf: Counter) -> dict[str, float]:
        return {t: (1 + math.log(c)) * idf[t] for t, c in tf.items()}

    q = vector(query_tf)
    q_norm = math.sqrt(sum(v * v for v in q.values()))
    result = {}
    for key, tf in doc_tfs.items():
        if not tf:
            continue
        d = vector(tf)
        dot = sum(weight * d[t] for t, weight in q.items() if t in d)
        if dot:
            result[key] = dot / (q_norm * math.sqrt(sum(v * v for v in d.values())))
    return result


def _right_ids(rights: Any, provisions: Any) -> dict[int, str]:
    ids = {r.id: r.name for r in rights}
    for provision in provisions:
        for right in provision.rights:
            ids.setdefault(right.id, right.name)
    return ids


def _via(name: str, right_id: int, provisions: Any) -> str:
    """ "Liberty (via ECHR:5)": the right reached through the pleading's provisions."""
    codes = sorted(p.code for p in provisions if any(r.id == right_id for r in p.rights))
    return _("%(right)s (via %(codes)s)", right=name, codes=", ".join(codes))


def _forum_systems(forums: Any) -> dict[int, str]:
    systems: dict[int, str] = {}
    for forum in forums:
        if forum.jurisdiction.kind == JurisdictionKind.SYSTEM:
            systems[forum.jurisdiction_id] = forum.jurisdiction.name
        if forum.instrument is not None and forum.instrument.system is not None:
            systems.setdefault(forum.instrument.system_id, forum.instrument.system.name)
    return systems


def _jurisdiction_systems(case: Case) -> dict[int, str]:
    """The systems the case's state is a member of now (or the case's own system)."""
    place = case.jurisdiction
    if place.kind == JurisdictionKind.SYSTEM:
        return {place.id: place.name}
    rows = db.session.execute(
        select(Jurisdiction.id, Jurisdiction.name)
        .join(SystemMembership, SystemMembership.system_id == Jurisdiction.id)
        .where(SystemMembership.state_id == place.id, SystemMembership.left_on.is_(None))
    )
    return dict(rows.tuples().all())


def _case_languages(user: Any, case: Case) -> set[str]:
    languages = set(
        db.session.scalars(
            select(Document.language)
            .where(Document.case_id == case.id, Document.language.is_not(None))
            .where(document_filter(user))
            .distinct()
        )
    )
    if not languages:
        locale = getattr(user, "locale", None) or str(get_locale() or "en")
        languages = {locale.split("_")[0]}
    return languages


def suggest_pleadings(user: Any, case: Case, limit: int = 5) -> list[Suggestion]:
    """The pleadings this user may see that fit the case best, with reasons, best first."""
    from tracker.pleadings.forms import language_name
    from tracker.pleadings.services import track_records

    if not can(user, "pleading.view") or not can_see_case(user, case):
        return []
    case_rights = _right_ids(case.rights, case.provisions)
    case_provisions = {p.id: p.code for p in case.provisions}
    case_forums = {proc.forum.id: proc.forum for proc in case.proceedings}
    case_forum_names = {fid: f.name for fid, f in case_forums.items()}
    case_systems = _forum_systems(case_forums.values())
    if case.jurisdiction.kind == JurisdictionKind.SYSTEM:
        case_systems.setdefault(case.jurisdiction_id, case.jurisdiction.name)
    # Systems the case reaches only through its state's memberships are worded as such.
    member_systems = {
        sid: name for sid, name in _jurisdiction_systems(case).items() if sid not in case_systems
    }
    languages = _case_languages(user, case)
    case_text = " ".join(
        x for x in (case.title, case.summary, case.strategic_aim, case.arguments) if x
    )

    candidates = list(
        db.session.scalars(
            select(ModelPleading)
            .where(pleading_filter(user))
            .options(
                selectinload(ModelPleading.rights),
                selectinload(ModelPleading.provisions).selectinload(Provision.rights),
                selectinload(ModelPleading.forums),
                selectinload(ModelPleading.systems),
            )
            .order_by(ModelPleading.updated_at.desc())
            .limit(MAX_CANDIDATES)
        )
    )
    if not candidates:
        return []
    ids = [p.id for p in candidates]
    texts = {
        p.id: " ".join(x for x in (p.title, p.summary, p.usage_notes) if x) for p in candidates
    }
    latest = (
        select(Document.pleading_id, func.max(Document.version).label("version"))
        .where(Document.pleading_id.in_(ids))
        .group_by(Document.pleading_id)
        .subquery()
    )
    for pleading_id, text in db.session.execute(
        select(Document.pleading_id, func.substr(Document.extracted_text, 1, TEXT_CHARS)).join(
            latest,
            (latest.c.pleading_id == Document.pleading_id) & (latest.c.version == Document.version),
        )
    ):
        if text:
            texts[pleading_id] += " " + text
    similarities = _tfidf_cosines(case_text, texts)
    records = track_records(user, ids, exclude_case_id=case.id)
    used_here = set(
        db.session.scalars(
            select(PleadingUse.pleading_id).where(
                PleadingUse.case_id == case.id, PleadingUse.pleading_id.in_(ids)
            )
        )
    )

    suggestions = []
    for pleading in candidates:
        reasons: list[str] = []
        relevance = 0.0
        shared_provisions = sorted(
            case_provisions[p.id] for p in pleading.provisions if p.id in case_provisions
        )
        if shared_provisions:
            relevance += WEIGHT_PROVISION * len(shared_provisions)
            reasons.append(_("same provision: %(codes)s", codes=", ".join(shared_provisions)))
        pleading_rights = _right_ids(pleading.rights, pleading.provisions)
        direct = {r.id for r in pleading.rights}
        shared_rights = sorted(
            name if rid in direct else _via(name, rid, pleading.provisions)
            for rid, name in case_rights.items()
            if rid in pleading_rights
        )
        if shared_rights:
            relevance += WEIGHT_RIGHT * len(shared_rights)
            reasons.append(
                ngettext(
                    "same right: %(names)s",
                    "same rights: %(names)s",
                    len(shared_rights),
                    names=", ".join(shared_rights),
                )
            )
        shared_forums = sorted(
            case_forum_names[f.id] for f in pleading.forums if f.id in case_forum_names
        )
        if shared_forums:
            relevance += WEIGHT_FORUM
            reasons.append(_("same forum: %(names)s", names=", ".join(shared_forums)))
        else:
            pleading_systems = {j.id: j.name for j in pleading.systems}
            pleading_systems.update(_forum_systems(pleading.forums))
            shared_systems = sorted(
                name for sid, name in case_systems.items() if sid in pleading_systems
            )
            via_state = sorted(
                name for sid, name in member_systems.items() if sid in pleading_systems
            )
            if shared_systems or via_state:
                relevance += WEIGHT_SYSTEM
            if shared_systems:
                reasons.append(
                    _("same regional system: %(names)s", names=", ".join(shared_systems))
                )
            if via_state:
                reasons.append(
                    ngettext(
                        "%(state)s is in the %(names)s system",
                        "%(state)s is in the %(names)s systems",
                        len(via_state),
                        state=case.jurisdiction.name,
                        names=format_list(via_state, locale=str(get_locale() or "en")),
                    )
                )
        similarity = similarities.get(pleading.id, 0.0)
        if similarity >= TEXT_MIN_SIMILARITY:
            relevance += WEIGHT_TEXT * similarity
            reasons.append(_("similar text (%(percent)s%% match)", percent=round(similarity * 100)))
        if relevance <= 0:
            continue
        score = relevance
        if pleading.language in languages:
            score += WEIGHT_LANGUAGE
            reasons.append(_("language: %(name)s", name=language_name(pleading.language)))
        record = records.get(pleading.id)
        cases = record.cases if record else 0
        wins = record.wins if record else 0
        if cases:
            score += WEIGHT_WIN * min(wins, TRACK_WINS_CAP)
            reasons.append(
                ngettext(
                    "used in %(num)s case, %(wins)s won",
                    "used in %(num)s cases, %(wins)s won",
                    cases,
                    wins=wins,
                )
            )
        if pleading.endorsed_at is not None:
            score += ENDORSED_BOOST
            reasons.append(_("endorsed by the network"))
        suggestions.append(
            Suggestion(
                pleading=pleading,
                score=round(score, 3),
                reasons=reasons,
                cases=cases,
                wins=wins,
                used_here=pleading.id in used_here,
            )
        )
    suggestions.sort(key=lambda s: (-s.score, s.pleading.title.lower(), s.pleading.id))
    return suggestions[:limit]
