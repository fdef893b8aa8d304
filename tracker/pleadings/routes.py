"""Views of the pleadings library: list, detail, upload, versions, edit, delete, endorse,
track record links, drafts from templates, and suggestions for a case.

Thin: parse -> form.validate -> service -> commit -> redirect. A pleading or case the user
may not see answers 404; bad input re-renders with the messages and status 400.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from tracker.access import can, can_see_parties
from tracker.cases.models import Case
from tracker.documents.models import Document
from tracker.documents.services import discard_file_if_unused, file_path
from tracker.extensions import db
from tracker.pleadings import bp
from tracker.pleadings import services as svc
from tracker.pleadings.drafts import (
    LIST_PLACEHOLDERS,
    PLACEHOLDERS,
    TemplateProblem,
    default_proceeding,
    draft_context,
    proceeding_label,
    proceedings_in_order,
    render_draft,
)
from tracker.pleadings.forms import (
    CONFIDENTIALITY_SHORT,
    LANGUAGES,
    PLEADING_KINDS,
    ConfirmForm,
    DraftForm,
    EndorseForm,
    PleadingForm,
    PleadingUploadForm,
    UseForm,
    VersionForm,
    language_choices,
    language_name,
    select_choices,
)
from tracker.pleadings.models import ModelPleading, PleadingUse
from tracker.security import require, safe_next
from tracker.taxonomy.models import Forum, Jurisdiction, JurisdictionKind, Right
from tracker.taxonomy.routes import provision_label

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    # App-wide (prefixed): the case page includes templates/pleadings/_suggestions.html.
    return {
        "pleading_kind_labels": PLEADING_KINDS,
        "pleading_confidentiality_labels": CONFIDENTIALITY_SHORT,
        "pleading_language_name": language_name,
        "pleading_outcome_label": _outcome_label,
        "pleading_provision_label": provision_label,
    }


def _outcome_label(outcome: Any) -> str:
    try:
        from tracker.cases.forms import OUTCOME_LABELS

        return str(OUTCOME_LABELS.get(outcome, outcome))
    except ImportError:  # the cases area's labels are optional here
        return str(outcome)


def _use_refused() -> str:
    return _(
        "You may record uses only in cases your organisation works on, or for pleadings of "
        "your organisation."
    )


@bp.app_template_global("pleading_can_record_use")
def pleading_can_record_use(pleading: ModelPleading, case: Case) -> bool:
    """For the templates (and the case page's partial): offer the link / unlink buttons."""
    return svc.can_record_use(current_user, pleading, case)


@bp.app_template_global("pleading_draft_forums")
def pleading_draft_forums(pleading: ModelPleading, case: Case) -> list[tuple[int, str, bool]]:
    """For the partial's inline choice: (proceeding id, label, proposed) per proceeding."""
    proposed = default_proceeding(case, pleading)
    return [(p.id, proceeding_label(p), p is proposed) for p in proceedings_in_order(case)]


@bp.app_template_global("pleading_suggestions")
def pleading_suggestions(case: Case, limit: int = 5) -> list[svc.Suggestion]:
    """For the case page's partial: templates/pleadings/_suggestions.html."""
    return svc.suggest_pleadings(current_user, case, limit=limit)


# --- Helpers ---------------------------------------------------------------------------------


def _pleading_or_404(pleading_id: int) -> ModelPleading:
    pleading = svc.visible_pleading(current_user, pleading_id)
    if pleading is None:
        abort(404)
    return pleading


def _managed_or_403(pleading_id: int) -> ModelPleading:
    pleading = _pleading_or_404(pleading_id)
    if not svc.can_manage_pleading(current_user, pleading):
        abort(403)
    return pleading


def _with_choices(form: PleadingForm) -> PleadingForm:
    form.language.choices = select_choices(language_choices())
    form.systems.choices = select_choices(
        (j.code, j.name)
        for j in db.session.scalars(
            select(Jurisdiction)
            .where(Jurisdiction.kind == JurisdictionKind.SYSTEM)
            .order_by(Jurisdiction.name)
        )
    )
    return form


def _picker(field, endpoint: str, kind: str) -> None:
    """Mark a field of codes for static/js/picker.js, the case form's type-ahead picker."""
    from tracker.cases.queries import labels_for

    field.render_kw = {
        **(field.render_kw or {}),
        "data-picker": url_for(endpoint),
        "data-multiple": "",
        "data-selected": json.dumps(labels_for(kind, svc.split_codes(field.data or ""))),
        "data-remove-label": _("Remove"),
        "data-none-label": _("No match"),
        "data-chosen-label": _("Chosen"),
        "data-placeholder": _("Type to search…"),
        "autocomplete": "off",
    }


def _render_form(form: PleadingForm, pleading: ModelPleading | None, status: int = 200):
    _picker(form.rights, "taxonomy.rights", "rights")
    _picker(form.provisions, "taxonomy.provisions", "provisions")
    _picker(form.forums, "taxonomy.forums", "forums")
    return render_template(
        "pleadings/form.html",
        form=form,
        pleading=pleading,
        placeholders=PLACEHOLDERS,
        list_placeholders=LIST_PLACEHOLDERS,
    ), status


def _apply_errors(form, errors: dict[str, list[str]]) -> None:
    for name, messages in errors.items():
        target = form._fields.get(name)
        if target is not None:
            target.errors = list(target.errors) + list(messages)
        else:
            form.form_errors.extend(messages)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_exc):
    """An upload over MAX_CONTENT_LENGTH: name the limit and lead back to the form."""
    pleading_id = (request.view_args or {}).get("pleading_id")
    return render_template("pleadings/too_large.html", pleading_id=pleading_id), 413


# --- List ------------------------------------------------------------------------------------


@bp.get("/")
@require("pleading.view")
def index():
    filters, errors = svc.parse_pleading_filters(request.args)
    stmt = svc.pleading_list_stmt(current_user, filters)
    pagination = db.paginate(stmt, per_page=svc.PER_PAGE, error_out=False)
    records = svc.track_records(current_user, [p.id for p in pagination.items])
    return (
        render_template(
            "pleadings/index.html",
            pagination=pagination,
            filters=filters,
            filter_errors=errors,
            records=records,
            rights=db.session.scalars(select(Right).order_by(Right.name)).all(),
            forums=db.session.scalars(select(Forum).order_by(Forum.name)).all(),
            systems=db.session.scalars(
                select(Jurisdiction)
                .where(Jurisdiction.kind == JurisdictionKind.SYSTEM)
                .order_by(Jurisdiction.name)
            ).all(),
            languages=language_choices(),
        ),
        400 if errors else 200,
    )


# --- Upload, edit, versions, delete -----------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@require("pleading.create")
def create():
    form = _with_choices(PleadingUploadForm())
    if request.method == "GET":
        locale = str(get_locale() or "en").split("_")[0]
        form.language.data = locale if locale in LANGUAGES else "en"
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                pleading = svc.create_pleading(
                    user=current_user, data=form.data, file=form.file.data
                )
            except svc.PleadingInvalid as exc:
                db.session.rollback()
                _apply_errors(form, exc.errors)
            else:
                db.session.commit()
                flash(_("The pleading was added to the library."), "success")
                return redirect(url_for("pleadings.detail", pleading_id=pleading.id))
        status = 400
    return _render_form(form, None, status)


@bp.route("/<int:pleading_id>/edit", methods=["GET", "POST"])
def edit(pleading_id: int):
    pleading = _managed_or_403(pleading_id)
    if request.method == "GET":
        form = _with_choices(
            PleadingForm(
                # Not obj=pleading: its relationships (Right, Provision objects) would win
                # over these codes and the form would show "[<Provision ECHR:5>]".
                data={
                    "title": pleading.title,
                    "language": pleading.language,
                    "summary": pleading.summary,
                    "usage_notes": pleading.usage_notes,
                    "is_template": pleading.is_template,
                    "kind": pleading.kind.value,
                    "confidentiality": pleading.confidentiality.value,
                    "rights": "; ".join(sorted(r.code for r in pleading.rights)),
                    "provisions": "; ".join(sorted(p.code for p in pleading.provisions)),
                    "forums": "; ".join(sorted(f.code for f in pleading.forums)),
                    "systems": [j.code for j in pleading.systems],
                },
            )
        )
        return _render_form(form, pleading)
    form = _with_choices(PleadingForm())
    if form.validate_on_submit():
        try:
            svc.update_pleading(user=current_user, pleading=pleading, data=form.data)
        except svc.PleadingInvalid as exc:
            db.session.rollback()
            pleading = _pleading_or_404(pleading_id)
            _apply_errors(form, exc.errors)
        else:
            db.session.commit()
            flash(_("The pleading was updated."), "success")
            return redirect(url_for("pleadings.detail", pleading_id=pleading.id))
    return _render_form(form, pleading, 400)


@bp.post("/<int:pleading_id>/versions")
def add_version(pleading_id: int):
    pleading = _managed_or_403(pleading_id)
    form = VersionForm()
    if form.validate_on_submit():
        try:
            document = svc.add_version(
                user=current_user, pleading=pleading, file=form.file.data, note=form.note.data
            )
        except svc.PleadingInvalid as exc:
            db.session.rollback()
            pleading = _pleading_or_404(pleading_id)
            form.file.errors = list(form.file.errors) + exc.errors.get("file", [])
        else:
            db.session.commit()
            flash(_("Version %(n)s was added.", n=document.version), "success")
            return redirect(url_for("pleadings.detail", pleading_id=pleading.id))
    return _render_detail(pleading, version_form=form, status=400)


@bp.get("/<int:pleading_id>/versions/<int:document_id>")
def download(pleading_id: int, document_id: int):
    pleading = _pleading_or_404(pleading_id)
    if not can(current_user, "document.download"):
        abort(403)
    document = db.session.scalar(
        select(Document).where(Document.id == document_id, Document.pleading_id == pleading.id)
    )
    if document is None:
        abort(404)
    path = file_path(document.sha256)
    if not path.exists():
        abort(404)
    return send_file(
        path,
        mimetype=document.content_type,
        as_attachment=True,
        download_name=document.filename,
        max_age=0,
    )


@bp.route("/<int:pleading_id>/delete", methods=["GET", "POST"])
def delete(pleading_id: int):
    pleading = _managed_or_403(pleading_id)
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        checksums = svc.delete_pleading(user=current_user, pleading=pleading)
        db.session.commit()
        for sha256 in checksums:
            discard_file_if_unused(sha256)
        flash(_("The pleading and its versions were deleted."), "success")
        return redirect(url_for("pleadings.index"))
    uses = svc.visible_uses(current_user, pleading)
    versions = svc.visible_versions(current_user, pleading)
    return render_template(
        "pleadings/delete.html", pleading=pleading, form=form, uses=uses, versions=versions
    ), (400 if request.method == "POST" else 200)


@bp.post("/<int:pleading_id>/endorse")
@require("pleading.endorse")
def endorse(pleading_id: int):
    pleading = _pleading_or_404(pleading_id)
    form = EndorseForm()
    if not form.validate_on_submit() or form.endorse.data not in ("yes", "no"):
        abort(400)
    svc.set_endorsement(user=current_user, pleading=pleading, endorse=form.endorse.data == "yes")
    db.session.commit()
    if form.endorse.data == "yes":
        flash(_("The pleading is now endorsed by the network."), "success")
    else:
        flash(_("The endorsement was withdrawn."), "success")
    return redirect(url_for("pleadings.detail", pleading_id=pleading.id))


# --- Track record ----------------------------------------------------------------------------


@bp.post("/<int:pleading_id>/uses")
@require("pleading.create")
def link(pleading_id: int):
    pleading = _pleading_or_404(pleading_id)
    form = UseForm()
    if form.validate_on_submit():
        case = svc.visible_case(current_user, form.case_id.data)
        if case is None:
            form.case_id.errors = [_("No case with this number that you can see.")]
        elif not svc.can_record_use(current_user, pleading, case):
            form.case_id.errors = [_use_refused()]
            return _render_detail(pleading, use_form=form, status=403)
        else:
            try:
                svc.link_use(user=current_user, pleading=pleading, case=case, note=form.note.data)
            except svc.PleadingInvalid as exc:
                db.session.rollback()
                pleading = _pleading_or_404(pleading_id)
                form.case_id.errors = exc.errors["case_id"]
            else:
                db.session.commit()
                flash(_("Recorded: used in “%(title)s”.", title=case.title), "success")
                default = url_for("pleadings.detail", pleading_id=pleading.id)
                return redirect(safe_next(form.next.data, default))
    return _render_detail(pleading, use_form=form, status=400)


@bp.post("/<int:pleading_id>/uses/<int:use_id>/delete")
@require("pleading.create")
def unlink(pleading_id: int, use_id: int):
    pleading = _pleading_or_404(pleading_id)
    use = db.session.get(PleadingUse, use_id)
    if (
        use is None
        or use.pleading_id != pleading.id
        or svc.visible_case(current_user, use.case_id) is None
    ):
        abort(404)
    if not svc.can_record_use(current_user, pleading, use.case):
        abort(403)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    svc.unlink_use(user=current_user, use=use)
    db.session.commit()
    flash(_("The link to the case was removed."), "success")
    return redirect(url_for("pleadings.detail", pleading_id=pleading.id))


# --- Drafts from templates ---------------------------------------------------------------------


def _slug(text: str) -> str:
    slug = re.sub(r"[^\w]+", "-", text, flags=re.UNICODE).strip("-").lower()
    return slug[:60] or "draft"


def _draft_choices(form: DraftForm, case: Case, pleading: ModelPleading) -> None:
    """The case's proceedings as the forum choices, the proposed one selected."""
    form.proceeding_id.choices = [(p.id, proceeding_label(p)) for p in proceedings_in_order(case)]
    if form.proceeding_id.data is None:
        proposed = default_proceeding(case, pleading)
        form.proceeding_id.data = proposed.id if proposed is not None else None


def _render_draft_page(pleading: ModelPleading, case: Case, form: DraftForm, status: int = 200):
    return render_template(
        "pleadings/draft.html",
        pleading=pleading,
        case=case,
        form=form,
        may_see_names=can_see_parties(current_user, case),
    ), status


@bp.get("/<int:pleading_id>/draft")
@require("pleading.view")
def start_draft(pleading_id: int):
    """Choose the forum (and, for the case team, full names) before downloading a draft."""
    pleading = _pleading_or_404(pleading_id)
    form = DraftForm(request.args, meta={"csrf": False})
    if not form.case_id.validate(form) or not pleading.is_template:
        if not pleading.is_template:
            form.case_id.errors = [_("This pleading is not a template: download it instead.")]
        return _render_detail(pleading, draft_form=form, status=400)
    case = svc.visible_case(current_user, form.case_id.data)
    if case is None:
        abort(404)
    form.proceeding_id.data = None  # proposed below; a choice is made on this page
    _draft_choices(form, case, pleading)
    return _render_draft_page(pleading, case, form)


@bp.post("/<int:pleading_id>/draft")
@require("pleading.view")
def draft(pleading_id: int):
    pleading = _pleading_or_404(pleading_id)
    form = DraftForm()
    if not form.validate_on_submit():
        return _render_detail(pleading, draft_form=form, status=400)
    case = svc.visible_case(current_user, form.case_id.data)
    if case is None:
        abort(404)
    if not pleading.is_template:
        form.case_id.errors = [_("This pleading is not a template: download it instead.")]
        return _render_detail(pleading, draft_form=form, status=400)
    chosen = form.proceeding_id.data
    _draft_choices(form, case, pleading)
    proceeding = next((p for p in case.proceedings if p.id == form.proceeding_id.data), None)
    if chosen is not None and proceeding is None:
        form.proceeding_id.errors = [_("Choose one of this case's proceedings.")]
        return _render_draft_page(pleading, case, form, status=400)
    if form.full_names.data and not can_see_parties(current_user, case):
        form.full_names.errors = [_("Only the case team may put the parties' full names in.")]
        return _render_draft_page(pleading, case, form, status=403)
    latest = next(iter(svc.visible_versions(current_user, pleading)), None)
    if latest is None or not file_path(latest.sha256).exists():
        abort(404)
    context = draft_context(
        user=current_user, case=case, full_names=form.full_names.data, proceeding=proceeding
    )
    try:
        data = render_draft(file_path(latest.sha256), context)
    except TemplateProblem as exc:
        form.case_id.errors = exc.messages
        return _render_detail(pleading, draft_form=form, status=400)
    svc.record_draft(
        user=current_user,
        pleading=pleading,
        case=case,
        full_names=bool(form.full_names.data),
        proceeding=proceeding,
    )
    db.session.commit()
    return send_file(
        io.BytesIO(data),
        mimetype=DOCX_MIME,
        as_attachment=True,
        download_name=f"draft-{_slug(case.title)}.docx",
        max_age=0,
    )


# --- Detail ----------------------------------------------------------------------------------


def _render_detail(pleading: ModelPleading, status: int = 200, **forms: Any):
    user = current_user
    case_q = (request.args.get("case_q") or "").strip()[:200]
    return render_template(
        "pleadings/detail.html",
        pleading=pleading,
        versions=svc.visible_versions(user, pleading),
        uses=svc.visible_uses(user, pleading),
        record=svc.track_records(user, [pleading.id]).get(pleading.id) or svc.TrackRecord(),
        can_manage=svc.can_manage_pleading(user, pleading),
        version_form=forms.get("version_form") or VersionForm(formdata=None),
        use_form=forms.get("use_form") or UseForm(formdata=None),
        draft_form=forms.get("draft_form") or DraftForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
        endorse_form=EndorseForm(formdata=None),
        case_q=case_q,
        case_results=svc.search_cases_for_linking(user, case_q),
    ), status


@bp.get("/<int:pleading_id>")
@require("pleading.view")
def detail(pleading_id: int):
    return _render_detail(_pleading_or_404(pleading_id))


# --- Suggestions for a case ----------------------------------------------------------------


@bp.get("/suggest")
@require("pleading.view")
def suggest():
    raw = request.args.get("case") or ""
    case = svc.visible_case(current_user, int(raw)) if raw.isdigit() else None
    if case is None:
        abort(404)
    return render_template("pleadings/suggest.html", case=case)
