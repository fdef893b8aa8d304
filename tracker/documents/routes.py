"""Views of the documents area."""

from tracker.documents import bp  # noqa: F401
