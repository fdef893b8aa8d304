"""Template globals of the patterns area (unread-notifications count, case-list links)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus

from flask import Flask, g, url_for
from flask_login import current_user


def init_app(app: Flask) -> None:
    def unread_notifications() -> int:
        from tracker.patterns.services import unread_count

        try:
            return unread_count(current_user)
        except Exception:  # pragma: no cover - never break the header
            return 0

    app.jinja_env.globals["unread_notifications"] = unread_notifications
    app.jinja_env.globals["cases_url"] = cases_url
    init_case_partials(app)


def cases_url(args: Mapping[str, Any]) -> str:
    """url_for("cases.index", **args) for the many numbers of the patterns page: the path is
    built once per request and the parameters encoded directly (thousands of links)."""
    if "patterns_cases_path" not in g:
        g.patterns_cases_path = url_for("cases.index")
    if not args:
        return g.patterns_cases_path
    parts = []
    for key, value in args.items():
        for item in value if isinstance(value, list | tuple) else (value,):
            parts.append(f"{_quote(key)}={_quote(str(item))}")
    return f"{g.patterns_cases_path}?{'&'.join(parts)}"


@lru_cache(maxsize=8192)
def _quote(value: str) -> str:
    return quote_plus(value)


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
