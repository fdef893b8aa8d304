"""The time series and the geometry of the server-side charts: gaps are zeros, labels never
overlap (boxes from the same width estimate the chart uses), the map labels the big ones."""

from __future__ import annotations

from datetime import date
from itertools import combinations, pairwise

from tracker.cases.filters import parse_filters
from tracker.cases.models import Outcome, Status
from tracker.patterns import charts, queries
from tracker.patterns.queries import MapPoint, YearPoint


def test_a_year_without_filings_is_a_zero_not_a_gap(world, factory):
    # conftest's world files in 2020-2023; a win filed in 2016 leaves 2017-2019 empty.
    c = factory.case(organisation=world.o["A"], jurisdiction=world.j["FR"], title="Old win")
    c.rights = [world.r["liberty"]]
    factory.proceeding(
        c, world.f["FR-CE"], filed_on=date(2016, 4, 1), outcome=Outcome.WIN, status=Status.DECIDED
    )
    factory.db.session.commit()
    for filters in ({}, {"right": "liberty"}):
        points = queries.time_series(world.u["outsider"], parse_filters(filters))
        got = {p.year: (p.filed, p.wins, p.losses) for p in points}
        assert [p.year for p in points] == list(range(2016, 2024))
        assert got[2016] == (1, 1, 0)
        assert got[2017] == got[2018] == got[2019] == (0, 0, 0)
        # The empty years still link to their (empty) slice of the case list.
        assert points[1].filed_args["filed_from"] == "2017-01-01"
    chart = charts.year_chart(points)
    # The chart has a slot for every year, the empty ones included (zero-height bars).
    assert len(chart.bars) == 3 * len(points)
    assert [b.height for b in chart.bars[3:12]] == [0] * 9


def _point(year: int, filed: int, wins: int, losses: int) -> YearPoint:
    return YearPoint(year, filed, wins, losses, {}, {}, {})


def _boxes(chart: charts.YearChart):
    """(x0, x1, y0, y1) of every printed label: bar numbers, then year labels."""
    out = []
    for b in chart.bars:
        if b.show_value:
            w = charts.text_width(b.value, charts.VALUE_FONT)
            cx, y = b.x + b.width / 2, b.y - 3
            out.append((cx - w / 2, cx + w / 2, y - charts.VALUE_FONT, y))
    for x, year in chart.years:
        w = charts.text_width(year, charts.TICK_FONT)
        y = chart.baseline + 18
        out.append((x - w / 2, x + w / 2, y - charts.TICK_FONT, y))
    return out


def _overlap(a, b) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def test_thirty_years_of_big_numbers_have_no_overlapping_labels():
    points = [_point(y, 2000 + 300 * (y - 1996), 900, 1300) for y in range(1996, 2027)]
    chart = charts.year_chart(points)
    boxes = _boxes(chart)
    assert not [(a, b) for a, b in combinations(boxes, 2) if _overlap(a, b)]
    # Thinned, but still labelled: several years, evenly spaced, none outside the plot.
    labelled = [y for _, y in chart.years]
    assert 4 <= len(labelled) < len(points)
    assert len({b - a for a, b in pairwise(labelled)}) == 1
    assert all(chart.left <= x <= chart.width for x, _ in chart.years)
    # The tick numbers (up to 12000) fit left of the axis.
    assert charts.text_width(max(v for _, v in chart.ticks), charts.TICK_FONT) < chart.left - 6


def test_few_years_print_every_number_and_every_year():
    points = [_point(2020, 1, 1, 0), _point(2021, 0, 0, 0), _point(2022, 2, 1, 1)]
    chart = charts.year_chart(points)
    assert [y for _, y in chart.years] == [2020, 2021, 2022]
    assert [b.value for b in chart.bars if b.show_value] == [1, 1, 2, 1, 1]  # zeros unprinted
    assert not [(a, b) for a, b in combinations(_boxes(chart), 2) if _overlap(a, b)]


def _map_point(code: str, lat: float, lon: float, cases: int, wins: int = 0) -> MapPoint:
    return MapPoint(0, code, code, cases, wins, lat, lon, {}, {})


# Western Europe at the map's scale: centroids a few degrees apart, as on a real network's map.
EUROPE = {
    "FR": (46.0, 2.0), "DE": (51.0, 9.0), "BE": (50.8, 4.5), "NL": (52.1, 5.3),
    "LU": (49.8, 6.1), "CH": (46.8, 8.2), "AT": (47.5, 14.5), "CZ": (49.8, 15.5),
    "DK": (56.0, 10.0), "PL": (52.0, 19.0), "SK": (48.7, 19.7), "HU": (47.2, 19.5),
    "SI": (46.1, 14.8), "HR": (45.1, 15.2), "IT": (42.8, 12.8), "ES": (40.0, -4.0),
    "PT": (39.5, -8.0), "GB": (54.0, -2.0), "IE": (53.0, -8.0), "GR": (39.0, 22.0),
}  # fmt: skip


def test_map_labels_never_overlap_and_the_biggest_are_labelled():
    points = [
        _map_point(code, lat, lon, cases=1000 - 40 * k)
        for k, (code, (lat, lon)) in enumerate(EUROPE.items())
    ]
    view = charts.map_view(points)
    size = view.label_size
    boxes = {m.point.code: charts.label_box(m, size) for m in view.marks}
    placed = {code: b for code, b in boxes.items() if b is not None}
    assert not [(a, b) for a, b in combinations(placed, 2) if _overlap(placed[a], placed[b])]
    # Labels stay on the map.
    x, y, w, h = view.box
    assert all(x <= b[0] and b[1] <= x + w and y <= b[2] and b[3] <= y + h for b in placed.values())
    # The largest ones always get theirs (crowding drops only smaller ones), even where
    # every spot around them touches another circle.
    assert {"FR", "DE", "BE", "NL", "LU"} <= set(placed)
    assert len(placed) >= 8
    # Without the placement, every label sat above its circle: several collided.
    naive = []
    for m in view.marks:
        m.label_x, m.label_y, m.label_anchor = m.x, m.y - m.r - 0.3 * size, "middle"
        naive.append(charts.label_box(m, size))
    assert any(_overlap(a, b) for a, b in combinations(naive, 2))


def test_map_label_cap():
    # A grid of 100 well separated points: at most MAX_LABELS labels, the biggest ones.
    points = [
        _map_point(
            f"{chr(65 + i // 10)}{chr(65 + i % 10)}",
            60 - 12 * (i // 10),
            -150 + 30 * (i % 10),
            500 - i,
        )
        for i in range(100)
    ]
    view = charts.map_view(points)
    labelled = [m for m in view.marks if m.label_x is not None]
    assert len(labelled) == charts.MAX_LABELS
    assert min(m.point.cases for m in labelled) > max(
        m.point.cases for m in view.marks if m.label_x is None
    )


def test_the_biggest_crowded_marks_are_labelled_before_small_isolated_ones():
    """The 100k data set's map: a dense Europe with the biggest counts, and dozens of small
    isolated states elsewhere. The cap must not be spent on the small ones first."""
    crowded = [
        _map_point(code, lat, lon, cases=10000 - 300 * k)
        for k, (code, (lat, lon)) in enumerate(EUROPE.items())
    ]
    isolated = [
        _map_point(f"Z{i:02d}", -50 + 9 * (i // 12), -170 + 28 * (i % 12), cases=50 + i)
        for i in range(60)
    ]
    view = charts.map_view(crowded + isolated)
    labelled = {m.point.code for m in view.marks if m.label_x is not None}
    assert {"FR", "DE", "BE", "NL", "LU"} <= labelled
    boxes = [charts.label_box(m, view.label_size) for m in view.marks if m.label_x is not None]
    assert not [(a, b) for a, b in combinations(boxes, 2) if _overlap(a, b)]
