"""The patterns area (blueprint mounted at /patterns)."""

from flask import Blueprint

bp = Blueprint("patterns", __name__)

from tracker.patterns import routes  # noqa: E402,F401
