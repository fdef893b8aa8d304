"""Home page, /healthz and the error handlers."""

from __future__ import annotations

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from tracker.access import case_filter
from tracker.cases.models import Case
from tracker.extensions import db
from tracker.main import bp


@bp.get("/")
def index():
    visible = db.session.scalar(
        select(func.count()).select_from(Case).where(case_filter(current_user))
    )
    return render_template("main/index.html", visible_cases=visible or 0)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


def _render_error(status: int, reason: str):
    if _wants_json():
        # The API's shape ({"error": "not_found", "reason": ...}) for every JSON error, also
        # for those raised before a request reaches the API blueprint (routing, the input
        # checks in tracker.security).
        from tracker.api.auth import error_response

        return error_response(status, reason)
    return render_template("errors/error.html", status=status, reason=reason), status


def _described(exc, default: str) -> str:
    """The description given with abort(400, description), else our own wording."""
    description = getattr(exc, "description", None)
    if not description or description == type(exc).description:
        return default
    return str(description)


@bp.app_errorhandler(400)
def bad_request(exc):
    return _render_error(400, _described(exc, _("The request could not be understood.")))


@bp.app_errorhandler(403)
def forbidden(_exc):
    return _render_error(403, _("You are not allowed to do this."))


@bp.app_errorhandler(404)
def not_found(_exc):
    return _render_error(404, _("There is nothing here."))


@bp.app_errorhandler(405)
def method_not_allowed(_exc):
    return _render_error(405, _("This action is not available here."))


@bp.app_errorhandler(413)
def too_large(_exc):
    return _render_error(413, _("The file is too large."))


@bp.app_errorhandler(429)
def too_many(_exc):
    return _render_error(429, _("Too many attempts. Wait a little and try again."))


@bp.app_errorhandler(500)
def server_error(_exc):
    db.session.rollback()
    return _render_error(500, _("Something went wrong on our side."))
