"""Views of the documents area: upload to a case, detail, access-checked download, delete."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from tracker.access import can, can_edit_case, case_filter, document_filter
from tracker.cases.models import Case
from tracker.documents import bp
from tracker.documents.forms import (
    CONFIDENTIALITY_LABELS,
    KIND_LABELS,
    LEVEL_NAMES,
    DocumentUploadForm,
    language_label,
)
from tracker.documents.models import Document
from tracker.documents.services import (
    DocumentTooOpen,
    UploadRejected,
    check_file,
    create_document,
    delete_document,
    discard_file_if_unused,
    file_path,
    visible_case_documents,
)
from tracker.extensions import db

# --- Helpers shared with templates ---------------------------------------------------------


def _visible_case_or_404(case_id: int) -> Case:
    case = db.session.scalar(select(Case).where(Case.id == case_id, case_filter(current_user)))
    if case is None:
        abort(404)
    return case


def _visible_document_or_404(document_id: int) -> Document:
    document = db.session.scalar(
        select(Document).where(Document.id == document_id, document_filter(current_user))
    )
    if document is None:
        abort(404)
    return document


def may_upload(case: Case) -> bool:
    return can(current_user, "document.upload") and can_edit_case(current_user, case)


def may_delete(document: Document) -> bool:
    if document.case is None:
        return bool(current_user.is_authenticated and document.uploaded_by_id == current_user.id)
    return may_upload(document.case)


@bp.app_template_global()
def case_documents(case: Case) -> list[Document]:
    """The case's documents this user may see, newest first (for the case page partial)."""
    return visible_case_documents(current_user, case)


@bp.app_template_global()
def document_upload_form(case: Case) -> DocumentUploadForm | None:
    """An empty upload form for the case page, or None if the user may not upload."""
    if not may_upload(case):
        return None
    return DocumentUploadForm(case=case, formdata=None)


@bp.app_template_global()
def can_upload_documents(case: Case) -> bool:
    return may_upload(case)


@bp.app_template_global()
def format_file_size(size: int) -> str:
    if size < 1024:
        return _("%(n)s bytes", n=format_decimal(size))
    if size < 1024 * 1024:
        return _("%(n)s KB", n=format_decimal(round(size / 1024, 1)))
    return _("%(n)s MB", n=format_decimal(round(size / (1024 * 1024), 1)))


@bp.app_template_global()
def max_upload_mb() -> int:
    return current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {
        "kind_labels": KIND_LABELS,
        "confidentiality_labels": CONFIDENTIALITY_LABELS,
        "case_level_names": LEVEL_NAMES,
        "language_label": language_label,
    }


@bp.app_context_processor
def _document_labels() -> dict[str, Any]:
    # The case page renders the partial outside this blueprint.
    return {"document_kind_labels": KIND_LABELS, "document_language_label": language_label}


# --- Views ---------------------------------------------------------------------------------


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_exc):
    case_id = (request.view_args or {}).get("case_id")
    return render_template("documents/too_large.html", case_id=case_id), 413


@bp.route("/cases/<int:case_id>/upload", methods=["GET", "POST"])
def upload(case_id: int):
    case = _visible_case_or_404(case_id)
    if not may_upload(case):
        abort(403)
    form = DocumentUploadForm(case=case)
    if form.validate_on_submit():
        try:
            document = create_document(
                case=case,
                file=form.file.data,
                kind=form.kind.data,
                language=form.language.data,
                title=form.title.data or "",
                confidentiality=form.confidentiality.data,
                user=current_user,
            )
        except UploadRejected as exc:
            db.session.rollback()
            form.file.errors = [*form.file.errors, str(exc.message)]
        except DocumentTooOpen:
            db.session.rollback()
            form.confidentiality.errors = [_("A document cannot be less restricted than its case.")]
        else:
            db.session.commit()
            if document.note:
                flash(_("Document uploaded. Note: %(note)s", note=document.note), "warning")
            else:
                flash(_("Document “%(title)s” uploaded.", title=document.title), "success")
            return redirect(url_for("cases.detail", case_id=case.id) + "#documents")
    elif form.is_submitted() and form.file.data and not form.file.errors:
        # Report a bad file together with the other fields' errors, not one round later.
        try:
            check_file(form.file.data)
        except UploadRejected as exc:
            form.file.errors = [*form.file.errors, str(exc.message)]
    status = 400 if request.method == "POST" else 200
    return render_template("documents/upload.html", form=form, case=case), status


@bp.get("/<int:document_id>")
def detail(document_id: int):
    document = _visible_document_or_404(document_id)
    return render_template(
        "documents/detail.html",
        document=document,
        may_delete=may_delete(document),
        excerpt=(document.extracted_text or "")[:3000],
    )


def _content_disposition(filename: str) -> str:
    """attachment with an ASCII fallback and the exact UTF-8 name (RFC 6266 / RFC 5987)."""
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    ascii_name = "".join(c if c.isalnum() or c in "._- ()" else "_" for c in ascii_name)
    ascii_name = ascii_name.strip(" .") or "document"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


@bp.get("/<int:document_id>/download")
def download(document_id: int):
    document = _visible_document_or_404(document_id)
    if not can(current_user, "document.download"):
        abort(404)
    path = file_path(document.sha256)
    if not path.is_file():
        current_app.logger.error("stored file missing for document %s", document.id)
        abort(404)
    response = send_file(
        path,
        mimetype=document.content_type,
        as_attachment=True,
        download_name=document.filename,
        conditional=True,
        etag=document.sha256,
    )
    response.headers["Content-Type"] = document.content_type  # as stored, no added charset
    response.headers["Content-Disposition"] = _content_disposition(document.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    return response


@bp.route("/<int:document_id>/delete", methods=["GET", "POST"])
def delete(document_id: int):
    document = _visible_document_or_404(document_id)
    if not may_delete(document):
        abort(403)
    back = (
        url_for("cases.detail", case_id=document.case_id) + "#documents"
        if document.case_id
        else url_for("main.index")
    )
    if request.method == "POST":
        title = document.title
        sha256 = delete_document(document=document, user=current_user)
        db.session.commit()
        discard_file_if_unused(sha256)
        flash(_("Document “%(title)s” deleted.", title=title), "success")
        return redirect(back)
    return render_template("documents/delete.html", document=document, back=back)
