"""Geometry for the server-side SVG charts (no JS library): the templates draw, this computes.

Numbers are always printed next to the marks and repeated in a table, so colour is never the
only signal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tracker.patterns.queries import MapPoint, YearPoint


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    series: str  # filed | wins | losses
    href_args: dict


@dataclass
class YearChart:
    width: int
    height: int
    top: int
    plot_height: int
    left: int
    bars: list[Bar]
    years: list[tuple[float, int]]  # (x centre, year)
    ticks: list[tuple[float, int]]  # (y, value)
    baseline: float


def year_chart(points: list[YearPoint], *, width: int = 720, height: int = 260) -> YearChart:
    """Grouped bars per year: cases filed, won, lost."""
    left, right, top, bottom = 44, 8, 16, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((max(p.filed, p.wins, p.losses) for p in points), default=0)
    step = _nice_step(peak)
    scale_max = max(step * math.ceil(peak / step), 1) if peak else 1
    n = max(len(points), 1)
    group = plot_w / n
    bar_w = min(group * 0.8 / 3, 28)
    bars, years = [], []
    baseline = top + plot_h
    for i, p in enumerate(points):
        x0 = left + i * group + (group - 3 * bar_w) / 2
        for k, (series, value, args) in enumerate(
            (
                ("filed", p.filed, p.filed_args),
                ("wins", p.wins, p.wins_args),
                ("losses", p.losses, p.losses_args),
            )
        ):
            h = plot_h * value / scale_max
            bars.append(Bar(x0 + k * bar_w, baseline - h, bar_w - 1, h, value, series, args))
        years.append((left + i * group + group / 2, p.year))
    ticks = [(baseline - plot_h * v / scale_max, v) for v in range(0, int(scale_max) + 1, step)]
    return YearChart(width, height, top, plot_h, left, bars, years, ticks, baseline)


def _nice_step(peak: int) -> int:
    if peak <= 5:
        return 1
    raw = peak / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * magnitude:
            return int(m * magnitude)
    return int(10 * magnitude)  # pragma: no cover


@dataclass
class MapMark:
    point: MapPoint
    x: float
    y: float
    r: float
    r_wins: float


@dataclass
class MapView:
    marks: list[MapMark]
    box: tuple[float, float, float, float]  # the SVG viewBox: x, y, width, height
    label_size: float  # font size of the labels, in map units


# The whole map spans latitudes 84 N to 58 S (nothing of ours lies further out).
MAP_TOP, MAP_BOTTOM = 6.0, 148.0
MIN_WIDTH = 90.0


def map_view(points: list[MapPoint]) -> MapView:
    """Circles at centroids (area proportional to cases, an inner circle for wins), on a map
    zoomed to where the cases are (at least MIN_WIDTH degrees wide, 2:1)."""
    placed = [p for p in points if p.lat is not None]
    if not placed:
        return MapView([], (0.0, MAP_TOP, 360.0, MAP_BOTTOM - MAP_TOP), 2.6)
    xs, ys = [p.x for p in placed], [p.y for p in placed]
    pad = 12.0
    x0, x1 = min(xs) - pad, max(xs) + pad
    y0, y1 = min(ys) - pad, max(ys) + pad
    width = max(x1 - x0, 2 * (y1 - y0), MIN_WIDTH)
    width = min(width, 360.0)
    height = min(width / 2, MAP_BOTTOM - MAP_TOP)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left = min(max(cx - width / 2, 0.0), 360.0 - width)
    top = min(max(cy - height / 2, MAP_TOP), MAP_BOTTOM - height)
    unit = width / 100.0  # radii and labels keep their size on screen whatever the zoom
    peak = max(p.cases for p in placed)
    marks = []
    for p in placed:
        r = unit * (0.6 + 2.4 * math.sqrt(p.cases / peak))
        r_wins = r * math.sqrt(p.wins / p.cases) if p.cases else 0.0
        marks.append(MapMark(p, round(p.x, 2), round(p.y, 2), round(r, 2), round(r_wins, 2)))
    # Big circles first, so the small ones stay clickable on top.
    marks.sort(key=lambda m: -m.r)
    box = (round(left, 2), round(top, 2), round(width, 2), round(height, 2))
    return MapView(marks, box, round(1.5 * unit, 2))
