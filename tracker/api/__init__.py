"""The api area (blueprint mounted at /api/v1)."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from tracker.api import routes  # noqa: E402,F401
