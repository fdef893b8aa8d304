"""Admin pages: users and invitations, organisations, the audit trail. Admins only (404)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from tracker.access import can
from tracker.admin import bp
from tracker.admin.audit import withheld_entries
from tracker.admin.forms import (
    AuditFilterForm,
    OrganisationForm,
    UserCreateForm,
    UserEditForm,
)
from tracker.audit.models import AuditEntry
from tracker.auth.forms import ConfirmForm
from tracker.auth.mail import mail_configured, send_mail
from tracker.auth.models import Organisation, User
from tracker.auth.services import (
    AccountError,
    DuplicateEmail,
    create_user,
    disable_user,
    enable_user,
    invitation_max_age,
    invitation_token,
    record_invitation,
    reset_totp,
    save_organisation,
    update_user,
)
from tracker.extensions import db
from tracker.security import require
from tracker.taxonomy.models import Jurisdiction, JurisdictionKind
from tracker.types import Role

PER_PAGE = 50


@bp.before_request
def _require_admin():
    if not can(current_user, "admin.users"):
        abort(404)  # the admin area does not announce itself to other roles


@bp.get("/")
def index():
    return render_template("admin/index.html")


# --- Users -----------------------------------------------------------------------------------


def _organisation_choices() -> list[SelectChoice]:
    return [
        SelectChoice(org.id, org.name)
        for org in db.session.scalars(select(Organisation).order_by(func.lower(Organisation.name)))
    ]


def _user_form(form_class, **kwargs):
    form = form_class(**kwargs)
    form.organisation.choices = _organisation_choices()
    return form


@bp.get("/users")
@require("admin.users")
def users():
    q = (request.args.get("q") or "").strip()[:200]
    role = request.args.get("role") or ""
    status = request.args.get("status") or ""
    stmt = select(User).options(selectinload(User.organisation))
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(User.name).like(like), func.lower(User.email).like(like)))
    if role in {r.value for r in Role}:
        stmt = stmt.where(User.role == Role(role))
    if status == "active":
        stmt = stmt.where(User.disabled_at.is_(None), User.password_hash.is_not(None))
    elif status == "invited":
        stmt = stmt.where(User.disabled_at.is_(None), User.password_hash.is_(None))
    elif status == "disabled":
        stmt = stmt.where(User.disabled_at.is_not(None))
    stmt = stmt.order_by(func.lower(User.name), User.id)
    pagination = db.paginate(stmt, per_page=PER_PAGE, error_out=False)
    return render_template(
        "admin/users.html",
        pagination=pagination,
        q=q,
        role=role,
        status=status,
        roles=[r.value for r in Role],
    )


def _invitation_url(user: User) -> str:
    path = url_for("auth.set_password", token=invitation_token(user))
    return current_app.config["TRACKER_BASE_URL"] + path


def _issue_invitation(user: User) -> tuple[str, bool]:
    """A fresh set-password link; mailed too when SMTP is configured."""
    link = _invitation_url(user)
    hours = invitation_max_age() // 3600
    mailed = send_mail(
        to=user.email,
        subject=_("Your account on the litigation tracker"),
        body=_(
            "Hello %(name)s,\n\nAn account has been prepared for you. Choose your password "
            "here (the link works once, for %(hours)d hours):\n\n%(link)s\n",
            name=user.name,
            hours=hours,
            link=link,
        ),
    )
    record_invitation(user=user, mailed=mailed)
    return link, mailed


@bp.route("/users/new", methods=["GET", "POST"])
@require("admin.users")
def user_new():
    form = _user_form(UserCreateForm)
    if not form.organisation.choices:
        flash(_("Create an organisation first: every user belongs to one."), "warning")
        return redirect(url_for("admin.organisation_new"))
    if form.validate_on_submit():
        org = db.session.get(Organisation, form.organisation.data)
        try:
            user = create_user(
                email=form.email.data,
                name=form.name.data,
                organisation=org,
                role=Role(form.role.data),
            )
        except DuplicateEmail:
            form.email.errors.append(_("A user with this e-mail already exists."))
        except AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            link, mailed = _issue_invitation(user)
            db.session.commit()
            return render_template(
                "admin/user_invited.html",
                user=user,
                link=link,
                mailed=mailed,
                mail_configured=mail_configured(),
                hours=invitation_max_age() // 3600,
            )
    status = 400 if request.method == "POST" else 200
    return render_template("admin/user_form.html", form=form, user=None), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@require("admin.users")
def user_edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = _user_form(UserEditForm, obj=user)
    if request.method == "GET":
        form.organisation.data = user.organisation_id
        form.role.data = user.role.value
    if form.validate_on_submit():
        org = db.session.get(Organisation, form.organisation.data)
        try:
            update_user(user=user, name=form.name.data, organisation=org, role=Role(form.role.data))
        except AccountError as exc:
            db.session.rollback()
            user = db.get_or_404(User, user_id)
            form.role.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Saved the changes to %(name)s.", name=user.name), "success")
            return redirect(url_for("admin.users"))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "admin/user_form.html", form=form, user=user, action_form=ConfirmForm()
    ), status


@bp.post("/users/<int:user_id>/invitation")
@require("admin.users")
def user_invitation(user_id: int):
    user = db.get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not user.is_active:
        flash(_("Enable the account before sending a new link."), "error")
        return redirect(url_for("admin.user_edit", user_id=user.id))
    link, mailed = _issue_invitation(user)
    db.session.commit()
    return render_template(
        "admin/user_invited.html",
        user=user,
        link=link,
        mailed=mailed,
        mail_configured=mail_configured(),
        hours=invitation_max_age() // 3600,
    )


# Destructive actions: GET shows a confirmation page, POST does it.
_CONFIRMATIONS = {
    "disable": (
        lambda user: _("Disable the account of %(name)s?", name=user.name),
        lambda user: _(
            "They will be signed out everywhere at once and cannot sign in until enabled again."
        ),
        lambda: _("Disable account"),
    ),
    "reset-two-factor": (
        lambda user: _("Reset two-factor authentication for %(name)s?", name=user.name),
        lambda user: _(
            "Use this when they have lost their device. Their sessions end; they sign in with "
            "their password and set up a new device."
        ),
        lambda: _("Reset two-factor authentication"),
    ),
}


@bp.route(
    "/users/<int:user_id>/<any(disable, 'reset-two-factor'):operation>", methods=["GET", "POST"]
)
@require("admin.users")
def user_confirm(user_id: int, operation: str):
    user = db.get_or_404(User, user_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            if operation == "disable":
                ended = disable_user(user=user, actor=current_user)
                message = _("%(name)s is disabled; sessions ended: %(n)d.", name=user.name, n=ended)
            else:
                reset_totp(user=user)
                message = _("Two-factor authentication is reset for %(name)s.", name=user.name)
        except AccountError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(url_for("admin.user_edit", user_id=user_id))
        db.session.commit()
        flash(message, "success")
        return redirect(url_for("admin.user_edit", user_id=user.id))
    question, explanation, button = _CONFIRMATIONS[operation]
    return render_template(
        "admin/confirm.html",
        form=form,
        question=question(user),
        explanation=explanation(user),
        button=button(),
        action=url_for("admin.user_confirm", user_id=user.id, operation=operation),
        cancel=url_for("admin.user_edit", user_id=user.id),
    ), (400 if request.method == "POST" else 200)


@bp.post("/users/<int:user_id>/enable")
@require("admin.users")
def user_enable(user_id: int):
    user = db.get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    enable_user(user=user)
    db.session.commit()
    flash(_("%(name)s can sign in again.", name=user.name), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


# --- Organisations ---------------------------------------------------------------------------


def _jurisdiction_choices() -> list[SelectChoice]:
    rows = db.session.scalars(
        select(Jurisdiction).order_by(Jurisdiction.kind.desc(), Jurisdiction.name)
    )
    return [SelectChoice(j.id, f"{j.name} ({j.code})", optgroup=_kind_label(j.kind)) for j in rows]


def _kind_label(kind: JurisdictionKind) -> str:
    return _("States") if kind == JurisdictionKind.STATE else _("Regional and global systems")


def _organisation_form(**kwargs) -> OrganisationForm:
    form = OrganisationForm(**kwargs)
    form.present_in.choices = _jurisdiction_choices()
    return form


@bp.get("/organisations")
@require("admin.organisations")
def organisations():
    stmt = (
        select(Organisation)
        .options(selectinload(Organisation.present_in))
        .order_by(func.lower(Organisation.name), Organisation.id)
    )
    pagination = db.paginate(stmt, per_page=PER_PAGE, error_out=False)
    ids = [org.id for org in pagination.items]
    counts: dict[int, tuple[int, int]] = {}
    if ids:
        rows = db.session.execute(
            select(
                User.organisation_id,
                func.count(User.id),
                func.count(User.id).filter(User.disabled_at.is_(None)),
            )
            .where(User.organisation_id.in_(ids))
            .group_by(User.organisation_id)
        )
        counts = {org_id: (total, active) for org_id, total, active in rows}
    return render_template("admin/organisations.html", pagination=pagination, counts=counts)


def _save_organisation(form: OrganisationForm, organisation: Organisation | None):
    present = []
    if form.present_in.data:
        present = list(
            db.session.scalars(
                select(Jurisdiction).where(Jurisdiction.id.in_(form.present_in.data))
            )
        )
    return save_organisation(
        organisation=organisation,
        name=form.name.data,
        short_name=form.short_name.data,
        website=form.website.data,
        present_in=present,
    )


@bp.route("/organisations/new", methods=["GET", "POST"])
@require("admin.organisations")
def organisation_new():
    form = _organisation_form()
    if form.validate_on_submit():
        try:
            org = _save_organisation(form, None)
        except AccountError as exc:
            db.session.rollback()
            form.name.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Created the organisation %(name)s.", name=org.name), "success")
            return redirect(url_for("admin.organisations"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/organisation_form.html", form=form, organisation=None), status


@bp.route("/organisations/<int:organisation_id>", methods=["GET", "POST"])
@require("admin.organisations")
def organisation_edit(organisation_id: int):
    org = db.get_or_404(Organisation, organisation_id)
    form = _organisation_form(obj=org)
    if request.method == "GET":
        form.present_in.data = [j.id for j in org.present_in]
    if form.validate_on_submit():
        try:
            _save_organisation(form, org)
        except AccountError as exc:
            db.session.rollback()
            org = db.get_or_404(Organisation, organisation_id)
            form.name.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Saved the organisation %(name)s.", name=org.name), "success")
            return redirect(url_for("admin.organisations"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/organisation_form.html", form=form, organisation=org), status


# --- Audit trail (read only: there are no routes that change it) -----------------------------


def _distinct(column) -> list[str]:
    return list(db.session.scalars(select(column).distinct().order_by(column)))


def _display(value) -> str:
    if value is None or value == [] or value == "":
        return "—"
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _diff_rows(entry: AuditEntry) -> list[tuple[str, str, str]]:
    before, after = entry.before or {}, entry.after or {}
    keys = sorted(set(before) | set(after))
    return [
        (
            key,
            _display(before.get(key)) if key in before else "",
            _display(after.get(key)) if key in after else "",
        )
        for key in keys
    ]


@bp.get("/audit")
@require("admin.audit")
def audit():
    form = AuditFilterForm(request.args)
    form.entity_type.choices = [("", _("Any"))] + [
        (t, t) for t in _distinct(AuditEntry.entity_type)
    ]
    form.action.choices = [("", _("Any"))] + [(a, a) for a in _distinct(AuditEntry.action)]
    stmt = select(AuditEntry).options(selectinload(AuditEntry.user))
    valid = form.validate()
    if valid:
        if form.user.data:
            email = form.user.data.strip().lower()
            user_id = db.session.scalar(select(User.id).where(User.email == email))
            if user_id is None:
                form.user.errors.append(_("No user has this e-mail."))
                valid = False
            else:
                stmt = stmt.where(AuditEntry.user_id == user_id)
        if form.entity_type.data:
            stmt = stmt.where(AuditEntry.entity_type == form.entity_type.data)
        if form.entity_id.data:
            stmt = stmt.where(AuditEntry.entity_id == form.entity_id.data.strip())
        if form.action.data:
            stmt = stmt.where(AuditEntry.action == form.action.data)
        if form.date_from.data:
            start = datetime.combine(form.date_from.data, time.min, tzinfo=UTC)
            stmt = stmt.where(AuditEntry.at >= start)
        if form.date_to.data:
            end = datetime.combine(form.date_to.data, time.min, tzinfo=UTC) + timedelta(days=1)
            stmt = stmt.where(AuditEntry.at < end)
    if not valid:
        return render_template("admin/audit.html", form=form, pagination=None), 400
    stmt = stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    pagination = db.paginate(stmt, per_page=PER_PAGE, error_out=False)

    # Administering the deployment is no reason to read restricted litigation: entries about
    # records the admin may not see keep their who/when/what but withhold the values.
    hidden = withheld_entries(current_user, pagination.items)
    entries = [
        {
            "entry": e,
            "withheld": e.id in hidden,
            "diff": [] if e.id in hidden else _diff_rows(e),
        }
        for e in pagination.items
    ]
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "admin/audit.html", form=form, pagination=pagination, entries=entries, args=args
    )
