"""Views of the cases area: list, case page, forms, timeline, links, deadlines.

Thin: parse -> form.validate -> service -> commit -> redirect. Domain errors become field
errors on a 4xx re-render; invisible cases answer 404 everywhere.
"""

from __future__ import annotations

import json
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from wtforms.fields.choices import SelectChoice

from tracker.access import can, can_edit_case, can_see_parties
from tracker.cases import bp
from tracker.cases import services as svc
from tracker.cases.filters import CaseFilters, FilterError, parse_filters
from tracker.cases.forms import (
    LABELS,
    CaseForm,
    DeleteCaseForm,
    EventForm,
    ImplementationForm,
    LinkForm,
    PartyForm,
    ProceedingForm,
)
from tracker.cases.models import (
    Case,
    CaseLink,
    Event,
    Implementation,
    Party,
    Proceeding,
    Status,
)
from tracker.cases.queries import (
    DEADLINE_WINDOW_DAYS,
    DEFAULT_SORT,
    case_links,
    case_list,
    facets,
    labels_for,
    load_case,
    load_case_page,
    organisation_choices,
    parse_sort,
    search_visible_cases,
    team_choices,
    upcoming_deadlines,
)
from tracker.extensions import db
from tracker.types import Role


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"labels": LABELS}


def _require(action: str) -> None:
    if not can(current_user, action):
        abort(403)


def _visible_case_or_404(case_id: int, *, page: bool = False) -> Case:
    case = (load_case_page if page else load_case)(current_user, case_id)
    if case is None:
        abort(404)
    return case


def _editable_case_or_404(case_id: int, *, page: bool = False) -> Case:
    case = _visible_case_or_404(case_id, page=page)
    if not can_edit_case(current_user, case):
        abort(403)
    return case


def _apply_errors(form, errors: dict[str, str]) -> None:
    """Put a service's field errors on the form (unknown fields go to the summary)."""
    for name, message in errors.items():
        field = form._fields.get(name) if name else None
        if field is not None:
            field.errors = [*list(field.errors or []), message]
        else:
            form.form_errors.append(message)
            flash(message, "error")


# --- List ---------------------------------------------------------------------------------
def _args_without(*names: str) -> dict[str, list[str]]:
    return {k: v for k, v in request.args.to_dict(flat=False).items() if k not in names}


def _list_url(args: dict[str, list[str]]) -> str:
    return url_for("cases.index", **{k: v for k, v in args.items() if v})


def add_filter_url(param: str, value: str, extra: dict[str, str] | None = None) -> str:
    args = _args_without("page")
    if extra:
        for key, val in extra.items():
            args[key] = [val]
    else:
        values = args.get(param, [])
        if value not in values:
            args[param] = [*values, value]
    return _list_url(args)


def remove_filter_url(param: str, value: str | None = None) -> str:
    args = _args_without("page")
    if value is None:
        args.pop(param, None)
    else:
        args[param] = [
            v for raw in args.get(param, []) for v in raw.split(";") if v.strip() != value
        ]
    return _list_url(args)


def sort_url(column: str) -> str:
    current = request.args.get("sort") or DEFAULT_SORT
    new = f"-{column}" if current == column else column
    args = _args_without("page", "sort")
    args["sort"] = [new]
    return _list_url(args)


def page_url(page: int) -> str:
    args = _args_without("page")
    args["page"] = [str(page)]
    return _list_url(args)


@bp.get("/")
def index():
    _require("case.view")
    errors: dict[str, str] = {}
    try:
        filters = parse_filters(request.args)
    except FilterError as exc:
        errors.update(exc.errors)
        filters = CaseFilters()
    sort = parse_sort(request.args.get("sort"))
    if sort is None:
        errors["sort"] = _("Sort by title, filed, updated, status or outcome.")
        sort = DEFAULT_SORT
    raw_page = request.args.get("page", "1")
    page = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) < 100000 else None
    if page is None:
        errors["page"] = _("The page is a number from 1.")
        page = 1
    context: dict[str, Any] = {
        "errors": errors,
        "filters": filters,
        "sort": sort,
        "args": request.args,
        "add_filter_url": add_filter_url,
        "remove_filter_url": remove_filter_url,
        "sort_url": sort_url,
        "page_url": page_url,
        "organisations": organisation_choices(current_user),
    }
    if errors:
        return render_template("cases/index.html", pagination=None, **context), 400
    pagination, filed = case_list(current_user, filters, sort, page)
    facet_values = facets(current_user, filters) if pagination.total else {}
    return render_template(
        "cases/index.html",
        pagination=pagination,
        filed=filed,
        facets=facet_values,
        **context,
    )


@bp.get("/picker")
def picker():
    """Visible cases matching q (by number, title or reference), for the link picker."""
    _require("case.view")
    q = (request.args.get("q") or "")[:200]
    items = [
        {
            "code": str(c.id),
            "label": c.title,
            "detail": " · ".join(
                x for x in (f"#{c.id}", c.reference or "", c.jurisdiction.name) if x
            ),
        }
        for c in search_visible_cases(current_user, q)
    ]
    return jsonify(items=items)


@bp.get("/deadlines")
def deadlines():
    _require("case.view")
    from datetime import date

    return render_template(
        "cases/deadlines.html",
        events=upcoming_deadlines(current_user),
        today=date.today(),
        window=DEADLINE_WINDOW_DAYS,
    )


# --- Case form ----------------------------------------------------------------------------
def _prepare_case_form(form: CaseForm, case: Case | None) -> None:
    orgs = [SelectChoice(oid, name) for oid, name in organisation_choices(current_user)]
    if current_user.role in (Role.COORDINATOR, Role.ADMIN):
        form.lead_organisation_id.choices = orgs
    else:
        allowed = {current_user.organisation_id}
        if case is not None:
            allowed.add(case.lead_organisation_id)
        form.lead_organisation_id.choices = [o for o in orgs if o.value in allowed]
    form.partner_ids.choices = orgs
    if request.method == "POST" and "lead_organisation_id" not in request.form:
        # Not posted (a hand-made request): the default is kept, never a 500 or a surprise.
        form.lead_organisation_id.data = (
            case.lead_organisation_id if case is not None else current_user.organisation_id
        )
    org_ids = {current_user.organisation_id}
    if case is not None:
        org_ids |= {case.lead_organisation_id, *(p.id for p in case.partners)}
        org_ids |= {m.user.organisation_id for m in case.team}
    form.team_ids.choices = [
        SelectChoice(uid, name, optgroup=org)
        for org, users in team_choices(org_ids).items()
        for uid, name in users
    ]


def _case_form_data(case: Case) -> dict[str, Any]:
    return {
        "title": case.title,
        "reference": case.reference,
        "case_type": case.case_type.value,
        "jurisdiction": case.jurisdiction.code,
        "summary": case.summary,
        "strategic_aim": case.strategic_aim,
        "arguments": case.arguments,
        "lead_organisation_id": case.lead_organisation_id,
        "partner_ids": [p.id for p in case.partners],
        "confidentiality": case.confidentiality.value,
        "status": case.status.value,
        "outcome": case.outcome.value,
        "opened_on": case.opened_on,
        "rights": "; ".join(r.code for r in case.rights),
        "provisions": "; ".join(p.code for p in case.provisions),
        "team_ids": [m.user_id for m in case.team],
        "version": case.version,
    }


def _display(form: CaseForm, name: str, value: Any) -> str:
    """A readable rendering of a form value (for the conflict table)."""
    field = form[name]
    if value in (None, "", []):
        return "—"
    if hasattr(field, "_iter_choices_normalized") or hasattr(field, "choices"):
        labels = {c.value: str(c.label) for c in field.choices or []}
        values = value if isinstance(value, list | tuple) else [value]
        return ", ".join(labels.get(v, str(v)) for v in values)
    if name in ("rights", "provisions"):
        return "; ".join(svc.split_codes(value))
    return str(value)


def _conflict_rows(form: CaseForm, case: Case, changed: list[str]) -> list[dict[str, str]]:
    current = _case_form_data(case)
    rows = []
    for name in changed or [n for n in current if n != "version"]:
        theirs, yours = current.get(name), form.data.get(name)
        if name in ("rights", "provisions"):
            theirs_cmp, yours_cmp = set(svc.split_codes(theirs)), set(svc.split_codes(yours))
        elif isinstance(theirs, list):
            theirs_cmp, yours_cmp = set(theirs), set(yours or [])
        else:
            theirs_cmp, yours_cmp = theirs or None, yours or None
        if not changed and theirs_cmp == yours_cmp:
            continue
        rows.append(
            {
                "label": str(form[name].label.text),
                "id": form[name].id,
                "theirs": _display(form, name, theirs),
                "yours": _display(form, name, yours),
                "same": theirs_cmp == yours_cmp,
            }
        )
    return rows


def _render_case_form(form: CaseForm, case: Case | None, status: int = 200, conflict=None):
    _picker(form.jurisdiction, "taxonomy.jurisdictions", "jurisdictions", multiple=False)
    _picker(form.rights, "taxonomy.rights", "rights")
    _picker(form.provisions, "taxonomy.provisions", "provisions")
    return (
        render_template("cases/form.html", form=form, case=case, conflict=conflict),
        status,
    )


def _picker(field, endpoint: str, kind: str, multiple: bool = True, **params: str) -> None:
    """Mark a text field of codes for static/js/picker.js (type-ahead over our endpoint)."""
    attrs = {
        "data-picker": url_for(endpoint),
        "data-selected": json.dumps(
            labels_for(kind, svc.split_codes("" if field.data is None else str(field.data)))
        ),
        "data-remove-label": _("Remove"),
        "data-none-label": _("No match"),
        "data-chosen-label": _("Chosen"),
        "data-placeholder": _("Type to search…"),
        "autocomplete": "off",
    }
    if multiple:
        attrs["data-multiple"] = ""
    for key, value in params.items():
        attrs[f"data-param-{key}"] = value
    field.render_kw = {**(field.render_kw or {}), **attrs}


@bp.route("/new", methods=["GET", "POST"])
def create():
    _require("case.create")
    form = CaseForm()
    _prepare_case_form(form, None)
    if request.method == "GET":
        form.lead_organisation_id.data = current_user.organisation_id
        return _render_case_form(form, None)
    if not form.validate():
        return _render_case_form(form, None, 400)
    try:
        case = svc.create_case(actor=current_user, data=form.data)
    except svc.CaseError as exc:
        db.session.rollback()
        _apply_errors(form, exc.errors)
        return _render_case_form(form, None, exc.status)
    db.session.commit()
    flash(_("Case created."), "success")
    return redirect(url_for("cases.detail", case_id=case.id))


@bp.route("/<int:case_id>/edit", methods=["GET", "POST"])
def edit(case_id: int):
    case = _editable_case_or_404(case_id)
    if request.method == "GET":
        form = CaseForm(data=_case_form_data(case))
        _prepare_case_form(form, case)
        return _render_case_form(form, case)
    form = CaseForm()
    _prepare_case_form(form, case)
    if not form.validate():
        return _render_case_form(form, case, 400)
    base = form.version.data
    base_version = int(base) if base and str(base).isdigit() else None
    try:
        svc.update_case(actor=current_user, case=case, data=form.data, base_version=base_version)
        db.session.commit()
    except svc.StaleCase as exc:
        db.session.rollback()
        return _render_conflict(form, case_id, base_version, exc.changed)
    except StaleDataError:
        # Saved by someone else between our read and our write (two requests racing).
        db.session.rollback()
        fresh = _editable_case_or_404(case_id)
        return _render_conflict(form, case_id, base_version, svc.changes_since(fresh, base_version))
    except svc.CaseError as exc:
        db.session.rollback()
        _apply_errors(form, exc.errors)
        return _render_case_form(form, _editable_case_or_404(case_id), exc.status)
    flash(_("Case saved."), "success")
    return redirect(url_for("cases.detail", case_id=case_id))


def _render_conflict(form: CaseForm, case_id: int, base_version, changed: list[str]):
    case = _editable_case_or_404(case_id)
    _prepare_case_form(form, case)
    rows = _conflict_rows(form, case, changed)
    form.version.data = case.version  # saving again now is a deliberate choice
    return _render_case_form(form, case, 409, conflict={"rows": rows, "version": case.version})


@bp.route("/<int:case_id>/delete", methods=["GET", "POST"])
def delete(case_id: int):
    case = _editable_case_or_404(case_id)
    if not can(current_user, "case.delete"):
        abort(403)
    form = DeleteCaseForm()
    if request.method == "POST":
        if form.validate():
            title = case.title
            svc.delete_case(actor=current_user, case=case)
            db.session.commit()
            flash(_("Case “%(title)s” deleted.", title=title), "success")
            return redirect(url_for("cases.index"))
        return render_template("cases/delete.html", form=form, case=case), 400
    return render_template("cases/delete.html", form=form, case=case)


# --- Case page ----------------------------------------------------------------------------
def _event_form(case: Case, formdata=None) -> EventForm:
    form = EventForm(formdata=formdata, prefix="event")
    form.proceeding_id.choices = [SelectChoice(0, _("— none —"))] + [
        SelectChoice(p.id, f"{p.forum.name}{' · ' + p.reference if p.reference else ''}")
        for p in case.proceedings
    ]
    return form


def _render_detail(case: Case, status: int = 200, **forms):
    editable = can_edit_case(current_user, case)
    outgoing, incoming = case_links(current_user, case)
    link_form = forms.get("link_form") or LinkForm(prefix="link", formdata=None)
    _picker(link_form.target, "cases.picker", "cases", multiple=False)
    treatments: dict[tuple[int, str], str] = {}
    rights_by_id = {r.id: r for r in case.rights}
    provisions_by_id = {p.id: p for p in case.provisions}
    for proc in case.proceedings:
        for t in proc.treatments:
            if t.right_id in rights_by_id:
                treatments[(proc.id, svc.treatment_key("right", rights_by_id[t.right_id].code))] = (
                    t.treatment.value
                )
            elif t.provision_id in provisions_by_id:
                key = svc.treatment_key("provision", provisions_by_id[t.provision_id].code)
                treatments[(proc.id, key)] = t.treatment.value
    return (
        render_template(
            "cases/detail.html",
            case=case,
            editable=editable,
            show_identities=can_see_parties(current_user, case),
            outgoing=outgoing,
            incoming=incoming,
            treatments=treatments,
            events=sorted(case.events, key=lambda e: (e.occurred_on, e.id)),
            party_form=forms.get("party_form") or PartyForm(prefix="party", formdata=None),
            event_form=forms.get("event_form") or _event_form(case),
            link_form=link_form,
            open_form=forms.get("open_form"),
            decided=(Status.DECIDED, Status.CLOSED, Status.ON_APPEAL),
        ),
        status,
    )


@bp.get("/<int:case_id>")
def detail(case_id: int):
    case = _visible_case_or_404(case_id, page=True)
    return _render_detail(case)[0]


@bp.post("/<int:case_id>/parties")
def add_party(case_id: int):
    case = _editable_case_or_404(case_id, page=True)
    form = PartyForm(prefix="party")
    if form.validate():
        try:
            svc.add_party(actor=current_user, case=case, data=form.data)
            db.session.commit()
            flash(_("Party added."), "success")
            return redirect(url_for("cases.detail", case_id=case_id, _anchor="parties"))
        except svc.CaseError as exc:
            db.session.rollback()
            case = _editable_case_or_404(case_id, page=True)
            _apply_errors(form, exc.errors)
    return _render_detail(case, 400, party_form=form, open_form="party")


@bp.post("/<int:case_id>/parties/<int:party_id>/delete")
def remove_party(case_id: int, party_id: int):
    case = _editable_case_or_404(case_id)
    party = db.session.scalar(select(Party).where(Party.id == party_id, Party.case_id == case.id))
    if party is None:
        abort(404)
    svc.remove_party(actor=current_user, party=party)
    db.session.commit()
    flash(_("Party removed."), "success")
    return redirect(url_for("cases.detail", case_id=case_id, _anchor="parties"))


@bp.post("/<int:case_id>/events")
def add_event(case_id: int):
    case = _editable_case_or_404(case_id, page=True)
    form = _event_form(case, request.form)
    if form.validate():
        data = dict(form.data)
        data["proceeding_id"] = data.get("proceeding_id") or None
        try:
            svc.add_event(actor=current_user, case=case, data=data)
            db.session.commit()
            flash(_("Added to the timeline."), "success")
            return redirect(url_for("cases.detail", case_id=case_id, _anchor="timeline"))
        except svc.CaseError as exc:
            db.session.rollback()
            case = _editable_case_or_404(case_id, page=True)
            _apply_errors(form, exc.errors)
    return _render_detail(case, 400, event_form=form, open_form="event")


def _case_event_or_404(case: Case, event_id: int) -> Event:
    event = db.session.scalar(select(Event).where(Event.id == event_id, Event.case_id == case.id))
    if event is None:
        abort(404)
    return event


@bp.post("/<int:case_id>/events/<int:event_id>/<any(confirm, dismiss, complete, delete):verb>")
def event_action(case_id: int, event_id: int, verb: str):
    case = _editable_case_or_404(case_id)
    event = _case_event_or_404(case, event_id)
    action = {
        "confirm": (svc.confirm_deadline, _("Deadline confirmed.")),
        "dismiss": (svc.dismiss_deadline, _("Proposed deadline dismissed.")),
        "complete": (svc.complete_event, _("Marked as done.")),
        "delete": (svc.delete_event, _("Removed from the timeline.")),
    }[verb]
    try:
        action[0](actor=current_user, event=event)
    except svc.CaseError as exc:
        db.session.rollback()
        flash(" ".join(exc.errors.values()), "error")
        return redirect(url_for("cases.detail", case_id=case_id, _anchor="timeline"))
    db.session.commit()
    flash(action[1], "success")
    back = request.form.get("back")
    if back == "deadlines":
        return redirect(url_for("cases.deadlines"))
    return redirect(url_for("cases.detail", case_id=case_id, _anchor="timeline"))


@bp.post("/<int:case_id>/links")
def add_link(case_id: int):
    case = _editable_case_or_404(case_id, page=True)
    form = LinkForm(prefix="link")
    if form.validate():
        try:
            svc.add_link(
                actor=current_user,
                case=case,
                target_id=form.target.data,
                kind=form.kind.data,
                note=form.note.data,
            )
            db.session.commit()
            flash(_("Link added."), "success")
            return redirect(url_for("cases.detail", case_id=case_id, _anchor="links"))
        except svc.CaseError as exc:
            db.session.rollback()
            case = _editable_case_or_404(case_id, page=True)
            _apply_errors(form, exc.errors)
    return _render_detail(case, 400, link_form=form, open_form="link")


@bp.post("/<int:case_id>/links/<int:link_id>/delete")
def remove_link(case_id: int, link_id: int):
    case = _editable_case_or_404(case_id)
    link = db.session.scalar(
        select(CaseLink).where(
            CaseLink.id == link_id,
            (CaseLink.source_case_id == case.id) | (CaseLink.target_case_id == case.id),
        )
    )
    if link is None:
        abort(404)
    svc.remove_link(actor=current_user, case=case, link=link)
    db.session.commit()
    flash(_("Link removed."), "success")
    return redirect(url_for("cases.detail", case_id=case_id, _anchor="links"))


# --- Proceedings --------------------------------------------------------------------------
def _case_proceeding_or_404(case: Case, proceeding_id: int) -> Proceeding:
    proc = db.session.scalar(
        select(Proceeding).where(Proceeding.id == proceeding_id, Proceeding.case_id == case.id)
    )
    if proc is None:
        abort(404)
    return proc


def _treatment_rows(case: Case, proc: Proceeding | None, submitted: dict[str, str] | None):
    current: dict[str, str] = {}
    if proc is not None:
        for t in proc.treatments:
            key = (
                svc.treatment_key("right", t.right.code)
                if t.right_id
                else svc.treatment_key("provision", t.provision.code)
            )
            current[key] = t.treatment.value
    rows = []
    for right in case.rights:
        key = svc.treatment_key("right", right.code)
        rows.append({"key": key, "kind": _("Right"), "label": right.name, "code": right.code})
    for prov in case.provisions:
        key = svc.treatment_key("provision", prov.code)
        rows.append(
            {
                "key": key,
                "kind": _("Provision"),
                "label": f"{prov.instrument.short_title} {prov.number} — {prov.title}",
                "code": prov.code,
            }
        )
    for row in rows:
        row["value"] = (submitted or current).get(row["key"], "")
    return rows


def _submitted_treatments() -> dict[str, str]:
    prefix = "treatment:"
    return {k[len(prefix) :]: v for k, v in request.form.items() if k.startswith(prefix)}


def _render_proceeding_form(form, case, proc, status=200, submitted=None):
    _picker(
        form.forum, "taxonomy.forums", "forums", multiple=False, jurisdiction=case.jurisdiction.code
    )
    return (
        render_template(
            "cases/proceeding_form.html",
            form=form,
            case=case,
            proceeding=proc,
            treatment_rows=_treatment_rows(case, proc, submitted),
        ),
        status,
    )


def _flash_proposals(case: Case) -> None:
    for event in db.session.scalars(
        select(Event).where(Event.case_id == case.id, Event.confirmed.is_(False))
    ):
        flash(
            _(
                "Proposed deadline: %(title)s. Confirm or dismiss it on the timeline.",
                title=event.title,
            ),
            "warning",
        )


def _save_proceeding(case: Case, proc: Proceeding | None):
    form = ProceedingForm()
    submitted = _submitted_treatments()
    if not form.validate():
        return _render_proceeding_form(form, case, proc, 400, submitted)
    existing_id = proc.id if proc is not None else None
    try:
        if proc is None:
            proc = svc.add_proceeding(actor=current_user, case=case, data=form.data)
        else:
            svc.update_proceeding(actor=current_user, proceeding=proc, data=form.data)
        svc.set_treatments(actor=current_user, proceeding=proc, treatments=submitted)
        db.session.commit()
    except svc.CaseError as exc:
        db.session.rollback()
        _apply_errors(form, exc.errors)
        case = _editable_case_or_404(case.id)
        proc_again = _case_proceeding_or_404(case, existing_id) if existing_id else None
        return _render_proceeding_form(form, case, proc_again, exc.status, submitted)
    flash(_("Proceeding saved."), "success")
    _flash_proposals(case)
    return redirect(url_for("cases.detail", case_id=case.id, _anchor="proceedings"))


@bp.route("/<int:case_id>/proceedings/new", methods=["GET", "POST"])
def new_proceeding(case_id: int):
    case = _editable_case_or_404(case_id)
    if request.method == "POST":
        return _save_proceeding(case, None)
    return _render_proceeding_form(ProceedingForm(), case, None)


@bp.route("/<int:case_id>/proceedings/<int:proceeding_id>/edit", methods=["GET", "POST"])
def edit_proceeding(case_id: int, proceeding_id: int):
    case = _editable_case_or_404(case_id)
    proc = _case_proceeding_or_404(case, proceeding_id)
    if request.method == "POST":
        return _save_proceeding(case, proc)
    form = ProceedingForm(
        data={
            "forum": proc.forum.code,
            "reference": proc.reference,
            "filed_on": proc.filed_on,
            "decided_on": proc.decided_on,
            "status": proc.status.value,
            "outcome": proc.outcome.value,
            "ecli": proc.ecli,
            "notes": proc.notes,
        }
    )
    return _render_proceeding_form(form, case, proc)


@bp.post("/<int:case_id>/proceedings/<int:proceeding_id>/delete")
def delete_proceeding(case_id: int, proceeding_id: int):
    case = _editable_case_or_404(case_id)
    proc = _case_proceeding_or_404(case, proceeding_id)
    if not request.form.get("confirm"):
        flash(_("Tick the box to confirm the deletion."), "error")
        return redirect(
            url_for("cases.edit_proceeding", case_id=case_id, proceeding_id=proceeding_id)
        )
    svc.delete_proceeding(actor=current_user, proceeding=proc)
    db.session.commit()
    flash(_("Proceeding deleted."), "success")
    return redirect(url_for("cases.detail", case_id=case_id, _anchor="proceedings"))


# --- Implementation -----------------------------------------------------------------------
@bp.route(
    "/<int:case_id>/proceedings/<int:proceeding_id>/implementation/new", methods=["GET", "POST"]
)
@bp.route(
    "/<int:case_id>/proceedings/<int:proceeding_id>/implementation/<int:implementation_id>",
    methods=["GET", "POST"],
)
def implementation(case_id: int, proceeding_id: int, implementation_id: int | None = None):
    case = _editable_case_or_404(case_id)
    proc = _case_proceeding_or_404(case, proceeding_id)
    impl = None
    if implementation_id is not None:
        impl = db.session.scalar(
            select(Implementation).where(
                Implementation.id == implementation_id, Implementation.proceeding_id == proc.id
            )
        )
        if impl is None:
            abort(404)
    if request.method == "GET":
        data = (
            {
                "measures_ordered": impl.measures_ordered,
                "compliance": impl.compliance.value,
                "supervision_stage": impl.supervision_stage,
                "laws_or_policies_changed": impl.laws_or_policies_changed,
                "follow_up_notes": impl.follow_up_notes,
                "reported_on": impl.reported_on,
            }
            if impl
            else None
        )
        form = ImplementationForm(data=data)
        return render_template(
            "cases/implementation_form.html", form=form, case=case, proceeding=proc, impl=impl
        )
    form = ImplementationForm()
    status = 400
    if form.validate():
        try:
            if impl is None:
                svc.add_implementation(actor=current_user, proceeding=proc, data=form.data)
            else:
                svc.update_implementation(actor=current_user, implementation=impl, data=form.data)
            db.session.commit()
            flash(_("Implementation saved."), "success")
            return redirect(url_for("cases.detail", case_id=case_id, _anchor="proceedings"))
        except svc.CaseError as exc:
            db.session.rollback()
            _apply_errors(form, exc.errors)
            status = exc.status
            case = _editable_case_or_404(case_id)
            proc = _case_proceeding_or_404(case, proceeding_id)
    return (
        render_template(
            "cases/implementation_form.html", form=form, case=case, proceeding=proc, impl=impl
        ),
        status,
    )
