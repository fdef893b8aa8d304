"""Views of the search area: /search/?q= over cases and documents, ranked and highlighted."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_login import current_user

from tracker.documents.forms import KIND_LABELS
from tracker.search import bp
from tracker.search.services import MAX_QUERY_CHARS, SCOPES, search

PER_PAGE = 20


def _page() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


@bp.get("/")
def index():
    q = (request.args.get("q") or "").strip()
    # No (valid) scope asked for: the service opens the tab that has results.
    asked = request.args.get("scope") if request.args.get("scope") in SCOPES else None
    scope = asked or "cases"
    kind = request.args.get("kind") or None
    error = None
    if len(q) > MAX_QUERY_CHARS:
        error = MAX_QUERY_CHARS
        results = None
    else:
        results = search(current_user, q, _page(), PER_PAGE, scope=asked, kind=kind)
        scope = results.scope

    def page_url(page: int, **changes) -> str:
        args = {"q": q, "scope": scope, "page": page}
        if kind:
            args["kind"] = kind
        args.update(changes)
        return url_for("search.index", **{k: v for k, v in args.items() if v})

    return render_template(
        "search/index.html",
        q=q,
        scope=scope,
        asked_scope=asked,
        results=results,
        error=error,
        page_url=page_url,
        kind_labels=KIND_LABELS,
    ), (400 if error else 200)
