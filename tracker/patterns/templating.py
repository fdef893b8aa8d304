"""Template globals of the patterns area (the header's unread-notifications count)."""

from __future__ import annotations

from flask import Flask
from flask_login import current_user


def init_app(app: Flask) -> None:
    def unread_notifications() -> int:
        from tracker.patterns.services import unread_count

        try:
            return unread_count(current_user)
        except Exception:  # pragma: no cover - never break the header
            return 0

    app.jinja_env.globals["unread_notifications"] = unread_notifications
    init_case_partials(app)


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
