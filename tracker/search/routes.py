"""Views of the search area."""

from tracker.search import bp  # noqa: F401
