"""The cases area (blueprint mounted at /cases)."""

from flask import Blueprint

bp = Blueprint("cases", __name__)

from tracker.cases import routes  # noqa: E402,F401
