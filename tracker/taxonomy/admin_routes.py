"""Admin pages for the reference data, under /taxonomy/admin/ (action "admin.reference").

Administrators complete and correct what the shipped files cannot: the placeholders of the
14 Principles, the IACHR 2019 principles, provision texts, the crosswalk to rights, rights,
and instruments' titles. Rows saved here are marked as edited, and `tracker reference load`
keeps them (tracker/taxonomy/reference.py). Other roles get 404, like the rest of /admin.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import joinedload, selectinload
from wtforms.fields.choices import SelectChoice

from tracker.auth.forms import ConfirmForm
from tracker.extensions import db
from tracker.security import require
from tracker.taxonomy import bp
from tracker.taxonomy.forms import (
    InstrumentForm,
    ProvisionCreateForm,
    ProvisionForm,
    RightCreateForm,
    RightForm,
)
from tracker.taxonomy.models import (
    Instrument,
    InstrumentKind,
    Provision,
    Right,
    provision_rights,
)
from tracker.taxonomy.services import (
    ReferenceEditError,
    StaleEdit,
    create_provision,
    create_right,
    delete_provision,
    delete_right,
    is_shipped_provision,
    is_shipped_right,
    provision_usage,
    right_usage,
    update_instrument,
    update_provision,
    update_right,
    version_of,
)

PER_PAGE = 50
ACTION = "admin.reference"


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _field_error(form, error: ReferenceEditError) -> None:
    target = getattr(form, error.field, None) if error.field else None
    if target is not None:
        target.errors = [*target.errors, error.message]
    else:
        form.form_errors.append(error.message)


def _status(error: ReferenceEditError | None = None) -> int:
    if isinstance(error, StaleEdit):
        return 409
    return 400 if request.method == "POST" else 200


def _rights_tree() -> list[tuple[Right, list[Right]]]:
    """Groups and their rights, in the taxonomy's order."""
    rows = db.session.scalars(select(Right).order_by(Right.position, Right.name)).all()
    children: dict[int, list[Right]] = {}
    for r in rows:
        if r.parent_id is not None:
            children.setdefault(r.parent_id, []).append(r)
    return [(r, children.get(r.id, [])) for r in rows if r.parent_id is None]


def _rights_by_id(ids: list[int]) -> list[Right]:
    if not ids:
        return []
    return list(db.session.scalars(select(Right).where(Right.id.in_(ids))))


# --- overview --------------------------------------------------------------------------------
@bp.get("/admin/")
@require(ACTION)
def admin_index():
    def count(model) -> int:
        return db.session.scalar(select(func.count()).select_from(model))

    placeholders = db.session.scalar(
        select(func.count()).select_from(Provision).where(Provision.placeholder.is_(True))
    )
    # Frameworks whose principles an administrator enters (IACHR 2019); treaties and
    # protocols without articles here are not gaps to fill.
    empty = db.session.scalars(
        select(Instrument)
        .where(Instrument.kind == InstrumentKind.SOFT_LAW)
        .where(~exists().where(Provision.instrument_id == Instrument.id))
        .order_by(Instrument.short_title)
    ).all()
    edited = sum(
        db.session.scalar(
            select(func.count()).select_from(model).where(model.edited_at.is_not(None))
        )
        for model in (Instrument, Provision, Right)
    )
    return render_template(
        "admin/reference_index.html",
        counts={
            "instruments": count(Instrument),
            "provisions": count(Provision),
            "rights": count(Right),
        },
        placeholders=placeholders,
        empty_instruments=empty,
        edited=edited,
    )


# --- instruments -----------------------------------------------------------------------------
@bp.get("/admin/instruments")
@require(ACTION)
def admin_instruments():
    q = (request.args.get("q") or "").strip()[:100]
    stmt = select(Instrument).options(joinedload(Instrument.system))
    if q:
        like = _like(q)
        stmt = stmt.where(
            or_(
                Instrument.code.ilike(like, escape="\\"),
                Instrument.short_title.ilike(like, escape="\\"),
                Instrument.title.ilike(like, escape="\\"),
            )
        )
    instruments = db.session.scalars(stmt.order_by(Instrument.short_title)).all()
    stats = {
        inst_id: (total, placeholders)
        for inst_id, total, placeholders in db.session.execute(
            select(
                Provision.instrument_id,
                func.count(Provision.id),
                func.count(Provision.id).filter(Provision.placeholder.is_(True)),
            ).group_by(Provision.instrument_id)
        )
    }
    return render_template(
        "admin/reference_instruments.html", instruments=instruments, stats=stats, q=q
    )


@bp.route("/admin/instruments/<int:instrument_id>", methods=["GET", "POST"])
@require(ACTION)
def admin_instrument_edit(instrument_id: int):
    instrument = db.get_or_404(Instrument, instrument_id)
    form = InstrumentForm(obj=instrument)
    if request.method == "GET":
        form.version.data = version_of(instrument)
    error = None
    if form.validate_on_submit():
        try:
            changed = update_instrument(
                instrument=instrument,
                short_title=form.short_title.data,
                title=form.title.data,
                version=form.version.data or "",
            )
        except ReferenceEditError as exc:
            db.session.rollback()
            instrument = db.get_or_404(Instrument, instrument_id)
            error = exc
            _field_error(form, exc)
        else:
            db.session.commit()
            if changed:
                flash(_("Saved %(name)s.", name=instrument.short_title), "success")
            else:
                flash(_("No changes to save."), "success")
            return redirect(url_for("taxonomy.admin_instruments"))
    provisions = db.session.scalars(
        select(Provision)
        .where(Provision.instrument_id == instrument.id)
        .options(selectinload(Provision.rights))
        .order_by(Provision.position, Provision.number)
    ).all()
    return render_template(
        "admin/reference_instrument_form.html",
        form=form,
        instrument=instrument,
        provisions=provisions,
        stale=isinstance(error, StaleEdit),
    ), _status(error)


# --- provisions ------------------------------------------------------------------------------
def _provision_filters() -> dict[str, str]:
    return {
        "q": (request.args.get("q") or "").strip()[:100],
        "instrument": (request.args.get("instrument") or "").strip()[:40],
        "right": (request.args.get("right") or "").strip()[:60],
        "status": request.args.get("status") or "",
    }


@bp.get("/admin/provisions")
@require(ACTION)
def admin_provisions():
    filters = _provision_filters()
    stmt = (
        select(Provision)
        .join(Instrument, Provision.instrument_id == Instrument.id)
        .options(joinedload(Provision.instrument), selectinload(Provision.rights))
    )
    instrument = None
    if filters["instrument"]:
        instrument = db.session.scalar(
            select(Instrument).where(Instrument.code == filters["instrument"])
        )
        if instrument is None:
            abort(404)
        stmt = stmt.where(Provision.instrument_id == instrument.id)
    right = None
    if filters["right"]:
        right = db.session.scalar(select(Right).where(Right.code == filters["right"]))
        if right is None:
            abort(404)
        stmt = stmt.where(
            exists().where(
                provision_rights.c.provision_id == Provision.id,
                provision_rights.c.right_id == right.id,
            )
        )
    if filters["q"]:
        for token in filters["q"].split()[:6]:
            like = _like(token)
            stmt = stmt.where(
                or_(
                    Provision.number.ilike(token),
                    Provision.code.ilike(like, escape="\\"),
                    Provision.title.ilike(like, escape="\\"),
                    Provision.text.ilike(like, escape="\\"),
                    Instrument.short_title.ilike(like, escape="\\"),
                )
            )
    if filters["status"] == "placeholder":
        stmt = stmt.where(Provision.placeholder.is_(True))
    elif filters["status"] == "edited":
        stmt = stmt.where(Provision.edited_at.is_not(None))
    elif filters["status"] == "unmapped":
        stmt = stmt.where(~exists().where(provision_rights.c.provision_id == Provision.id))
    stmt = stmt.order_by(Instrument.short_title, Provision.position, Provision.number)
    pagination = db.paginate(stmt, per_page=PER_PAGE, error_out=False)
    instruments = db.session.scalars(select(Instrument).order_by(Instrument.short_title)).all()
    return render_template(
        "admin/reference_provisions.html",
        pagination=pagination,
        filters=filters,
        instrument=instrument,
        right=right,
        instruments=instruments,
        args={k: v for k, v in filters.items() if v},
    )


def _instrument_choices() -> list[SelectChoice]:
    return [
        SelectChoice(i.id, f"{i.short_title} — {i.title}" if i.short_title != i.title else i.title)
        for i in db.session.scalars(select(Instrument).order_by(Instrument.short_title))
    ]


def _right_choices() -> list[SelectChoice]:
    choices = []
    for group, children in _rights_tree():
        if children:
            choices += [SelectChoice(c.id, c.name, optgroup=group.name) for c in children]
        else:
            choices.append(SelectChoice(group.id, group.name, optgroup=_("Other rights")))
    return choices


def _render_provision_form(form, provision, status, *, stale=False, usage=None):
    return render_template(
        "admin/reference_provision_form.html",
        form=form,
        provision=provision,
        rights_tree=_rights_tree(),
        chosen=set(form.rights.data or []),
        deletable=provision is not None and not is_shipped_provision(provision),
        stale=stale,
        usage=usage,
    ), status


@bp.route("/admin/provisions/new", methods=["GET", "POST"])
@require(ACTION)
def admin_provision_new():
    form = ProvisionCreateForm()
    form.instrument.choices = _instrument_choices()
    form.rights.choices = _right_choices()
    if request.method == "GET" and request.args.get("instrument"):
        chosen = db.session.scalar(
            select(Instrument).where(Instrument.code == request.args["instrument"])
        )
        if chosen is not None:
            form.instrument.data = chosen.id
    if form.validate_on_submit():
        instrument = db.session.get(Instrument, form.instrument.data)
        try:
            provision = create_provision(
                instrument=instrument,
                number=form.number.data,
                title=form.title.data,
                text=form.text.data,
                placeholder=form.placeholder.data,
                rights=_rights_by_id(form.rights.data),
            )
        except ReferenceEditError as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            db.session.commit()
            flash(
                _(
                    "Added %(instrument)s %(number)s.",
                    instrument=instrument.short_title,
                    number=provision.number,
                ),
                "success",
            )
            return redirect(url_for("taxonomy.admin_provisions", instrument=instrument.code))
    return _render_provision_form(form, None, _status())


@bp.route("/admin/provisions/<int:provision_id>", methods=["GET", "POST"])
@require(ACTION)
def admin_provision_edit(provision_id: int):
    provision = db.get_or_404(Provision, provision_id)
    form = ProvisionForm(obj=provision)
    form.rights.choices = _right_choices()
    if request.method == "GET":
        form.rights.data = [r.id for r in provision.rights]
        form.version.data = version_of(provision)
    error = None
    if form.validate_on_submit():
        try:
            changed = update_provision(
                provision=provision,
                number=form.number.data,
                title=form.title.data,
                text=form.text.data,
                placeholder=form.placeholder.data,
                rights=_rights_by_id(form.rights.data),
                version=form.version.data or "",
            )
        except ReferenceEditError as exc:
            db.session.rollback()
            provision = db.get_or_404(Provision, provision_id)
            error = exc
            _field_error(form, exc)
        else:
            db.session.commit()
            label = f"{provision.instrument.short_title} {provision.number}"
            if changed:
                flash(_("Saved %(name)s.", name=label), "success")
            else:
                flash(_("No changes to save."), "success")
            return redirect(
                url_for("taxonomy.admin_provisions", instrument=provision.instrument.code)
            )
    return _render_provision_form(
        form, provision, _status(error), stale=isinstance(error, StaleEdit)
    )


@bp.route("/admin/provisions/<int:provision_id>/delete", methods=["GET", "POST"])
@require(ACTION)
def admin_provision_delete(provision_id: int):
    provision = db.get_or_404(Provision, provision_id)
    form = ConfirmForm()
    usage = provision_usage(provision)
    label = f"{provision.instrument.short_title} {provision.number} — {provision.title}"
    back = url_for("taxonomy.admin_provision_edit", provision_id=provision.id)
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        code = provision.instrument.code
        try:
            delete_provision(provision=provision)
        except ReferenceEditError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            provision = db.get_or_404(Provision, provision_id)
            usage = provision_usage(provision)
            status = 409
        else:
            db.session.commit()
            flash(_("Deleted %(name)s.", name=label), "success")
            return redirect(url_for("taxonomy.admin_provisions", instrument=code))
    return render_template(
        "admin/reference_delete.html",
        form=form,
        what=label,
        usage=usage,
        mapped_label=_("Its crosswalk to these rights is removed with it:"),
        action=url_for("taxonomy.admin_provision_delete", provision_id=provision.id),
        cancel=back,
    ), status


# --- rights ----------------------------------------------------------------------------------
@bp.get("/admin/rights")
@require(ACTION)
def admin_rights():
    q = (request.args.get("q") or "").strip()[:100]
    mapped = dict(
        db.session.execute(
            select(provision_rights.c.right_id, func.count()).group_by(provision_rights.c.right_id)
        ).all()
    )
    tree = _rights_tree()
    if q:
        needle = q.casefold()

        def hit(r: Right) -> bool:
            return any(needle in (v or "").casefold() for v in (r.code, r.name, r.description))

        tree = [
            (group, [c for c in children if hit(c) or hit(group)])
            for group, children in tree
            if hit(group) or any(hit(c) for c in children)
        ]
    return render_template("admin/reference_rights.html", tree=tree, mapped=mapped, q=q)


def _parent_choices(right: Right | None) -> list[SelectChoice]:
    choices = [SelectChoice(0, _("None: this is a group"))]
    for group, _children in _rights_tree():
        if right is None or group.id != right.id:
            choices.append(SelectChoice(group.id, group.name))
    return choices


def _render_right_form(form, right, status, *, stale=False):
    return render_template(
        "admin/reference_right_form.html",
        form=form,
        right=right,
        stale=stale,
        deletable=right is not None and not is_shipped_right(right),
    ), status


@bp.route("/admin/rights/new", methods=["GET", "POST"])
@require(ACTION)
def admin_right_new():
    form = RightCreateForm()
    form.parent.choices = _parent_choices(None)
    if form.validate_on_submit():
        parent = db.session.get(Right, form.parent.data) if form.parent.data else None
        try:
            right = create_right(
                code=form.code.data,
                name=form.name.data,
                description=form.description.data,
                parent=parent,
            )
        except ReferenceEditError as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            db.session.commit()
            flash(_("Added the right %(name)s.", name=right.name), "success")
            return redirect(url_for("taxonomy.admin_rights"))
    return _render_right_form(form, None, _status())


@bp.route("/admin/rights/<int:right_id>", methods=["GET", "POST"])
@require(ACTION)
def admin_right_edit(right_id: int):
    right = db.get_or_404(Right, right_id)
    form = RightForm(obj=right)
    form.parent.choices = _parent_choices(right)
    if request.method == "GET":
        form.parent.data = right.parent_id or 0
        form.version.data = version_of(right)
    error = None
    if form.validate_on_submit():
        parent = db.session.get(Right, form.parent.data) if form.parent.data else None
        try:
            changed = update_right(
                right=right,
                name=form.name.data,
                description=form.description.data,
                parent=parent,
                version=form.version.data or "",
            )
        except ReferenceEditError as exc:
            db.session.rollback()
            right = db.get_or_404(Right, right_id)
            error = exc
            _field_error(form, exc)
        else:
            db.session.commit()
            if changed:
                flash(_("Saved the right %(name)s.", name=right.name), "success")
            else:
                flash(_("No changes to save."), "success")
            return redirect(url_for("taxonomy.admin_rights"))
    return _render_right_form(form, right, _status(error), stale=isinstance(error, StaleEdit))


@bp.route("/admin/rights/<int:right_id>/delete", methods=["GET", "POST"])
@require(ACTION)
def admin_right_delete(right_id: int):
    right = db.get_or_404(Right, right_id)
    form = ConfirmForm()
    usage = right_usage(right)
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        name = right.name
        try:
            delete_right(right=right)
        except ReferenceEditError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            right = db.get_or_404(Right, right_id)
            usage = right_usage(right)
            status = 409
        else:
            db.session.commit()
            flash(_("Deleted the right %(name)s.", name=name), "success")
            return redirect(url_for("taxonomy.admin_rights"))
    return render_template(
        "admin/reference_delete.html",
        form=form,
        what=right.name,
        usage=usage,
        mapped_label=_("It is removed from the crosswalk of these provisions:"),
        action=url_for("taxonomy.admin_right_delete", right_id=right.id),
        cancel=url_for("taxonomy.admin_right_edit", right_id=right.id),
    ), status
