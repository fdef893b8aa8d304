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
    show_value: bool = True  # False when the number would not fit (it is in the table)


@dataclass
class YearChart:
    width: int
    height: int
    top: int
    plot_height: int
    left: int
    bars: list[Bar]
    years: list[tuple[float, int]]  # (x centre, year): the labelled years only
    ticks: list[tuple[float, int]]  # (y, value)
    baseline: float


# Text widths are estimated, not measured: a digit is about 0.65 em in the page's sans-serif.
VALUE_FONT, TICK_FONT, DIGIT_EM, LABEL_GAP = 10, 11, 0.65, 4


def text_width(text: object, font_size: float) -> float:
    return len(str(text)) * font_size * DIGIT_EM


def year_chart(points: list[YearPoint], *, width: int = 720, height: int = 260) -> YearChart:
    """Grouped bars per year: cases filed, won, lost.

    Labels never overlap: with many years only every k-th year is labelled, and the numbers
    over the bars are printed only where they fit (all three, else the filed one, else none;
    each bar keeps its number as a tooltip and the table below repeats them all).
    """
    right, top, bottom = 8, 16, 28
    peak = max((max(p.filed, p.wins, p.losses) for p in points), default=0)
    step = _nice_step(peak)
    scale_max = max(step * math.ceil(peak / step), 1) if peak else 1
    # Room for the longest tick number left of the axis.
    left = max(44, math.ceil(text_width(scale_max, TICK_FONT)) + 12)
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(points), 1)
    group = plot_w / n
    bar_w = min(group * 0.8 / 3, 28)
    widest = max(
        (text_width(max(p.filed, p.wins, p.losses), VALUE_FONT) for p in points), default=0
    )
    if widest + LABEL_GAP <= bar_w:
        shown = {"filed", "wins", "losses"}
    elif widest + LABEL_GAP <= group:
        shown = {"filed"}  # the tallest bar of its group: its number sits above the others
    else:
        shown = set()
    every = max(1, math.ceil((text_width(2000, TICK_FONT) + 2 * LABEL_GAP) / group))
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
            bars.append(
                Bar(
                    x0 + k * bar_w,
                    baseline - h,
                    bar_w - 1,
                    h,
                    value,
                    series,
                    args,
                    show_value=bool(value) and series in shown,
                )
            )
        # Labelled years are the multiples of `every` (2000, 2005, ...) when thinned.
        if every == 1 or p.year % every == 0:
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
    # Where its label goes (None: unlabelled, it would hide another; the table names it).
    label_x: float | None = None
    label_y: float | None = None
    label_anchor: str = "middle"

    @property
    def label(self) -> str:
        return f"{self.point.code} {self.point.cases}"


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
    marks.sort(key=lambda m: (-m.r, m.point.code))
    box = (round(left, 2), round(top, 2), round(width, 2), round(height, 2))
    label_size = round(1.5 * unit, 2)
    place_labels(marks, box, label_size)
    return MapView(marks, box, label_size)


# Bold capitals and digits are wider than the chart digits; the halo adds a little more.
LABEL_EM = 0.72
MAX_LABELS = 40

Box = tuple[float, float, float, float]  # x0, x1, y0, y1


def label_box(mark: MapMark, size: float) -> Box | None:
    if mark.label_x is None or mark.label_y is None:
        return None
    w = len(mark.label) * size * LABEL_EM
    x0 = {"start": mark.label_x, "end": mark.label_x - w}.get(
        mark.label_anchor, mark.label_x - w / 2
    )
    return (x0, x0 + w, mark.label_y - 0.9 * size, mark.label_y + 0.25 * size)


def _boxes_overlap(a: Box, b: Box) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def _hits_circle(b: Box, m: MapMark) -> bool:
    nx, ny = min(max(m.x, b[0]), b[1]), min(max(m.y, b[2]), b[3])
    return (nx - m.x) ** 2 + (ny - m.y) ** 2 < m.r**2


def place_labels(marks: list[MapMark], box: tuple[float, ...], size: float) -> None:
    """Label the biggest marks first (at most MAX_LABELS), each above, below, right or left
    of its circle: the first spot clear of other labels and circles, else the first clear of
    other labels only (labels have a halo and let clicks through), else no label. A mark left
    unlabelled is still a link named for screen readers, and a row of the table."""
    left, top, width, height = box
    inside = (left, left + width, top, top + height)
    placed: list[Box] = []
    for m in marks:
        if len(placed) >= MAX_LABELS:
            break
        gap = 0.3 * size
        spots = (
            (m.x, m.y - m.r - gap, "middle"),
            (m.x, m.y + m.r + 0.9 * size, "middle"),
            (m.x + m.r + gap, m.y + 0.35 * size, "start"),
            (m.x - m.r - gap, m.y + 0.35 * size, "end"),
        )
        chosen = None
        for strict in (True, False):
            for x, y, anchor in spots:
                m.label_x, m.label_y, m.label_anchor = round(x, 2), round(y, 2), anchor
                b = label_box(m, size)
                if (
                    inside[0] <= b[0]
                    and b[1] <= inside[1]
                    and inside[2] <= b[2]
                    and b[3] <= inside[3]
                    and not any(_boxes_overlap(b, other) for other in placed)
                    and not (strict and any(_hits_circle(b, o) for o in marks if o is not m))
                ):
                    chosen = (m.label_x, m.label_y, anchor, b)
                    break
            if chosen:
                break
        if chosen:
            m.label_x, m.label_y, m.label_anchor = chosen[:3]
            placed.append(chosen[3])
        else:
            m.label_x = m.label_y = None
            m.label_anchor = "middle"
