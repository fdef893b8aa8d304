"""Views of the patterns area."""

from tracker.patterns import bp  # noqa: F401
