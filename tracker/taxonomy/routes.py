"""Type-ahead pickers over the reference data: JSON lists of up to 20 {code, label, detail}.

GET /taxonomy/jurisdictions?q=, /taxonomy/forums?q=&jurisdiction=, /taxonomy/rights?q=,
/taxonomy/provisions?q=&instrument=. Answers {"items": [...]}. Reference data is not
confidential, but the endpoints still sit behind the login gate like every page.
"""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _
from sqlalchemy import and_, case, or_, select
from sqlalchemy.orm import joinedload

from tracker.extensions import db
from tracker.taxonomy import bp
from tracker.taxonomy.models import (
    Forum,
    Instrument,
    InstrumentKind,
    Jurisdiction,
    JurisdictionKind,
    Provision,
    Right,
    SystemMembership,
)

LIMIT = 20


def _q() -> str:
    return (request.args.get("q") or "").strip()[:100]


def _tokens(q: str) -> list[str]:
    return [t for t in q.replace(",", " ").split() if t][:6]


def _like(token: str) -> str:
    escaped = token.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _answer(items: list[dict[str, str]]):
    response = jsonify(items=items[:LIMIT])
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


def _bad(param: str, message: str):
    return jsonify(error=400, errors={param: message}), 400


@bp.get("/jurisdictions")
def jurisdictions():
    q = _q()
    stmt = select(Jurisdiction)
    for token in _tokens(q):
        like = _like(token)
        stmt = stmt.where(
            or_(
                Jurisdiction.name.ilike(like, escape="\\"),
                Jurisdiction.code.ilike(token),
                Jurisdiction.iso3.ilike(token),
            )
        )
    exact = case((Jurisdiction.code.ilike(q), 0), (Jurisdiction.iso3.ilike(q), 0), else_=1)
    rows = db.session.scalars(stmt.order_by(exact, Jurisdiction.name).limit(LIMIT))
    return _answer(
        [
            {
                "code": j.code,
                "label": j.name,
                "detail": " · ".join(
                    x
                    for x in (
                        j.code,
                        _("supranational system") if j.kind == JurisdictionKind.SYSTEM else "",
                        j.region or "",
                    )
                    if x
                ),
            }
            for j in rows
        ]
    )


@bp.get("/forums")
def forums():
    q = _q()
    stmt = select(Forum).options(joinedload(Forum.jurisdiction))
    code = (request.args.get("jurisdiction") or "").strip()
    if code:
        place = db.session.scalar(
            select(Jurisdiction).where(Jurisdiction.code.in_({code, code.upper()}))
        )
        if place is None:
            return _bad("jurisdiction", _("Unknown code: %(codes)s", codes=code))
        # The state's own forums and those of the systems it belongs to (regional, UN).
        systems = select(SystemMembership.system_id).where(
            SystemMembership.state_id == place.id, SystemMembership.left_on.is_(None)
        )
        stmt = stmt.where(
            or_(Forum.jurisdiction_id == place.id, Forum.jurisdiction_id.in_(systems))
        )
    for token in _tokens(q):
        like = _like(token)
        stmt = stmt.where(
            or_(Forum.name.ilike(like, escape="\\"), Forum.code.ilike(like, escape="\\"))
        )
    rows = db.session.scalars(stmt.order_by(Forum.name).limit(LIMIT))
    items = []
    for f in rows:
        detail = [f.code, f.jurisdiction.name]
        if f.filing_limit_months:
            detail.append(_("filing limit %(n)d months", n=f.filing_limit_months))
        items.append({"code": f.code, "label": f.name, "detail": " · ".join(detail)})
    return _answer(items)


def _right_path(right: Right) -> str:
    names, seen, node = [], set(), right
    while node is not None and node.id not in seen and len(names) < 6:
        seen.add(node.id)
        names.append(node.name)
        node = node.parent
    return " \u203a ".join(reversed(names))  # e.g. "Protection > Non-refoulement"


@bp.get("/rights")
def rights():
    q = _q()
    stmt = select(Right).options(joinedload(Right.parent).joinedload(Right.parent))
    for token in _tokens(q):
        like = _like(token)
        stmt = stmt.where(
            or_(
                Right.name.ilike(like, escape="\\"),
                Right.code.ilike(like, escape="\\"),
                Right.description.ilike(like, escape="\\"),
            )
        )
    starts = case((Right.name.ilike(f"{q}%"), 0), else_=1) if q else Right.position
    rows = db.session.scalars(stmt.order_by(starts, Right.position, Right.name).limit(LIMIT))
    return _answer([{"code": r.code, "label": r.name, "detail": _right_path(r)} for r in rows])


def provision_label(p: Provision) -> str:
    """'ECHR art. 5 — Right to liberty and security' (principle no. for soft law)."""
    word = _("no.") if p.instrument.kind == InstrumentKind.SOFT_LAW else _("art.")
    return f"{p.instrument.short_title} {word} {p.number} — {p.title}"


@bp.get("/provisions")
def provisions():
    q = _q()
    stmt = select(Provision).join(Instrument).options(joinedload(Provision.instrument))
    instrument = (request.args.get("instrument") or "").strip()
    if instrument:
        inst = db.session.scalar(select(Instrument).where(Instrument.code == instrument))
        if inst is None:
            return _bad("instrument", _("Unknown code: %(codes)s", codes=instrument))
        stmt = stmt.where(Provision.instrument_id == inst.id)
    tokens = _tokens(q.replace(":", " ").replace("art.", " ").replace("Art.", " "))
    for token in tokens:
        like = _like(token)
        stmt = stmt.where(
            or_(
                Provision.number.ilike(token),
                Provision.title.ilike(like, escape="\\"),
                Instrument.code.ilike(like, escape="\\"),
                Instrument.short_title.ilike(like, escape="\\"),
                and_(Provision.code.ilike(like, escape="\\")),
            )
        )
    rows = db.session.scalars(
        stmt.order_by(Instrument.short_title, Provision.position, Provision.number).limit(LIMIT)
    )
    return _answer([{"code": p.code, "label": p.title, "detail": provision_label(p)} for p in rows])
