"""Views of the api area."""

from tracker.api import bp  # noqa: F401
