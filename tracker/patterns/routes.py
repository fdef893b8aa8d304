"""Views of the patterns area: patterns, opportunities, forum finder, notifications, watches.

Thin: parse -> form.validate -> service -> commit -> redirect. Every number comes from the
query functions, which go through case_filter(current_user).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from tracker.access import can, case_filter
from tracker.auth.models import Organisation, User
from tracker.cases.filters import FilterError, parse_filters
from tracker.cases.models import Case
from tracker.extensions import db
from tracker.patterns import bp, charts, finder, queries
from tracker.patterns import opportunities as opp
from tracker.patterns import services as svc
from tracker.patterns.forms import (
    AssignOpportunityForm,
    ConfirmForm,
    DismissOpportunityForm,
    WatchForm,
)
from tracker.patterns.models import Notification, Opportunity, OpportunityStatus, WatchKind
from tracker.security import safe_next
from tracker.taxonomy.models import Forum, Jurisdiction, JurisdictionKind, Right

PER_PAGE = 20
# The busiest matrix columns (and provisions x forums) shown by default; ?columns=all shows all.
COLUMNS_SHOWN = 20
PROVISIONS_SHOWN = 20
MAP_ROWS_SHOWN = 30  # rows of the map's table (the map itself shows every jurisdiction)


def _require(action: str) -> None:
    if not can(current_user, action):
        abort(403)


@bp.before_request
def _patterns_view() -> None:
    _require("patterns.view")


def _args_without(*names: str) -> MultiDict:
    args = MultiDict(request.args)
    for name in names:
        args.poplist(name)
    return args


# --- patterns --------------------------------------------------------------------------------
@bp.get("/")
def index():
    errors: dict[str, str] = {}
    view = request.args.get("view", "jurisdiction")
    if view not in queries.DIMENSIONS:
        errors["view"] = _("Choose jurisdictions, forums or regional systems.")
        view = "jurisdiction"
    try:
        filters = parse_filters(_args_without("view", "result", "treatment", "page", "columns"))
    except FilterError as exc:
        errors.update(exc.errors)
        filters = parse_filters({})
    show_all = request.args.get("columns") == "all"
    matrix = queries.rights_matrix(
        current_user, filters, view, limit=None if show_all else COLUMNS_SHOWN
    )
    series = queries.time_series(current_user, filters)
    points = queries.world_map(current_user, filters)
    table = queries.provision_forum(
        current_user, filters, limit=None if show_all else (PROVISIONS_SHOWN, COLUMNS_SHOWN)
    )
    return render_template(
        "patterns/index.html",
        view=view,
        filters=filters,
        errors=errors,
        args=request.args,
        matrix=matrix,
        show_all=show_all,
        map_rows=MAP_ROWS_SHOWN,
        series=series,
        chart=charts.year_chart(series),
        points=points,
        map_view=charts.map_view(points),
        world=queries.world_paths(),
        table=table,
        watched_rights=svc.watched_ids(current_user, WatchKind.RIGHT),
        watched_jurisdictions=svc.watched_ids(current_user, WatchKind.JURISDICTION),
        watched_forums=svc.watched_ids(current_user, WatchKind.FORUM),
        watch_form=WatchForm(),
        view_args={
            k: request.args.getlist(k) for k in request.args if k not in ("view", "columns")
        },
    ), (400 if errors else 200)


# --- opportunities ---------------------------------------------------------------------------
STATUS_CHOICES = ("active", "open", "assigned", "dismissed", "converted", "all")


def _opportunity_filters() -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {"right_ids": (), "target_ids": (), "organisation_ids": ()}

    def resolve(param, model, column, key):
        code = (request.args.get(param) or "").strip()
        if not code:
            return None
        row = db.session.scalar(select(model).where(column == code))
        if row is None:
            errors[param] = _("Unknown code: %(codes)s", codes=code)
            return None
        out[key] = (row.id,)
        return row

    resolve("right", Right, Right.code, "right_ids")
    resolve("target", Jurisdiction, Jurisdiction.code, "target_ids")
    organisation = (request.args.get("organisation") or "").strip()
    if organisation:
        if not organisation.isdigit() or len(organisation) > 9:
            errors["organisation"] = _("Organisations are given by number.")
        elif db.session.get(Organisation, int(organisation)) is None:
            errors["organisation"] = _("Unknown organisation: %(id)s", id=organisation)
        else:
            out["organisation_ids"] = (int(organisation),)
    status = request.args.get("status") or "active"
    if status not in STATUS_CHOICES:
        errors["status"] = _("Unknown value: %(values)s", values=status)
        status = "active"
    if status == "active":
        out["statuses"] = opp.ACTIVE
    elif status == "all":
        out["statuses"] = ()
    else:
        out["statuses"] = (OpportunityStatus(status),)
    out["status"] = status
    return out, errors


@bp.get("/opportunities")
def opportunities():
    params, errors = _opportunity_filters()
    stmt = opp.visible_opportunities(
        current_user,
        right_ids=params["right_ids"],
        target_ids=params["target_ids"],
        organisation_ids=params["organisation_ids"],
        statuses=params["statuses"],
        columns=(Opportunity.id,),
    )
    page = request.args.get("page", 1, type=int) or 1
    pagination = db.paginate(stmt, page=max(page, 1), per_page=PER_PAGE, error_out=False)
    items = opp.load_page(list(pagination.items))
    pending = opp.pending_cases_for(
        current_user, {(o.target_jurisdiction_id, o.right_id) for o in items}, limit=3
    )
    organisations = opp.organisations_in({o.target_jurisdiction_id for o in items})
    # Words for each row: its best public/network win; for a row that has none, the best
    # win this user may see (rule 2 of tracker/patterns/opportunities.py).
    best_titles = dict(
        db.session.execute(
            select(Case.id, Case.title).where(
                Case.id.in_({o.source_case_id for o in items if o.source_case_id})
            )
        ).all()
    )
    private_best = {o.id: opp.best_visible_win(current_user, o) for o in items if not o.open_wins}
    codes = {c for o in items for c in opp.source_codes(o)}
    names = (
        dict(
            db.session.execute(
                select(Jurisdiction.code, Jurisdiction.name).where(Jurisdiction.code.in_(codes))
            ).all()
        )
        if codes
        else {}
    )
    return render_template(
        "patterns/opportunities.html",
        pagination=pagination,
        items=items,
        pending=pending,
        organisations=organisations,
        best_titles=best_titles,
        private_best=private_best,
        source_places={o.id: [names.get(c, c) for c in opp.source_codes(o)] for o in items},
        basis_text=opp.basis_text,
        errors=errors,
        params=params,
        args={k: v for k, v in request.args.items() if k != "page"},
        rights=db.session.scalars(select(Right).order_by(Right.position, Right.name)).all(),
        targets=finder.states(),
        organisation_choices=db.session.execute(
            select(Organisation.id, Organisation.name)
            .where(Organisation.is_active.is_(True))
            .order_by(Organisation.name)
        ).all(),
        statuses=STATUS_CHOICES,
    ), (400 if errors else 200)


def _visible_opportunity_or_404(opportunity_id: int) -> Opportunity:
    row = db.session.scalar(
        select(Opportunity).where(
            Opportunity.id == opportunity_id, opp.visible_clause(current_user)
        )
    )
    if row is None:
        abort(404)
    return row


def _assign_form(row: Opportunity, formdata=None) -> AssignOpportunityForm:
    form = AssignOpportunityForm(formdata=formdata)
    orgs = db.session.scalars(
        select(Organisation).where(Organisation.is_active.is_(True)).order_by(Organisation.name)
    ).all()
    users = db.session.scalars(
        select(User).where(User.disabled_at.is_(None)).order_by(User.name)
    ).all()
    form.organisation.choices = [(0, _("— none —"))] + [(o.id, o.name) for o in orgs]
    form.assignee.choices = [(0, _("— none —"))] + [
        (u.id, f"{u.name} ({u.organisation.short_name or u.organisation.name})") for u in users
    ]
    if formdata is None:
        form.organisation.data = row.assigned_organisation_id or 0
        form.assignee.data = row.assigned_user_id or 0
    return form


WINS_SHOWN = 50


def _render_opportunity(row: Opportunity, status: int = 200, **forms):
    wins, total = opp.supporting_wins(current_user, row, limit=WINS_SHOWN)
    since = None
    if row.status is OpportunityStatus.DISMISSED and row.dismissed_at is not None:
        since = opp.wins_decided_since(current_user, row, row.dismissed_at.date())
    pair = (row.target_jurisdiction_id, row.right_id)
    names = dict(
        db.session.execute(
            select(Jurisdiction.id, Jurisdiction.name).where(
                Jurisdiction.id.in_({w.jurisdiction_id for w in wins})
            )
        ).all()
    )
    return render_template(
        "patterns/opportunity.html",
        row=row,
        wins=wins,
        wins_total=total,
        wins_shown=WINS_SHOWN,
        new_since_dismissal=since,
        jurisdiction_names=names,
        basis_text=opp.basis_text,
        pending=opp.pending_cases_for(current_user, {pair}, limit=20).get(pair, []),
        pending_total=opp.pending_count(current_user, *pair),
        organisations=opp.organisations_in({row.target_jurisdiction_id}).get(
            row.target_jurisdiction_id, []
        ),
        assign_form=forms.get("assign_form") or _assign_form(row),
        dismiss_form=forms.get("dismiss_form") or DismissOpportunityForm(),
        confirm_form=ConfirmForm(),
        assigned_org=db.session.get(Organisation, row.assigned_organisation_id)
        if row.assigned_organisation_id
        else None,
        assigned_user=db.session.get(User, row.assigned_user_id) if row.assigned_user_id else None,
    ), status


@bp.get("/opportunities/<int:opportunity_id>")
def opportunity(opportunity_id: int):
    return _render_opportunity(_visible_opportunity_or_404(opportunity_id))


@bp.post("/opportunities/<int:opportunity_id>/assign")
def assign(opportunity_id: int):
    row = _visible_opportunity_or_404(opportunity_id)
    _require("opportunity.manage")
    form = _assign_form(row, formdata=request.form)
    if not form.validate():
        return _render_opportunity(row, 400, assign_form=form)
    org = db.session.get(Organisation, form.organisation.data) if form.organisation.data else None
    person = db.session.get(User, form.assignee.data) if form.assignee.data else None
    try:
        svc.assign_opportunity(
            user=current_user, opportunity=row, organisation=org, assignee=person
        )
    except svc.OpportunityError as exc:
        db.session.rollback()
        form.organisation.errors = [str(exc)]
        return _render_opportunity(
            _visible_opportunity_or_404(opportunity_id), 400, assign_form=form
        )
    db.session.commit()
    flash(_("Opportunity assigned."), "success")
    return redirect(url_for("patterns.opportunity", opportunity_id=row.id))


@bp.post("/opportunities/<int:opportunity_id>/dismiss")
def dismiss(opportunity_id: int):
    row = _visible_opportunity_or_404(opportunity_id)
    _require("opportunity.manage")
    form = DismissOpportunityForm()
    if not form.validate_on_submit():
        return _render_opportunity(row, 400, dismiss_form=form)
    try:
        svc.dismiss_opportunity(user=current_user, opportunity=row, reason=form.reason.data)
    except svc.OpportunityError as exc:
        db.session.rollback()
        form.reason.errors = [str(exc)]
        return _render_opportunity(
            _visible_opportunity_or_404(opportunity_id), 400, dismiss_form=form
        )
    db.session.commit()
    flash(_("Opportunity dismissed. It will not come back after a refresh."), "success")
    return redirect(url_for("patterns.opportunities"))


@bp.post("/opportunities/<int:opportunity_id>/reopen")
def reopen(opportunity_id: int):
    row = _visible_opportunity_or_404(opportunity_id)
    _require("opportunity.manage")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        svc.reopen_opportunity(user=current_user, opportunity=row)
    except svc.OpportunityError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("patterns.opportunity", opportunity_id=opportunity_id))
    db.session.commit()
    flash(_("Opportunity reopened."), "success")
    return redirect(url_for("patterns.opportunity", opportunity_id=row.id))


@bp.post("/opportunities/<int:opportunity_id>/convert")
def convert(opportunity_id: int):
    row = _visible_opportunity_or_404(opportunity_id)
    _require("opportunity.manage")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        case = svc.convert_opportunity(user=current_user, opportunity=row)
    except svc.OpportunityError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("patterns.opportunity", opportunity_id=opportunity_id))
    db.session.commit()
    flash(_("Draft case opened. Complete it before filing."), "success")
    if "cases.detail" in _endpoints():
        return redirect(url_for("cases.detail", case_id=case.id))
    return redirect(url_for("patterns.opportunity", opportunity_id=row.id))  # pragma: no cover


def _endpoints() -> set[str]:
    from flask import current_app

    return set(current_app.view_functions)


# --- forum finder ----------------------------------------------------------------------------
@bp.get("/forum-finder")
def forum_finder():
    errors: dict[str, str] = {}
    code = (request.args.get("jurisdiction") or "").strip()
    right_code = (request.args.get("right") or "").strip()
    jurisdiction = right = None
    if code:
        jurisdiction = db.session.scalar(
            select(Jurisdiction).where(
                Jurisdiction.code == code, Jurisdiction.kind == JurisdictionKind.STATE
            )
        )
        if jurisdiction is None:
            errors["jurisdiction"] = _("Choose a state from the list.")
    if right_code:
        right = db.session.scalar(select(Right).where(Right.code == right_code))
        if right is None:
            errors["right"] = _("Choose a right from the list.")
    result = finder.forum_finder(jurisdiction, right) if jurisdiction and not errors else None
    return render_template(
        "patterns/forum_finder.html",
        result=result,
        errors=errors,
        states=finder.states(),
        rights=db.session.scalars(select(Right).order_by(Right.position, Right.name)).all(),
        chosen_jurisdiction=code,
        chosen_right=right_code,
        watched_forums=svc.watched_ids(current_user, WatchKind.FORUM),
        watch_form=WatchForm(),
    ), (400 if errors else 200)


# --- notifications ---------------------------------------------------------------------------
@bp.get("/notifications")
def notifications():
    stmt = (
        select(Notification)
        .where(Notification.user_id == current_user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    page = request.args.get("page", 1, type=int) or 1
    pagination = db.paginate(stmt, page=max(page, 1), per_page=PER_PAGE, error_out=False)
    # A notification whose case the user can no longer see keeps its row but not its words.
    case_ids = {n.case_id for n in pagination.items if n.case_id}
    visible = (
        set(
            db.session.scalars(
                select(Case.id).where(Case.id.in_(case_ids), case_filter(current_user))
            )
        )
        if case_ids
        else set()
    )
    return render_template(
        "patterns/notifications.html",
        pagination=pagination,
        visible=visible,
        watches=svc.watch_list(current_user),
        watch_form=WatchForm(),
        form=ConfirmForm(),
        args={},
    )


@bp.post("/notifications/read")
def notifications_read():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    ids = request.form.getlist("id", type=int)
    count = svc.mark_read(user=current_user, notification_ids=ids or None)
    db.session.commit()
    flash(_("%(count)s notifications marked as read.", count=count), "success")
    return redirect(url_for("patterns.notifications"))


# --- watches ---------------------------------------------------------------------------------
WATCH_LOOKUP = {
    WatchKind.RIGHT: (Right, Right.code),
    WatchKind.JURISDICTION: (Jurisdiction, Jurisdiction.code),
    WatchKind.FORUM: (Forum, Forum.code),
}


@bp.post("/watch")
def watch():
    form = WatchForm()
    if not form.validate_on_submit() or form.kind.data not in {k.value for k in WatchKind}:
        abort(400)
    kind = WatchKind(form.kind.data)
    if kind is WatchKind.CASE:
        if not form.target.data.isdigit():
            abort(400)
        target_id = int(form.target.data)
    else:
        model, column = WATCH_LOOKUP[kind]
        target_id = db.session.scalar(select(model.id).where(column == form.target.data))
        if target_id is None:
            abort(404)
    if form.action.data == "watch":
        try:
            svc.watch(user=current_user, kind=kind, target_id=target_id)
        except LookupError:
            abort(404)
        message = _("You will be alerted about it.")
    elif form.action.data == "unwatch":
        svc.unwatch(user=current_user, kind=kind, target_id=target_id)
        message = _("You will no longer be alerted about it.")
    else:
        abort(400)
    db.session.commit()
    flash(message, "success")
    return redirect(safe_next(form.next.data, url_for("patterns.index")))
