"""Template globals of the patterns area (unread-notifications count, case-list links)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from flask import Flask, g, url_for
from flask_babel import get_translations
from flask_login import current_user
from markupsafe import Markup, escape


def init_app(app: Flask) -> None:
    def unread_notifications() -> int:
        from tracker.patterns.services import unread_count

        try:
            return unread_count(current_user)
        except Exception:  # pragma: no cover - never break the header
            return 0

    app.jinja_env.globals["unread_notifications"] = unread_notifications
    app.jinja_env.globals["cases_url"] = cases_url
    app.jinja_env.globals["matrix_cells"] = matrix_cells
    init_case_partials(app)


def cases_url(args: Mapping[str, Any]) -> str:
    """url_for("cases.index", **args) for the many numbers of the patterns page: the path is
    built once per request and the parameters encoded directly (thousands of links)."""
    if "patterns_cases_path" not in g:
        g.patterns_cases_path = url_for("cases.index")
    encoded = getattr(args, "query_string", None)  # the patterns' lazy parameters
    if encoded is not None:
        query = encoded()
    else:
        from tracker.patterns.queries import encode_param

        query = "&".join(filter(None, (encode_param(k, v) for k, v in args.items())))
    return f"{g.patterns_cases_path}?{query}" if query else g.patterns_cases_path


def _matrix_words() -> tuple[str, str, str, str]:
    if "patterns_matrix_words" not in g:
        t = get_translations()
        g.patterns_matrix_words = (
            t.gettext("%(n)s cases on %(right)s in %(col)s"),
            t.gettext("won"),
            t.gettext("decided"),
            t.gettext("no cases"),
        )
    return g.patterns_matrix_words


def matrix_cells(matrix: Any, columns: list, row: Any) -> Markup:
    """The <td> cells of one matrix row: the number of cases (a link with its label), won /
    decided (links) and the win rate, shaded by the share of the largest cell.

    Written here rather than in the template: a page shows a thousand cells and Jinja's
    per-cell calls took most of the page's time. Every text and URL goes through escape();
    the rest are integers."""
    cases_label, won, decided, none = _matrix_words()
    won, decided, none = escape(won), escape(decided), escape(none)
    top = matrix.max_cases
    empty = f'<td class="num heat-none"><span class="muted" aria-label="{none}">&ndash;</span>'
    empty += "</td>"
    path = escape(cases_url({}))
    out = []
    for col in columns:
        cell = matrix.cells.get((row.right_id, col.key))
        if cell is None:
            out.append(empty)
            continue
        n, w, d = int(cell.cases), int(cell.wins), int(cell.decided)
        heat = math.ceil(n / top * 5) if top else 0
        label = escape(cases_label % {"n": n, "right": row.label, "col": col.label})
        rate = f' <span class="rate">{int(w / d * 100 + 0.5)}%</span>' if d else ""
        cases_q, wins_q, decided_q = (escape(q) for q in cell.query_strings())
        out.append(
            f'<td class="num heat-{heat}"><a class="cell-cases" '
            f'href="{path}?{cases_q}" aria-label="{label}">{n}</a>'
            f'<span class="cell-detail"><a href="{path}?{wins_q}" '
            f'aria-label="{w} {won}">{w}</a>/<a href="{path}?{decided_q}" '
            f'aria-label="{d} {decided}">{d}</a>{rate}</span></td>'
        )
    return Markup("".join(out))  # noqa: S704 - built from escaped parts (see above)


def init_case_partials(app: Flask) -> None:
    """Globals for the partials the case page includes (similar cases, watch button)."""

    def similar_cases_for(case, limit: int = 10):
        from tracker.patterns.similar import similar_cases

        return similar_cases(current_user, case, limit=limit)

    def is_watching(kind: str, target_id: int) -> bool:
        from tracker.patterns.models import WatchKind
        from tracker.patterns.services import watched_ids

        return target_id in watched_ids(current_user, WatchKind(kind))

    def watch_form():
        from tracker.patterns.forms import WatchForm

        return WatchForm()

    app.jinja_env.globals.update(
        similar_cases_for=similar_cases_for,
        is_watching=is_watching,
        patterns_watch_form=watch_form,
    )
