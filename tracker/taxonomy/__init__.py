"""The taxonomy area (mounted at /taxonomy): pickers and the reference-data admin pages."""

from flask import Blueprint

bp = Blueprint("taxonomy", __name__)

from tracker.taxonomy import admin_routes, routes  # noqa: E402,F401
