"""Views of the cases area: list, case page, forms, timeline, links, deadlines.

Thin: parse -> form.validate -> service -> commit -> redirect. Domain errors become field
errors on a 4xx re-render; invisible cases answer 404 everywhere.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from wtforms.fields.choices import SelectChoice

from tracker.access import can, can_edit_case, can_see_parties
from tracker.cases import bp
from tracker.cases import services as svc
from tracker.cases.filters import CaseFilters, FilterError, parse_filters
from tracker.cases.forms import (
    LABELS,
    CaseForm,
    ConfirmRemoveForm,
    DeleteCaseForm,
    EventForm,
    ImplementationForm,
    LinkForm,
    PartyForm,
    ProceedingForm,
)
from tracker.cases.models import (
    Case,
    Compliance,
    Event,
    Implementation,
    Outcome,
    Party,
    Proceeding,
    Status,
    Treatment,
)
from tracker.cases.queries import (
    DEADLINE_WINDOW_DAYS,
    DEFAULT_SORT,
    case_links,
    case_list,
    labels_for,
    load_case,
    load_case_page,
    organisation_choices,
    parse_sort,
    search_visible_cases,
    team_choices,
    upcoming_deadlines,
)
from tracker.documents.services import discard_file_if_unused, visible_case_documents
from tracker.extensions import db
from tracker.taxonomy.models import Right, provision_rights
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
    pagination, filed, facet_values = case_list(current_user, filters, sort, page)
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
    return render_template(
        "cases/deadlines.html",
        events=upcoming_deadlines(current_user),
        today=svc.today(),
        window=DEADLINE_WINDOW_DAYS,
        # Only cases the person's organisation leads or whose team they are on are listed:
        # the role alone decides whether they may confirm and dismiss proposals.
        may_confirm=can(current_user, "case.edit"),
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
        **svc.case_state(case),
        "version": case.version,
        "loaded": _loaded_blob(svc.state_digests(svc.case_state(case))),
    }


# --- Stale edits: what changed, who changed it, and a form that keeps only your changes -----
MAX_LOADED_CHARS = 200_000


def _loaded_blob(digests: dict[str, str], mark: int | None = None) -> str:
    """The hidden `loaded` value: field digests and, for child records, an audit mark."""
    blob: dict[str, Any] = {"d": digests}
    if mark is not None:
        blob["a"] = mark
    return json.dumps(blob, separators=(",", ":"), sort_keys=True)


def _parse_loaded(raw: str | None) -> tuple[dict[str, str] | None, int | None]:
    """(digests, audit mark) from a posted `loaded` value; (None, None) when unusable."""
    if not raw or len(raw) > MAX_LOADED_CHARS:
        return None, None
    try:
        blob = json.loads(raw)
    except ValueError:
        return None, None
    if not isinstance(blob, dict):
        return None, None
    digests, mark = blob.get("d"), blob.get("a")
    if not isinstance(digests, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in digests.items()
    ):
        digests = None
    if not isinstance(mark, int) or isinstance(mark, bool):
        mark = None
    return digests, mark


def _set_field(form, name: str, value: Any) -> None:
    """Show `value` in a bound form field (what was posted is forgotten)."""
    field = form[name]
    field.data = value
    field.raw_data = None


def _resolve_conflict(
    *,
    changed: list[str],
    current: dict[str, Any],
    submitted: dict[str, Any],
    loaded: dict[str, str] | None,
    changes: dict[str, svc.FieldChange],
    label_of,
    display,
    take,
) -> list[dict[str, Any]]:
    """One row per field someone else changed since the form was loaded.

    A field the person left as loaded takes the saved value (`take(name, value)`), so saving
    again never reverts the other person's change; a field both changed keeps the person's
    value, shown beside the saved one. Without digests (a hand-made request) nothing is taken.
    """
    rows = []
    for name in changed:
        theirs, yours = current.get(name), submitted.get(name)
        touched = loaded is None or svc.field_digest(name, yours) != loaded.get(
            name, svc.field_digest(name, None)
        )
        same = svc.same_value(name, theirs, yours)
        if not touched and not same:
            take(name, theirs)
            outcome = "taken"
        else:
            outcome = "same" if same else "yours"
        label, anchor = label_of(name)
        change = changes.get(name)
        rows.append(
            {
                "label": label,
                "id": anchor,
                "by": change.by if change else None,
                "at": change.at if change else None,
                "theirs": display(name, theirs),
                "yours": display(name, yours),
                "outcome": outcome,
                "same": same,
            }
        )
    return rows


def _display(form: CaseForm, name: str, value: Any) -> str:
    """A readable rendering of a form value (for the conflict table)."""
    field = form[name]
    if value in (None, "", []):
        return "—"
    if name in ("rights", "provisions"):
        return "; ".join(svc.split_codes(value))
    if getattr(field, "choices", None) is not None:
        labels = {c.value: str(c.label) for c in field.choices or []}
        values = value if isinstance(value, list | tuple) else [value]
        return ", ".join(labels.get(v, str(v)) for v in values)
    if isinstance(value, date):
        return format_date(value)
    return str(value)


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


def _earliest_filed_on(case: Case | None) -> date | None:
    if case is None:
        return None
    return min((p.filed_on for p in case.proceedings if p.filed_on), default=None)


@bp.route("/<int:case_id>/edit", methods=["GET", "POST"])
def edit(case_id: int):
    case = _editable_case_or_404(case_id)
    earliest = _earliest_filed_on(case)
    if request.method == "GET":
        form = CaseForm(data=_case_form_data(case), earliest_filed_on=earliest)
        _prepare_case_form(form, case)
        return _render_case_form(form, case)
    form = CaseForm(earliest_filed_on=earliest)
    _prepare_case_form(form, case)
    if not form.validate():
        return _render_case_form(form, case, 400)
    base = form.version.data
    base_version = int(base) if base and str(base).isdigit() else None
    try:
        svc.update_case(actor=current_user, case=case, data=form.data, base_version=base_version)
        db.session.commit()
    except svc.StaleCase:
        db.session.rollback()
        return _render_conflict(form, case_id, base_version)
    except StaleDataError:
        # Saved by someone else between our read and our write (two requests racing).
        db.session.rollback()
        return _render_conflict(form, case_id, base_version)
    except svc.CaseError as exc:
        db.session.rollback()
        _apply_errors(form, exc.errors)
        return _render_case_form(form, _editable_case_or_404(case_id), exc.status)
    flash(_("Case saved."), "success")
    return redirect(url_for("cases.detail", case_id=case_id))


def _render_conflict(form: CaseForm, case_id: int, base_version: int | None):
    """409: the form again, with the saved values where the person had changed nothing, the
    person's own changes kept, and a table of who changed what since the form was loaded."""
    case = _editable_case_or_404(case_id)
    _prepare_case_form(form, case)
    current = svc.case_state(case)
    loaded, _mark = _parse_loaded(form.loaded.data)
    if loaded is not None:
        changed = svc.differing_fields(loaded, current)
    else:
        changed = svc.changes_since(case, base_version)
    changed = [name for name in current if name in changed]  # in the form's order
    changes = svc.who_changed(
        "cases",
        case.id,
        svc.CONFLICT_FIELDS,
        after_version=base_version if base_version is not None else 0,
        actions=("case.update",),
    )
    rows = _resolve_conflict(
        changed=changed,
        current=current,
        submitted={name: form[name].data for name in current},
        loaded=loaded,
        changes=changes,
        label_of=lambda name: (str(form[name].label.text), form[name].id),
        display=lambda name, value: _display(form, name, value),
        take=lambda name, value: _set_field(form, name, value),
    )
    # Saving again now is a deliberate choice over the values saved now.
    form.version.data = case.version
    form.loaded.data = _loaded_blob(svc.state_digests(current))
    form.loaded.raw_data = None
    return _render_case_form(
        form, case, 409, conflict={"rows": rows, "version": case.version, "what": "case"}
    )


@bp.route("/<int:case_id>/delete", methods=["GET", "POST"])
def delete(case_id: int):
    case = _editable_case_or_404(case_id)
    if not svc.can_delete_case(current_user, case):
        abort(403)
    form = DeleteCaseForm()
    documents = visible_case_documents(current_user, case)
    if request.method == "POST":
        if form.validate():
            title = case.title
            checksums = svc.delete_case(actor=current_user, case=case)
            db.session.commit()
            # Only once the rows are gone for good: a file shared with another document stays.
            for sha256 in checksums:
                discard_file_if_unused(sha256)
            flash(_("Case “%(title)s” deleted.", title=title), "success")
            return redirect(url_for("cases.index"))
        return render_template("cases/delete.html", form=form, case=case, documents=documents), 400
    return render_template("cases/delete.html", form=form, case=case, documents=documents)


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
            deletable=svc.can_delete_case(current_user, case),
        ),
        status,
    )


def _preload_provision_rights(case: Case) -> None:
    """The rights each of the case's provisions maps to, in one query: the suggested
    pleadings and similar cases read them, and would otherwise load them one by one."""
    provisions = {p.id: p for p in case.provisions}
    if not provisions:
        return
    found: dict[int, list[Right]] = {pid: [] for pid in provisions}
    for pid, right in db.session.execute(
        select(provision_rights.c.provision_id, Right)
        .join(Right, Right.id == provision_rights.c.right_id)
        .where(provision_rights.c.provision_id.in_(list(provisions)))
        .order_by(Right.id)
    ):
        found[pid].append(right)
    for pid, rights in found.items():
        set_committed_value(provisions[pid], "rights", rights)


@bp.get("/<int:case_id>")
def detail(case_id: int):
    case = _visible_case_or_404(case_id, page=True)
    _preload_provision_rights(case)
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


def _back_from_deadlines(case_id: int):
    if request.form.get("back") == "deadlines":
        return redirect(url_for("cases.deadlines"))
    return redirect(url_for("cases.detail", case_id=case_id, _anchor="timeline"))


@bp.post("/<int:case_id>/events/<int:event_id>/<any(confirm, dismiss, complete):verb>")
def event_action(case_id: int, event_id: int, verb: str):
    case = _editable_case_or_404(case_id)
    event = db.session.scalar(select(Event).where(Event.id == event_id, Event.case_id == case.id))
    if event is None:
        # A proposal replaced by a corrected decision, or an entry someone removed meanwhile.
        flash(
            _("This entry is no longer on the timeline: someone changed or removed it meanwhile."),
            "error",
        )
        return _back_from_deadlines(case_id)
    action = {
        "confirm": (svc.confirm_deadline, _("Deadline confirmed.")),
        "dismiss": (svc.dismiss_deadline, _("Proposed deadline dismissed.")),
        "complete": (svc.complete_event, _("Marked as done.")),
    }[verb]
    try:
        action[0](actor=current_user, event=event)
    except svc.CaseError as exc:
        db.session.rollback()
        flash(" ".join(exc.errors.values()), "error")
        return _back_from_deadlines(case_id)
    db.session.commit()
    flash(action[1], "success")
    return _back_from_deadlines(case_id)


def _confirm_removal(case: Case, what: str, item: Any, remove, done: str, anchor: str):
    """The confirmation step of a removal (works without JavaScript): GET shows what goes,
    POST with the box ticked removes it."""
    form = ConfirmRemoveForm()
    back = url_for("cases.detail", case_id=case.id, _anchor=anchor)
    if request.method == "POST":
        if form.validate():
            remove()
            db.session.commit()
            flash(done, "success")
            return redirect(back)
        status = 400
    else:
        status = 200
    return (
        render_template(
            "cases/confirm_remove.html", form=form, case=case, what=what, item=item, back=back
        ),
        status,
    )


@bp.route("/<int:case_id>/events/<int:event_id>/delete", methods=["GET", "POST"])
def remove_event(case_id: int, event_id: int):
    case = _editable_case_or_404(case_id)
    event = _case_event_or_404(case, event_id)
    return _confirm_removal(
        case,
        "event",
        event,
        lambda: svc.delete_event(actor=current_user, event=event),
        _("Removed from the timeline."),
        "timeline",
    )


@bp.route("/<int:case_id>/parties/<int:party_id>/delete", methods=["GET", "POST"])
def remove_party(case_id: int, party_id: int):
    case = _editable_case_or_404(case_id)
    party = db.session.scalar(select(Party).where(Party.id == party_id, Party.case_id == case.id))
    if party is None:
        abort(404)
    return _confirm_removal(
        case,
        "party",
        party,
        lambda: svc.remove_party(actor=current_user, party=party),
        _("Party removed."),
        "parties",
    )


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


@bp.route("/<int:case_id>/links/<int:link_id>/delete", methods=["GET", "POST"])
def remove_link(case_id: int, link_id: int):
    case = _editable_case_or_404(case_id)
    outgoing, incoming = case_links(current_user, case)  # only links whose other end is visible
    link = next((lk for lk in outgoing + incoming if lk.id == link_id), None)
    if link is None:
        abort(404)
    return _confirm_removal(
        case,
        "link",
        link,
        lambda: svc.remove_link(actor=current_user, case=case, link=link),
        _("Link removed."),
        "links",
    )


# --- Proceedings --------------------------------------------------------------------------
def _case_proceeding_or_404(case: Case, proceeding_id: int, *, lock: bool = False) -> Proceeding:
    stmt = select(Proceeding).where(Proceeding.id == proceeding_id, Proceeding.case_id == case.id)
    if lock:
        # A save compares the record with what its form was loaded with, then writes: hold
        # the row (PostgreSQL; SQLite write requests are serialised by BEGIN IMMEDIATE) so a
        # concurrent save cannot slip in between.
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    proc = db.session.scalar(stmt)
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
        row["value"] = (current if submitted is None else submitted).get(row["key"], "")
    return rows


def _submitted_treatments() -> dict[str, str]:
    prefix = svc.TREATMENT_PREFIX
    return {k[len(prefix) :]: v for k, v in request.form.items() if k.startswith(prefix)}


def _proceeding_form(case: Case, proc: Proceeding | None = None) -> ProceedingForm:
    """The form, filled from the proceeding on GET (with what it was loaded with)."""
    if request.method == "POST":
        return ProceedingForm(case_opened_on=case.opened_on)
    data = None
    if proc is not None:
        state = svc.proceeding_state(proc)
        data = {name: state[name] for name in svc.PROCEEDING_FIELDS}
        data["loaded"] = _loaded_blob(
            svc.state_digests(state), svc.latest_audit_id("proceedings", proc.id)
        )
    return ProceedingForm(data=data, case_opened_on=case.opened_on)


def _render_proceeding_form(form, case, proc, status=200, submitted=None, conflict=None):
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
            conflict=conflict,
        ),
        status,
    )


def _flash_proposals(case: Case, proc: Proceeding) -> None:
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
    final = svc.final_domestic_decision(case)
    if final is not None and final.id == proc.id:
        for limit in svc.passed_filing_limits(case):
            flash(
                _(
                    "The time limit to file with %(forum)s ran out on %(date)s: "
                    "no deadline was proposed.",
                    forum=limit.forum.name,
                    date=format_date(limit.due),
                ),
                "warning",
            )


def _proceeding_display(name: str, value: Any) -> str:
    if value in (None, ""):
        return "—"
    if name == "forum":
        (item,) = labels_for("forums", [value])
        return item["label"]
    if name == "status":
        return str(LABELS["status"].get(Status(value), value))
    if name == "outcome":
        return str(LABELS["outcome"].get(Outcome(value), value))
    if name.startswith(svc.TREATMENT_PREFIX):
        return str(LABELS["treatment"].get(Treatment(value), value))
    if isinstance(value, date):
        return format_date(value)
    return str(value)


def _render_proceeding_conflict(form, case_id: int, proceeding_id: int, submitted: dict):
    """409 for a stale proceeding form: as for the case form, the saved values fill what the
    person left untouched, their own changes stay, and a table says who changed what."""
    case = _editable_case_or_404(case_id)
    proc = _case_proceeding_or_404(case, proceeding_id)
    current = svc.proceeding_state(proc)
    loaded, mark = _parse_loaded(form.loaded.data)
    changed = svc.differing_fields(loaded or {}, current)
    changes = svc.who_changed(
        "proceedings",
        proc.id,
        svc.PROCEEDING_AUDIT_FIELDS,
        after_id=mark or 0,
        actions=("proceeding.update", "proceeding.treatments"),
    )
    yours = {name: form[name].data for name in svc.PROCEEDING_FIELDS}
    yours |= {svc.TREATMENT_PREFIX + k: v or None for k, v in submitted.items()}
    treatment_labels = {
        svc.TREATMENT_PREFIX + row["key"]: row["label"] for row in _treatment_rows(case, None, {})
    }
    treatments = dict(submitted)

    def label_of(name: str) -> tuple[str, str]:
        if name in form:
            return str(form[name].label.text), form[name].id
        return treatment_labels.get(name, name.removeprefix(svc.TREATMENT_PREFIX)), "treatments"

    def take(name: str, value: Any) -> None:
        if name in form:
            _set_field(form, name, value)
        else:
            treatments[name.removeprefix(svc.TREATMENT_PREFIX)] = value or ""

    rows = _resolve_conflict(
        changed=changed,
        current=current,
        submitted=yours,
        loaded=loaded,
        changes=changes,
        label_of=label_of,
        display=_proceeding_display,
        take=take,
    )
    form.loaded.data = _loaded_blob(
        svc.state_digests(current), svc.latest_audit_id("proceedings", proc.id)
    )
    form.loaded.raw_data = None
    return _render_proceeding_form(
        form,
        case,
        proc,
        409,
        treatments,
        conflict={"rows": rows, "what": "proceeding"},
    )


def _save_proceeding(case: Case, proc: Proceeding | None):
    form = _proceeding_form(case, proc)
    submitted = _submitted_treatments()
    if not form.validate():
        return _render_proceeding_form(form, case, proc, 400, submitted)
    existing_id = proc.id if proc is not None else None
    try:
        if proc is None:
            proc = svc.add_proceeding(actor=current_user, case=case, data=form.data)
        else:
            loaded, _mark = _parse_loaded(form.loaded.data)
            svc.update_proceeding(
                actor=current_user, proceeding=proc, data=form.data, base=loaded or {}
            )
        svc.set_treatments(actor=current_user, proceeding=proc, treatments=submitted)
        db.session.commit()
    except svc.StaleProceeding:
        db.session.rollback()
        return _render_proceeding_conflict(form, case.id, existing_id, submitted)
    except svc.CaseError as exc:
        db.session.rollback()
        _apply_errors(form, exc.errors)
        case = _editable_case_or_404(case.id)
        proc_again = _case_proceeding_or_404(case, existing_id) if existing_id else None
        return _render_proceeding_form(form, case, proc_again, exc.status, submitted)
    flash(_("Proceeding saved."), "success")
    _flash_proposals(case, proc)
    return redirect(url_for("cases.detail", case_id=case.id, _anchor="proceedings"))


@bp.route("/<int:case_id>/proceedings/new", methods=["GET", "POST"])
def new_proceeding(case_id: int):
    case = _editable_case_or_404(case_id)
    if request.method == "POST":
        return _save_proceeding(case, None)
    return _render_proceeding_form(_proceeding_form(case), case, None)


@bp.route("/<int:case_id>/proceedings/<int:proceeding_id>/edit", methods=["GET", "POST"])
def edit_proceeding(case_id: int, proceeding_id: int):
    case = _editable_case_or_404(case_id)
    proc = _case_proceeding_or_404(case, proceeding_id, lock=request.method == "POST")
    if request.method == "POST":
        return _save_proceeding(case, proc)
    return _render_proceeding_form(_proceeding_form(case, proc), case, proc)


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
IMPLEMENTATION_AUDIT_FIELDS = {name: name for name in svc.IMPLEMENTATION_FIELDS}


def _implementation_display(name: str, value: Any) -> str:
    if value in (None, ""):
        return "—"
    if name == "compliance":
        return str(LABELS["compliance"].get(Compliance(value), value))
    if isinstance(value, date):
        return format_date(value)
    return str(value)


def _render_implementation(form, case, proc, impl, status=200, conflict=None):
    return (
        render_template(
            "cases/implementation_form.html",
            form=form,
            case=case,
            proceeding=proc,
            impl=impl,
            conflict=conflict,
        ),
        status,
    )


def _implementation_conflict(form, case_id: int, proceeding_id: int, implementation_id: int):
    case = _editable_case_or_404(case_id)
    proc = _case_proceeding_or_404(case, proceeding_id)
    impl = db.session.get(Implementation, implementation_id)
    current = svc.implementation_state(impl)
    loaded, mark = _parse_loaded(form.loaded.data)
    rows = _resolve_conflict(
        changed=svc.differing_fields(loaded or {}, current),
        current=current,
        submitted={name: form[name].data for name in current},
        loaded=loaded,
        changes=svc.who_changed(
            "implementations",
            impl.id,
            IMPLEMENTATION_AUDIT_FIELDS,
            after_id=mark or 0,
            actions=("implementation.update",),
        ),
        label_of=lambda name: (str(form[name].label.text), form[name].id),
        display=_implementation_display,
        take=lambda name, value: _set_field(form, name, value),
    )
    form.loaded.data = _loaded_blob(
        svc.state_digests(current), svc.latest_audit_id("implementations", impl.id)
    )
    form.loaded.raw_data = None
    return _render_implementation(
        form, case, proc, impl, 409, conflict={"rows": rows, "what": "implementation"}
    )


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
        stmt = select(Implementation).where(
            Implementation.id == implementation_id, Implementation.proceeding_id == proc.id
        )
        if request.method == "POST":
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        impl = db.session.scalar(stmt)
        if impl is None:
            abort(404)
    if request.method == "GET":
        data = None
        if impl is not None:
            data = svc.implementation_state(impl)
            data["loaded"] = _loaded_blob(
                svc.state_digests(data), svc.latest_audit_id("implementations", impl.id)
            )
        return _render_implementation(ImplementationForm(data=data), case, proc, impl)
    form = ImplementationForm()
    status = 400
    if form.validate():
        try:
            if impl is None:
                svc.add_implementation(actor=current_user, proceeding=proc, data=form.data)
            else:
                loaded, _mark = _parse_loaded(form.loaded.data)
                svc.update_implementation(
                    actor=current_user, implementation=impl, data=form.data, base=loaded or {}
                )
            db.session.commit()
            flash(_("Implementation saved."), "success")
            return redirect(url_for("cases.detail", case_id=case_id, _anchor="proceedings"))
        except svc.StaleImplementation:
            db.session.rollback()
            return _implementation_conflict(form, case_id, proceeding_id, implementation_id)
        except svc.CaseError as exc:
            db.session.rollback()
            _apply_errors(form, exc.errors)
            status = exc.status
            case = _editable_case_or_404(case_id)
            proc = _case_proceeding_or_404(case, proceeding_id)
            if implementation_id is not None:
                impl = db.session.get(Implementation, implementation_id)
    return _render_implementation(form, case, proc, impl, status)
