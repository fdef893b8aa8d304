"""The network report: headline figures, rights x jurisdictions, outcomes over time, recent
wins, open knock-on opportunities and upcoming deadlines, all for one stated audience.

Every figure is computed over case_filter(user, audience): a report for the network never
counts an organisation or restricted record, whatever the person making it may see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, func, select

from tracker.access import case_filter
from tracker.cases.filters import CaseFilters, apply_filters, proceeding_window
from tracker.cases.models import (
    WINNING_OUTCOMES,
    Case,
    Event,
    Outcome,
    Proceeding,
)
from tracker.extensions import db
from tracker.patterns.queries import Column, Matrix, filter_args, rights_matrix
from tracker.taxonomy.models import Forum, Jurisdiction, Right
from tracker.types import Confidentiality

# A printed A4 page holds about this many matrix columns beside the right's name: wider
# matrices continue in further tables (each repeating the row heads), on screen and on paper.
MATRIX_COLUMNS_PER_TABLE = 8
# A report shows the jurisdictions with the most cases (the patterns page shows them all): a
# network-wide matrix has a column per state, which would fill dozens of printed pages.
MATRIX_MAX_COLUMNS = 24
LIST_LIMIT = 10
DEADLINE_DAYS = 90


class PeriodOutsideFilters(ValueError):
    """The report's period and the filed-from/to filters have no day in common."""


@dataclass
class Period:
    """The report's period: it selects proceedings *filed* in it, exactly as the filed_from /
    filed_to filters of the case list and the patterns page do, so every section of the report
    (and its exports) counts what /patterns/ and /cases/ count for the same dates."""

    start: date | None = None
    end: date | None = None

    def apply(self, filters: CaseFilters) -> CaseFilters:
        """The filters narrowed to the period (intersected with their own filed dates)."""
        if not (self.start or self.end):
            return filters
        starts = [d for d in (filters.filed_from, self.start) if d]
        ends = [d for d in (filters.filed_to, self.end) if d]
        start, end = (max(starts) if starts else None), (min(ends) if ends else None)
        if start and end and start > end:
            raise PeriodOutsideFilters()
        return filters.with_values(
            filed_from=start.isoformat() if start else [],
            filed_to=end.isoformat() if end else [],
        )


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
    matrix: Matrix | None = None
    matrix_columns_total: int = 0  # before keeping the MATRIX_MAX_COLUMNS largest
    # Query parameters of /patterns/ showing the same matrix (for the user's own visibility).
    patterns_args: dict[str, Any] = field(default_factory=dict)
    series: list[SeriesPoint] = field(default_factory=list)
    chart: Chart | None = None
    recent_wins: list[Any] = field(default_factory=list)
    opportunities: list[dict[str, Any]] = field(default_factory=list)
    opportunities_available: bool = True
    deadlines: list[Any] = field(default_factory=list)

    @property
    def win_rate(self) -> float | None:
        return self.wins / self.decided if self.decided else None

    @property
    def matrix_tables(self) -> list[list[Column]]:
        """The matrix's columns in runs that fit a printed page (see MATRIX_COLUMNS_PER_TABLE)."""
        if self.matrix is None or self.matrix.is_empty:
            return []
        cols = self.matrix.columns
        n = MATRIX_COLUMNS_PER_TABLE
        return [cols[i : i + n] for i in range(0, len(cols), n)]


def _visible_ids(user, audience: Confidentiality, filters: CaseFilters):
    return apply_filters(select(Case.id).where(case_filter(user, audience)), filters)


def build_report(
    *, user: Any, audience: Confidentiality, filters: CaseFilters, period: Period
) -> Report:
    """Raises PeriodOutsideFilters when the period and the filters' filing dates do not meet."""
    report = Report(audience=audience, filters=filters, period=period)
    effective = period.apply(filters)
    ids = _visible_ids(user, audience, effective).subquery()
    case_ids = select(ids.c.id)
    s = db.session
    report.cases = s.scalar(select(func.count()).select_from(ids)) or 0
    report.jurisdictions = (
        s.scalar(
            select(func.count(func.distinct(Case.jurisdiction_id))).where(Case.id.in_(case_ids))
        )
        or 0
    )
    # The proceedings a section counts: the forum and filing-date window, the same rule as
    # the patterns matrix, so the report's figures and its matrix agree.
    in_scope = [Proceeding.case_id.in_(case_ids), *proceeding_window(effective)]
    report.proceedings = s.scalar(select(func.count(Proceeding.id)).where(*in_scope)) or 0
    decided_where = [*in_scope, Proceeding.outcome != Outcome.NONE_YET]
    row = s.execute(
        select(
            func.count(Proceeding.id),
            func.coalesce(
                func.sum(case((Proceeding.outcome.in_(list(WINNING_OUTCOMES)), 1), else_=0)), 0
            ),
        ).where(*decided_where)
    ).one()
    report.decided, report.wins = int(row[0]), int(row[1])

    # The patterns' own matrix, for this audience and period: the same numbers as /patterns/.
    report.matrix = _largest_columns(
        report, rights_matrix(user, effective, "jurisdiction", audience=audience)
    )
    report.patterns_args = filter_args(effective)
    _series(report, decided_where)
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


def _largest_columns(report: Report, matrix: Matrix) -> Matrix:
    """Keep the MATRIX_MAX_COLUMNS columns with the most cases (in the patterns' order); the
    cells kept are the patterns' own."""
    report.matrix_columns_total = len(matrix.columns)
    if len(matrix.columns) <= MATRIX_MAX_COLUMNS:
        return matrix
    tops = [r.right_id for r in matrix.rows if r.depth == 0]
    weight = {
        col.key: sum(c.cases for r in tops if (c := matrix.cell(r, col.key)))
        for col in matrix.columns
    }
    ranked = sorted(matrix.columns, key=lambda col: (-weight[col.key], col.label))
    keep = {col.key for col in ranked[:MATRIX_MAX_COLUMNS]}
    columns = [col for col in matrix.columns if col.key in keep]
    cells = {k: v for k, v in matrix.cells.items() if k[1] in keep}
    return Matrix(matrix.dimension, matrix.rows, columns, cells, matrix.max_cases)


def _series(report: Report, decided_where) -> None:
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
