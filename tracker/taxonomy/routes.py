"""Views of the taxonomy area."""

from tracker.taxonomy import bp  # noqa: F401
