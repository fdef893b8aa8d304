"""Admin pages. Every view here requires the admin role."""

from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user

from tracker.access import can
from tracker.admin import bp


@bp.before_request
def _require_admin():
    if not can(current_user, "admin.users"):
        abort(404)  # the admin area does not announce itself to other roles


@bp.get("/")
def index():
    return render_template("admin/index.html")
