"""Views of the reports area: the network report (HTML and PDF), exports and the CSV import.

Thin: parse the filters and audience, call exports/services/importer, render or stream.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flask import (
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField

from tracker.access import can
from tracker.cases.filters import CaseFilters, FilterError, parse_filters
from tracker.cases.forms import OUTCOME_LABELS, STATUS_LABELS
from tracker.extensions import db
from tracker.reports import bp
from tracker.reports.columns import AUDIENCES
from tracker.reports.exports import FORMATS, KINDS, Export
from tracker.reports.importer import ImportNotAllowed, import_cases
from tracker.reports.services import Period, PeriodOutsideFilters, build_report
from tracker.types import Confidentiality

AUDIENCE_LABELS = {
    Confidentiality.PUBLIC: _l("Public: anyone (public records only)"),
    Confidentiality.NETWORK: _l("Network: all members (public and network records)"),
    Confidentiality.ORGANISATION: _l(
        "My organisation (adds my organisation's records; never restricted ones)"
    ),
}
MIME = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class ImportForm(FlaskForm):
    cases_file = FileField(_l("Cases file (CSV)"), validators=[FileRequired()])
    proceedings_file = FileField(_l("Proceedings file (CSV, optional)"))
    dry_run = BooleanField(_l("Dry run: check and show what would change, write nothing"))


def _require(action: str) -> None:
    if not can(current_user, action):
        abort(403)


def _audience(errors: dict[str, str]) -> Confidentiality:
    raw = request.args.get("audience", Confidentiality.NETWORK.value)
    try:
        audience = Confidentiality(raw)
    except ValueError:
        audience = None
    if audience not in AUDIENCES:
        errors["audience"] = _("Choose public, network or organisation.")
        return Confidentiality.NETWORK
    return audience


def _period(errors: dict[str, str]) -> Period:
    out = Period()
    for name in ("period_from", "period_to"):
        raw = (request.args.get(name) or "").strip()
        if raw:
            try:
                setattr(out, "start" if name == "period_from" else "end", date.fromisoformat(raw))
            except ValueError:
                errors[name] = _("Use a date like 2024-03-31.")
    if out.start and out.end and out.start > out.end:
        errors["period_to"] = _("The end date is before the start date.")
    return out


def _parse() -> tuple[CaseFilters, Confidentiality, Period, dict[str, str]]:
    errors: dict[str, str] = {}
    try:
        filters = parse_filters(request.args)
    except FilterError as exc:
        errors.update(exc.errors)
        filters = CaseFilters()
    audience = _audience(errors)
    period = _period(errors)
    if not errors:
        try:
            period.apply(filters)
        except PeriodOutsideFilters:
            errors["period_from"] = _("The period has no day in common with the filed dates.")
    return filters, audience, period, errors


def _choices():
    """The form's fixed lists (rights, jurisdictions and forums are chosen with pickers)."""
    return {
        "statuses": list(STATUS_LABELS.items()),
        "outcomes": list(OUTCOME_LABELS.items()),
        "audiences": [(a.value, AUDIENCE_LABELS[a]) for a in AUDIENCES],
    }


# The download buttons of the report form: each submits the form's current state here.
DOWNLOADS = {
    "pdf": ("reports.pdf", {}),
    "cases.csv": ("reports.export", {"format": "csv", "kind": "cases"}),
    "proceedings.csv": ("reports.export", {"format": "csv", "kind": "proceedings"}),
    "xlsx": ("reports.export", {"format": "xlsx"}),
    "json": ("reports.export", {"format": "json"}),
}


def _render_index(report, errors: dict[str, str], audience: Confidentiality):
    return (
        render_template(
            "reports/index.html",
            report=report,
            errors=errors,
            choices=_choices(),
            args=request.args,
            audience=audience,
            audience_label=AUDIENCE_LABELS[audience],
            downloads=DOWNLOADS,
            today=date.today(),
        ),
        400 if errors else 200,
    )


@bp.route("/")
def index():
    _require("report.export")
    filters, audience, period, errors = _parse()
    report = None
    if not errors:
        report = build_report(user=current_user, audience=audience, filters=filters, period=period)
    return _render_index(report, errors, audience)


@bp.route("/download")
def download():
    """Where the form's download buttons go: on to the PDF or the export, with the form's
    filters, period and audience as they are on screen (submitted or not)."""
    _require("report.export")
    choice = DOWNLOADS.get(request.args.get("download", ""))
    if choice is None:
        abort(400)
    endpoint, extra = choice
    args = MultiDict(request.args)
    args.pop("download", None)
    for key in ("format", "kind"):
        args.pop(key, None)
    for key, value in extra.items():
        args[key] = value
    # Empty form fields (an "Any" select, a blank date) carry nothing.
    params = {k: [v for v in vs if v] for k, vs in args.to_dict(flat=False).items()}
    return redirect(url_for(endpoint, **{k: v for k, v in params.items() if v}))


# The PDF's base URL: a reserved name (.invalid) that our fetcher maps onto static/.
STATIC_BASE = "https://static.tracker.invalid/"


def static_fetcher():
    """A WeasyPrint URL fetcher that serves our static files and nothing else.

    WeasyPrint must never reach the network or the file system while rendering a report
    (a case title could carry a URL): every other URL is refused.
    """
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    static = Path(current_app.static_folder).resolve()

    class StaticOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if not url.startswith(STATIC_BASE):
                raise ValueError(f"refused to fetch {url!r}")
            path = (static / url[len(STATIC_BASE) :].split("?")[0]).resolve()
            if static not in path.parents or not path.is_file():
                raise ValueError(f"refused to fetch {url!r}")
            mime = {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}.get(
                path.suffix, "application/octet-stream"
            )
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})

    return StaticOnlyFetcher(allowed_protocols=["https"])


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, base_url=STATIC_BASE, url_fetcher=static_fetcher()).write_pdf()


@bp.route("/report.pdf")
def pdf():
    _require("report.export")
    filters, audience, period, errors = _parse()
    if errors:
        abort(400)
    report = build_report(user=current_user, audience=audience, filters=filters, period=period)
    html = render_template(
        "reports/report_pdf.html",
        report=report,
        pdf=True,
        audience_label=AUDIENCE_LABELS[audience],
        today=date.today(),
    )
    name = f"report-{audience.value}-{date.today().isoformat()}.pdf"
    return Response(
        render_pdf(html),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/export")
def export():
    _require("report.export")
    filters, audience, period, errors = _parse()
    fmt = request.args.get("format", "csv")
    kind = request.args.get("kind", "cases")
    if fmt not in FORMATS:
        errors["format"] = _("Choose csv, xlsx or json.")
    if kind not in KINDS:
        errors["kind"] = _("Choose cases or proceedings.")
    if errors:
        return _render_index(None, errors, audience)
    # The period narrows the export as it narrows the report (proceedings filed in it).
    job = Export(
        user=current_user._get_current_object(),
        audience=audience,
        filters=period.apply(filters),
        kind=kind,
    )
    too_large = job.xlsx_too_large() if fmt == "xlsx" else None
    if too_large:
        # Refused before the first byte: a download that broke off near its end would cost
        # minutes and leave a file Excel cannot open.
        errors["format"] = _(
            "These choices give a sheet of %(rows)s rows; a downloaded workbook holds at most "
            "%(bound)s a sheet. Narrow the choices, download CSV, or ask an administrator for "
            "“tracker export cases --format xlsx”, which has no such bound.",
            rows=format_decimal(too_large[0]),
            bound=format_decimal(too_large[1]),
        )
        return _render_index(None, errors, audience)
    headers = {"Content-Disposition": f'attachment; filename="{job.filename(fmt)}"'}
    if fmt == "xlsx":
        body = stream_with_context(job.xlsx_chunks())
    else:
        chunks = job.csv_chunks() if fmt == "csv" else job.json_chunks()
        body = stream_with_context(chunk.encode("utf-8") for chunk in chunks)
    return Response(body, mimetype=MIME[fmt], headers=headers)


@bp.route("/import", methods=["GET", "POST"])
def import_view():
    _require("import.cases")
    form = ImportForm()
    result = None
    if form.validate_on_submit():
        cases_data = form.cases_file.data.read()
        procs = form.proceedings_file.data
        procs_data = procs.read() if procs and getattr(procs, "filename", "") else None
        try:
            result = import_cases(
                actor=current_user._get_current_object(),
                cases_data=cases_data,
                proceedings_data=procs_data,
                dry_run=form.dry_run.data,
            )
        except ImportNotAllowed:
            abort(403)
        if result.ok and not result.dry_run:
            db.session.commit()
        else:
            db.session.rollback()
    status = 400 if (form.errors or (result is not None and not result.ok)) else 200
    return (
        render_template("reports/import.html", form=form, result=result),
        status,
    )
