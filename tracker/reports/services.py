"""The network report: headline figures, rights x jurisdictions, outcomes over time, recent
wins, open knock-on opportunities and upcoming deadlines, all for one stated audience.

Every figure is computed over case_filter(user, audience): a report for the network never
counts an organisation or restricted record, whatever the person making it may see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select

from tracker.access import case_filter
from tracker.cases.filters import CaseFilters, apply_filters
from tracker.cases.models import (
    WINNING_OUTCOMES,
    Case,
    Event,
    Outcome,
    Proceeding,
    case_rights,
)
from tracker.extensions import db
from tracker.taxonomy.models import Forum, Jurisdiction, Right
from tracker.types import Confidentiality

MATRIX_ROWS = 12
MATRIX_COLUMNS = 10
LIST_LIMIT = 10
DEADLINE_DAYS = 90


@dataclass
class Period:
    start: date | None = None
    end: date | None = None

    def clause(self, column):
        parts = []
        if self.start:
            parts.append(column >= self.start)
        if self.end:
            parts.append(column <= self.end)
        return and_(*parts) if parts else None


@dataclass
class SeriesPoint:
    label: str
    wins: int
    losses: int
    other: int

    @property
    def total(self) -> int:
        return self.wins + self.losses + self.other


@dataclass
class Chart:
    """An SVG stacked bar chart laid out in Python, drawn by the template (no JS)."""

    width: int
    height: int
    bars: list[dict[str, Any]]
    ticks: list[dict[str, Any]]
    baseline: int


@dataclass
class Report:
    audience: Confidentiality
    filters: CaseFilters
    period: Period
    cases: int = 0
    proceedings: int = 0
    decided: int = 0
    wins: int = 0
    jurisdictions: int = 0
    matrix_rights: list[tuple[int, str]] = field(default_factory=list)
    matrix_columns: list[tuple[int, str, str]] = field(default_factory=list)
    matrix: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    series: list[SeriesPoint] = field(default_factory=list)
    chart: Chart | None = None
    recent_wins: list[Any] = field(default_factory=list)
    opportunities: list[dict[str, Any]] = field(default_factory=list)
    opportunities_available: bool = True
    deadlines: list[Any] = field(default_factory=list)

    @property
    def win_rate(self) -> float | None:
        return self.wins / self.decided if self.decided else None


def _visible_ids(user, audience: Confidentiality, filters: CaseFilters):
    return apply_filters(select(Case.id).where(case_filter(user, audience)), filters)


def build_report(
    *, user: Any, audience: Confidentiality, filters: CaseFilters, period: Period
) -> Report:
    report = Report(audience=audience, filters=filters, period=period)
    ids = _visible_ids(user, audience, filters).subquery()
    case_ids = select(ids.c.id)
    s = db.session
    report.cases = s.scalar(select(func.count()).select_from(ids)) or 0
    report.jurisdictions = (
        s.scalar(
            select(func.count(func.distinct(Case.jurisdiction_id))).where(Case.id.in_(case_ids))
        )
        or 0
    )
    # Proceedings active in the period: filed or decided in it (all of them without a period).
    in_period = [Proceeding.case_id.in_(case_ids)]
    filed, decided = period.clause(Proceeding.filed_on), period.clause(Proceeding.decided_on)
    if filed is not None:
        in_period.append(or_(filed, decided))
    report.proceedings = s.scalar(select(func.count(Proceeding.id)).where(*in_period)) or 0
    decided_where = [
        Proceeding.case_id.in_(case_ids),
        Proceeding.outcome != Outcome.NONE_YET,
    ]
    if decided is not None:
        decided_where.append(decided)
    row = s.execute(
        select(
            func.count(Proceeding.id),
            func.coalesce(
                func.sum(case((Proceeding.outcome.in_(list(WINNING_OUTCOMES)), 1), else_=0)), 0
            ),
        ).where(*decided_where)
    ).one()
    report.decided, report.wins = int(row[0]), int(row[1])

    _matrix(report, case_ids)
    _series(report, case_ids, decided_where)
    report.recent_wins = s.execute(
        select(
            Case.id,
            Case.title,
            Jurisdiction.name.label("jurisdiction"),
            Forum.name.label("forum"),
            Proceeding.decided_on,
            Proceeding.outcome,
        )
        .join(Case, Case.id == Proceeding.case_id)
        .join(Jurisdiction, Jurisdiction.id == Case.jurisdiction_id)
        .join(Forum, Forum.id == Proceeding.forum_id)
        .where(*decided_where, Proceeding.outcome.in_(list(WINNING_OUTCOMES)))
        .order_by(Proceeding.decided_on.desc().nulls_last(), Proceeding.id.desc())
        .limit(LIST_LIMIT)
    ).all()
    _opportunities(report, user, audience, case_ids)
    today = date.today()
    report.deadlines = s.execute(
        select(Event.occurred_on, Event.title, Case.id.label("case_id"), Case.title.label("case"))
        .join(Case, Case.id == Event.case_id)
        .where(
            Event.case_id.in_(case_ids),
            Event.is_deadline.is_(True),
            Event.completed_at.is_(None),
            Event.occurred_on >= today,
            Event.occurred_on <= today + timedelta(days=DEADLINE_DAYS),
        )
        .order_by(Event.occurred_on, Event.id)
        .limit(LIST_LIMIT)
    ).all()
    return report


def _matrix(report: Report, case_ids) -> None:
    """Top rights x top jurisdictions: cases and cases won, per cell."""
    s = db.session
    won = func.sum(case((Case.outcome.in_(list(WINNING_OUTCOMES)), 1), else_=0))
    rows = s.execute(
        select(case_rights.c.right_id, Case.jurisdiction_id, func.count(Case.id), won)
        .join(Case, Case.id == case_rights.c.case_id)
        .where(Case.id.in_(case_ids))
        .group_by(case_rights.c.right_id, Case.jurisdiction_id)
    ).all()
    right_totals: dict[int, int] = {}
    jur_totals: dict[int, int] = {}
    for right_id, jur_id, n, w in rows:
        report.matrix[(right_id, jur_id)] = (int(n), int(w or 0))
        right_totals[right_id] = right_totals.get(right_id, 0) + int(n)
        jur_totals[jur_id] = jur_totals.get(jur_id, 0) + int(n)
    top_rights = sorted(right_totals, key=lambda k: (-right_totals[k], k))[:MATRIX_ROWS]
    top_jurs = sorted(jur_totals, key=lambda k: (-jur_totals[k], k))[:MATRIX_COLUMNS]
    names = dict(
        s.execute(select(Right.id, Right.name).where(Right.id.in_(top_rights))).tuples().all()
    )
    report.matrix_rights = [(i, names[i]) for i in top_rights]
    jurs = {
        i: (code, name)
        for i, code, name in s.execute(
            select(Jurisdiction.id, Jurisdiction.code, Jurisdiction.name).where(
                Jurisdiction.id.in_(top_jurs)
            )
        )
    }
    report.matrix_columns = [(i, *jurs[i]) for i in top_jurs]


def _series(report: Report, case_ids, decided_where) -> None:
    """Decided proceedings per year of decision: wins, losses, other outcomes."""
    year = func.extract("year", Proceeding.decided_on)
    win = func.sum(case((Proceeding.outcome.in_(list(WINNING_OUTCOMES)), 1), else_=0))
    loss = func.sum(case((Proceeding.outcome == Outcome.LOSS, 1), else_=0))
    rows = db.session.execute(
        select(year, win, loss, func.count(Proceeding.id))
        .where(*decided_where, Proceeding.decided_on.is_not(None))
        .group_by(year)
        .order_by(year)
    ).all()
    report.series = [
        SeriesPoint(str(int(y)), int(w or 0), int(lo or 0), int(n) - int(w or 0) - int(lo or 0))
        for y, w, lo, n in rows
    ]
    report.chart = layout_chart(report.series)


def layout_chart(points: list[SeriesPoint], width: int = 640, height: int = 240) -> Chart | None:
    if not points:
        return None
    top, bottom, left = 16, 28, 40
    plot_h = height - top - bottom
    peak = max(p.total for p in points) or 1
    step = max(1, -(-peak // 4))
    scale_max = step * 4
    slot = (width - left - 8) / len(points)
    bar_w = max(4.0, min(48.0, slot * 0.6))
    bars = []
    for i, p in enumerate(points):
        x = left + i * slot + (slot - bar_w) / 2
        y = top + plot_h
        segments = []
        for kind, value in (("win", p.wins), ("loss", p.losses), ("other", p.other)):
            h = plot_h * value / scale_max
            y -= h
            segments.append(
                {"kind": kind, "value": value, "x": round(x, 1), "y": round(y, 1), "h": round(h, 1)}
            )
        bars.append(
            {
                "label": p.label,
                "x": round(x, 1),
                "w": round(bar_w, 1),
                "cx": round(x + bar_w / 2, 1),
                "total": p.total,
                "top": round(y, 1),
                "segments": segments,
            }
        )
    ticks = [
        {"value": step * k, "y": round(top + plot_h - plot_h * step * k / scale_max, 1)}
        for k in range(5)
    ]
    return Chart(width=width, height=height, bars=bars, ticks=ticks, baseline=top + plot_h)


def _opportunities(report: Report, user, audience: Confidentiality, case_ids) -> None:
    """Open or assigned opportunities supported by a win in the selection, best first, each
    with the basis of the best such win (so the words come from what the audience may see)."""
    try:
        from tracker.patterns.opportunities import basis_text, from_cases
    except ImportError:  # the patterns area has not landed
        report.opportunities_available = False
        return
    rows = from_cases(user, audience, case_ids, limit=LIST_LIMIT)
    if not rows:
        return
    rights = dict(
        db.session.execute(
            select(Right.id, Right.name).where(Right.id.in_({o.right_id for o, _w in rows}))
        )
        .tuples()
        .all()
    )
    targets = dict(
        db.session.execute(
            select(Jurisdiction.id, Jurisdiction.name).where(
                Jurisdiction.id.in_({o.target_jurisdiction_id for o, _w in rows})
            )
        )
        .tuples()
        .all()
    )
    for o, best in rows:
        report.opportunities.append(
            {
                "right": rights.get(o.right_id, ""),
                "target": targets.get(o.target_jurisdiction_id, ""),
                "basis": basis_text(best.basis) if best else "",
                "source_case_id": best.case_id if best else None,
            }
        )
