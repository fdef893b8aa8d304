"""Administration: users, organisations, reference data, the audit trail."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from tracker.admin import routes  # noqa: E402,F401
