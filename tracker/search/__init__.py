"""The search area (blueprint mounted at /search)."""

from flask import Blueprint

bp = Blueprint("search", __name__)

from tracker.search import routes  # noqa: E402,F401
