"""Home page, /healthz and the error handlers."""

from __future__ import annotations

from flask import jsonify, render_template, request
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


def _render_error(status: int, template: str, reason: str):
    if _wants_json():
        return jsonify(error=status, reason=reason), status
    return render_template(template, status=status, reason=reason), status


@bp.app_errorhandler(400)
def bad_request(exc):
    return _render_error(400, "errors/error.html", getattr(exc, "description", "Bad request"))


@bp.app_errorhandler(403)
def forbidden(_exc):
    return _render_error(403, "errors/error.html", "You are not allowed to do this.")


@bp.app_errorhandler(404)
def not_found(_exc):
    return _render_error(404, "errors/error.html", "There is nothing here.")


@bp.app_errorhandler(405)
def method_not_allowed(_exc):
    return _render_error(405, "errors/error.html", "This action is not available here.")


@bp.app_errorhandler(413)
def too_large(_exc):
    return _render_error(413, "errors/error.html", "The file is too large.")


@bp.app_errorhandler(429)
def too_many(_exc):
    return _render_error(
        429, "errors/error.html", "Too many attempts. Wait a little and try again."
    )


@bp.app_errorhandler(500)
def server_error(_exc):
    db.session.rollback()
    return _render_error(500, "errors/error.html", "Something went wrong on our side.")
