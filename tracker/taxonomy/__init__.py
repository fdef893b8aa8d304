"""The taxonomy area (blueprint mounted at /taxonomy)."""

from flask import Blueprint

bp = Blueprint("taxonomy", __name__)

from tracker.taxonomy import routes  # noqa: E402,F401
