"""Views of the cases area."""

from tracker.cases import bp  # noqa: F401
