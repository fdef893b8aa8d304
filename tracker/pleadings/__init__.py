"""The pleadings area (blueprint mounted at /pleadings)."""

from flask import Blueprint

bp = Blueprint("pleadings", __name__)

from tracker.pleadings import routes  # noqa: E402,F401
