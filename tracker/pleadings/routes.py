"""Views of the pleadings area."""

from tracker.pleadings import bp  # noqa: F401
