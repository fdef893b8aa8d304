"""The JSON API: cases (list, read, create, update), taxonomy, patterns, OpenAPI document.

Every case query goes through case_filter(current_user) for the token's owner; a case they
may not see is a 404. Bodies are validated by the pydantic models in schemas.py; writes go
through the cases area's services (the same validation, permissions and audit as the forms).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import current_app, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from tracker.access import can, can_see_parties, case_filter
from tracker.api import bp
from tracker.api import schemas as s
from tracker.api.auth import ApiError
from tracker.api.registry import FILTER_PARAMETERS, PAGE_PARAMETERS, api_route, openapi_document
from tracker.cases.filters import FilterError, apply_filters, parse_filters
from tracker.cases.models import Case, Proceeding, ProceedingTreatment
from tracker.extensions import db
from tracker.taxonomy.models import Forum, Jurisdiction, Provision, Right

MAX_BODY = 1024 * 1024
DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100


# --- helpers ------------------------------------------------------------------------------
def _int_arg(name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or len(raw) > 9:
        raise ApiError(400, _("Invalid parameter."), fields={name: _("Use a whole number.")})
    value = int(raw)
    if value < minimum or (maximum is not None and value > maximum):
        raise ApiError(
            400,
            _("Invalid parameter."),
            fields={name: _("Use a number from %(a)d to %(b)s.", a=minimum, b=maximum or "…")},
        )
    return value


def _filters():
    try:
        return parse_filters(request.args)
    except FilterError as exc:
        raise ApiError(400, _("Invalid filter."), fields=exc.errors) from exc


def _encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def _decode_cursor(raw: str) -> int:
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
        prefix, _sep, value = text.partition(":")
        if prefix != "id" or not value.isdigit() or len(value) > 12:
            raise ValueError
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ApiError(
            400, _("Invalid parameter."), fields={"cursor": _("Use the `next` link as given.")}
        ) from exc


def _next_url(**changes: Any) -> str:
    args = MultiDict(request.args)
    for key, value in changes.items():
        args.pop(key, None)
        if value is not None:
            args[key] = str(value)
    return url_for(
        request.endpoint, _external=True, **request.view_args, **args.to_dict(flat=False)
    )


def _json_body(model: type[BaseModel]) -> BaseModel:
    if not request.mimetype == "application/json":
        raise ApiError(415, _("Send the body as application/json."))
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError(413, _("The request body is too large (1 MB at most)."))
    data = request.get_data(cache=True)
    if len(data) > MAX_BODY:
        raise ApiError(413, _("The request body is too large (1 MB at most)."))
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiError(400, _("The body must be a JSON object."))
    if "\x00" in data.decode("utf-8", "replace") or "\\u0000" in data.decode("utf-8", "replace"):
        # PostgreSQL text cannot hold NUL; refuse it as bad input rather than fail later.
        raise ApiError(400, _("The body contains a NUL character, which is not allowed."))
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        fields: dict[str, str] = {}
        for err in exc.errors(include_url=False, include_input=False):
            loc = ".".join(str(p) for p in err["loc"]) or "body"
            fields.setdefault(loc, err["msg"])
        raise ApiError(400, _("Invalid request body."), fields=fields) from exc


def _case_options():
    return (
        selectinload(Case.jurisdiction),
        selectinload(Case.lead_organisation),
        selectinload(Case.partners),
        selectinload(Case.rights),
        selectinload(Case.provisions),
        selectinload(Case.parties),
        selectinload(Case.team),
        selectinload(Case.proceedings).selectinload(Proceeding.forum),
        selectinload(Case.proceedings)
        .selectinload(Proceeding.treatments)
        .selectinload(ProceedingTreatment.provision),
        selectinload(Case.proceedings)
        .selectinload(Proceeding.treatments)
        .selectinload(ProceedingTreatment.right),
    )


def case_json(case: Case) -> dict[str, Any]:
    base = current_app.config["TRACKER_BASE_URL"]
    show_parties = can_see_parties(current_user, case)
    out = s.CaseOut(
        id=case.id,
        url=f"{base}/cases/{case.id}",
        reference=case.reference,
        title=case.title,
        case_type=case.case_type,
        confidentiality=case.confidentiality,
        status=case.status,
        outcome=case.outcome,
        jurisdiction=s.CodeLabel(code=case.jurisdiction.code, label=case.jurisdiction.name),
        lead_organisation=s.OrganisationRef(
            id=case.lead_organisation.id, name=case.lead_organisation.name
        ),
        partners=[s.OrganisationRef(id=o.id, name=o.name) for o in case.partners],
        rights=sorted(
            (s.CodeLabel(code=r.code, label=r.name) for r in case.rights), key=lambda c: c.code
        ),
        provisions=sorted(
            (s.CodeLabel(code=p.code, label=p.title) for p in case.provisions),
            key=lambda c: c.code,
        ),
        opened_on=case.opened_on,
        summary=case.summary,
        strategic_aim=case.strategic_aim,
        arguments=case.arguments,
        version=case.version,
        updated_at=case.updated_at,
        proceedings=[
            s.ProceedingOut(
                id=p.id,
                position=p.position,
                forum=s.CodeLabel(code=p.forum.code, label=p.forum.name),
                reference=p.reference,
                filed_on=p.filed_on,
                decided_on=p.decided_on,
                status=p.status,
                outcome=p.outcome,
                ecli=p.ecli,
                treatments=[
                    s.Treatment(
                        code=t.provision.code if t.provision else t.right.code,
                        kind="provision" if t.provision else "right",
                        treatment=t.treatment.value,
                    )
                    for t in p.treatments
                ],
            )
            for p in case.proceedings
        ],
        parties=[
            s.PartyOut(
                role=p.role,
                pseudonym=p.pseudonym,
                full_name=p.full_name if show_parties else None,
            )
            for p in case.parties
        ],
    )
    return out.model_dump(mode="json")


def _visible_case(case_id: int) -> Case:
    case = db.session.scalar(
        select(Case).where(Case.id == case_id, case_filter(current_user)).options(*_case_options())
    )
    if case is None:
        raise ApiError(404, _("There is no such case, or you may not see it."))
    return case


# --- cases --------------------------------------------------------------------------------
@api_route(
    "/cases",
    "GET",
    summary="List the cases you may see, filtered; cursor or page pagination.",
    response=s.CaseList,
    parameters=FILTER_PARAMETERS + PAGE_PARAMETERS,
    errors=(400, 403),
)
def cases_index():
    filters = _filters()
    per_page = _int_arg("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    base = apply_filters(select(Case.id).where(case_filter(current_user)), filters)
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    stmt = apply_filters(select(Case).where(case_filter(current_user)), filters)
    if "page" in request.args:
        page = _int_arg("page", 1, 1, 10**6)
        stmt = stmt.order_by(Case.id).offset((page - 1) * per_page).limit(per_page + 1)
        cases = db.session.scalars(stmt.options(*_case_options())).all()
        more = len(cases) > per_page
        next_url = _next_url(page=page + 1, cursor=None) if more else None
    else:
        after = _decode_cursor(request.args["cursor"]) if request.args.get("cursor") else 0
        stmt = stmt.where(Case.id > after).order_by(Case.id).limit(per_page + 1)
        cases = db.session.scalars(stmt.options(*_case_options())).all()
        more = len(cases) > per_page
        next_url = _next_url(cursor=_encode_cursor(cases[per_page - 1].id)) if more else None
    return jsonify(data=[case_json(c) for c in cases[:per_page]], next=next_url, total=total)


@api_route(
    "/cases/<int(max=2147483647):case_id>",
    "GET",
    summary="One case, with its proceedings.",
    response=s.CaseOut,
    errors=(404,),
)
def cases_detail(case_id: int):
    return jsonify(case_json(_visible_case(case_id)))


def _service_error(exc) -> ApiError:
    from tracker.cases.services import StaleCase

    if isinstance(exc, StaleCase):
        return ApiError(
            409,
            _("The case changed since you read it: read it again and resend your change."),
            current_version=exc.case.version,
        )
    fields = {k or "body": str(v) for k, v in exc.errors.items()}
    status = getattr(exc, "status", 400)
    return ApiError(
        status,
        "; ".join(fields.values()) if status != 400 else _("Invalid request body."),
        fields=fields,
    )


def _service_data(payload: BaseModel, exclude: set[str] = frozenset()) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=True, exclude=exclude)
    for key, value in list(data.items()):
        if hasattr(value, "value"):
            data[key] = value.value
    return data


@api_route(
    "/cases",
    "POST",
    summary="Create a case (read-write token).",
    response=s.CaseOut,
    status=201,
    body=s.CaseCreate,
    errors=(400, 403, 413, 415),
)
def cases_create():
    from tracker.cases.services import CaseError, create_case

    payload = _json_body(s.CaseCreate)
    if not can(current_user, "case.create"):
        raise ApiError(403, _("Your role does not allow creating cases."))
    data = _service_data(payload)
    data.setdefault("confidentiality", payload.confidentiality.value)
    data.setdefault("status", payload.status.value)
    data.setdefault("outcome", payload.outcome.value)
    try:
        case = create_case(actor=current_user._get_current_object(), data=data)
        db.session.commit()
    except CaseError as exc:
        db.session.rollback()
        raise _service_error(exc) from exc
    response = jsonify(case_json(_visible_case(case.id)))
    response.status_code = 201
    response.headers["Location"] = url_for("api.cases_detail", case_id=case.id)
    return response


@api_route(
    "/cases/<int(max=2147483647):case_id>",
    "PATCH",
    summary="Change a case (read-write token). Send the `version` you read; 409 if stale.",
    response=s.CaseOut,
    body=s.CaseUpdate,
    errors=(400, 403, 404, 409, 413, 415),
)
def cases_update(case_id: int):
    from tracker.access import can_edit_case
    from tracker.cases.services import CaseError, update_case

    case = _visible_case(case_id)
    payload = _json_body(s.CaseUpdate)
    if not can_edit_case(current_user, case):
        raise ApiError(403, _("You cannot change this case."))
    data: dict[str, Any] = {
        "title": case.title,
        "reference": case.reference,
        "case_type": case.case_type.value,
        "summary": case.summary,
        "strategic_aim": case.strategic_aim,
        "arguments": case.arguments,
        "confidentiality": case.confidentiality.value,
        "status": case.status.value,
        "outcome": case.outcome.value,
        "opened_on": case.opened_on,
        "jurisdiction": case.jurisdiction.code,
        "lead_organisation_id": case.lead_organisation_id,
        "partner_ids": [o.id for o in case.partners],
        "rights": [r.code for r in case.rights],
        "provisions": [p.code for p in case.provisions],
        "team_ids": [m.user_id for m in case.team],
    }
    data.update(_service_data(payload, exclude={"version"}))
    try:
        update_case(
            actor=current_user._get_current_object(),
            case=case,
            data=data,
            base_version=payload.version,
        )
        db.session.commit()
    except CaseError as exc:
        db.session.rollback()
        raise _service_error(exc) from exc
    db.session.expire_all()
    return jsonify(case_json(_visible_case(case_id)))


# --- taxonomy -----------------------------------------------------------------------------
@api_route("/taxonomy/rights", "GET", summary="The rights taxonomy.", response=s.RightList)
def taxonomy_rights():
    parent = {r.id: r.code for r in db.session.scalars(select(Right))}
    rows = db.session.scalars(select(Right).order_by(Right.position, Right.code))
    return jsonify(
        data=[{"code": r.code, "name": r.name, "parent": parent.get(r.parent_id)} for r in rows]
    )


@api_route("/taxonomy/provisions", "GET", summary="Treaty provisions.", response=s.ProvisionList)
def taxonomy_provisions():
    rows = db.session.scalars(
        select(Provision)
        .options(selectinload(Provision.instrument), selectinload(Provision.rights))
        .order_by(Provision.instrument_id, Provision.position, Provision.id)
    )
    return jsonify(
        data=[
            {
                "code": p.code,
                "instrument": p.instrument.code,
                "number": p.number,
                "title": p.title,
                "rights": sorted(r.code for r in p.rights),
            }
            for p in rows
        ]
    )


@api_route(
    "/taxonomy/jurisdictions", "GET", summary="States and systems.", response=s.JurisdictionList
)
def taxonomy_jurisdictions():
    rows = db.session.scalars(select(Jurisdiction).order_by(Jurisdiction.code))
    return jsonify(
        data=[{"code": j.code, "iso3": j.iso3, "name": j.name, "kind": j.kind.value} for j in rows]
    )


@api_route("/taxonomy/forums", "GET", summary="Courts and bodies.", response=s.ForumList)
def taxonomy_forums():
    rows = db.session.scalars(
        select(Forum).options(selectinload(Forum.jurisdiction)).order_by(Forum.code)
    )
    return jsonify(
        data=[
            {
                "code": f.code,
                "name": f.name,
                "jurisdiction": f.jurisdiction.code,
                "level": f.level.value,
            }
            for f in rows
        ]
    )


# --- patterns -----------------------------------------------------------------------------
@api_route(
    "/patterns/matrix",
    "GET",
    summary="Rights x jurisdictions (or forums, systems): cases, decided, wins per cell.",
    response=s.Matrix,
    parameters=[
        *FILTER_PARAMETERS,
        {
            "name": "dimension",
            "schema": {"type": "string", "enum": ["jurisdiction", "forum", "system"]},
        },
    ],
    errors=(400,),
)
def patterns_matrix():
    filters = _filters()
    try:
        from tracker.patterns.queries import DIMENSIONS, rights_matrix
    except ImportError as exc:  # pragma: no cover - the patterns area has not landed
        raise ApiError(501, _("Patterns are not available in this installation.")) from exc
    dimension = request.args.get("dimension", "jurisdiction")
    if dimension not in DIMENSIONS:
        raise ApiError(
            400,
            _("Invalid parameter."),
            fields={"dimension": _("Use one of: %(v)s.", v=", ".join(DIMENSIONS))},
        )
    matrix = rights_matrix(current_user, filters, dimension)
    rows = {r.right_id: r for r in matrix.rows}
    columns = {c.key: c for c in matrix.columns}
    return jsonify(
        dimension=matrix.dimension,
        rows=[{"code": r.code, "label": r.label} for r in matrix.rows],
        columns=[{"code": c.code, "label": c.label} for c in matrix.columns],
        cells=[
            {
                "right": rows[rid].code,
                "column": columns[key].code,
                "cases": cell.cases,
                "decided": cell.decided,
                "wins": cell.wins,
            }
            for (rid, key), cell in matrix.cells.items()
            if rid in rows and key in columns
        ],
    )


def _patterns_queries():
    try:
        from tracker.patterns import queries
    except ImportError as exc:  # pragma: no cover - the patterns area has not landed
        raise ApiError(501, _("Patterns are not available in this installation.")) from exc
    return queries


@api_route(
    "/patterns/time-series",
    "GET",
    summary="Per year of filing: cases filed, won and lost (the patterns page's chart).",
    response=s.TimeSeries,
    parameters=FILTER_PARAMETERS,
    errors=(400,),
)
def patterns_time_series():
    filters = _filters()
    points = _patterns_queries().time_series(current_user, filters)
    return jsonify(
        data=[
            {"year": p.year, "filed": p.filed, "wins": p.wins, "losses": p.losses} for p in points
        ]
    )


@api_route(
    "/patterns/map",
    "GET",
    summary="Cases and cases won per jurisdiction, with its approximate centre.",
    response=s.WorldMap,
    parameters=FILTER_PARAMETERS,
    errors=(400,),
)
def patterns_map():
    filters = _filters()
    points = _patterns_queries().world_map(current_user, filters)
    return jsonify(
        data=[
            {
                "jurisdiction": p.code,
                "name": p.name,
                "cases": p.cases,
                "wins": p.wins,
                "lat": p.lat,
                "lon": p.lon,
            }
            for p in points
        ]
    )


@api_route(
    "/patterns/provisions-by-forum",
    "GET",
    summary="Per provision and forum: cases whose proceeding upheld, rejected or did not "
    "reach the provision.",
    response=s.ProvisionsByForum,
    parameters=FILTER_PARAMETERS,
    errors=(400,),
)
def patterns_provisions_by_forum():
    filters = _filters()
    table = _patterns_queries().provision_forum(current_user, filters)
    provisions = {pid: code for pid, code, _title in table.provisions}
    forums = {fid: code for fid, code, _name in table.forums}
    return jsonify(
        provisions=[{"code": code, "label": title} for _pid, code, title in table.provisions],
        forums=[{"code": code, "label": name} for _fid, code, name in table.forums],
        cells=[
            {
                "provision": provisions[pid],
                "forum": forums[fid],
                **{
                    value: counts.get(value, (0, None))[0]
                    for value in ("upheld", "rejected", "not_reached")
                },
            }
            for (pid, fid), counts in sorted(
                table.cells.items(), key=lambda kv: (provisions[kv[0][0]], forums[kv[0][1]])
            )
        ],
    )


@api_route(
    "/opportunities",
    "GET",
    summary="Open knock-on opportunities from wins you may see, best first.",
    response=s.OpportunityList,
    parameters=[
        {
            "name": "right",
            "schema": {"type": "array", "items": {"type": "string", "maxLength": 60}},
            "style": "form",
            "explode": True,
        },
        {
            "name": "jurisdiction",
            "schema": {"type": "array", "items": {"type": "string", "maxLength": 8}},
            "style": "form",
            "explode": True,
        },
        *PAGE_PARAMETERS[1:],
    ],
    errors=(400, 501),
)
def opportunities_index():
    try:
        from tracker.patterns.models import Opportunity
        from tracker.patterns.opportunities import (
            basis_text,
            best_visible_win,
            load_page,
            source_codes,
            visible_opportunities,
        )
    except ImportError as exc:  # pragma: no cover - the patterns area has not landed
        raise ApiError(501, _("Opportunities are not available in this installation.")) from exc
    filters = _filters()
    page = _int_arg("page", 1, 1, 10**6)
    per_page = _int_arg("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    stmt = visible_opportunities(
        current_user,
        right_ids=filters._ids.get("right", ()),
        target_ids=filters._ids.get("jurisdiction", ()),
        columns=(Opportunity.id,),
    )
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    ids = db.session.scalars(stmt.offset((page - 1) * per_page).limit(per_page + 1)).all()
    rows = load_page(list(ids))
    rights = dict(db.session.execute(select(Right.id, Right.code)).tuples().all())
    jurs = dict(db.session.execute(select(Jurisdiction.id, Jurisdiction.code)).tuples().all())
    data = []
    for o in rows[:per_page]:
        if not isinstance(o, Opportunity):
            continue
        basis, source = basis_text(o), o.source_case_id
        if not o.open_wins:  # only organisation/restricted wins: the best this user may see
            best = best_visible_win(current_user, o)
            basis, source = (basis_text(best.basis), best.case_id) if best else ("", None)
        data.append(
            {
                "id": o.id,
                "right": rights.get(o.right_id, ""),
                "target_jurisdiction": jurs.get(o.target_jurisdiction_id, ""),
                "basis": basis,
                "score": float(o.score or 0),
                "status": o.status.value,
                "source_case_id": source,
                "source_jurisdictions": source_codes(o),
                "wins": o.open_wins,
                "detail_url": url_for("patterns.opportunity", opportunity_id=o.id, _external=True),
            }
        )
    more = len(rows) > per_page
    return jsonify(data=data, next=_next_url(page=page + 1) if more else None, total=total or 0)


# --- the OpenAPI document -----------------------------------------------------------------
@api_route("/openapi.json", "GET", summary="This API's OpenAPI 3.1 document.", response=None)
def openapi():
    return jsonify(openapi_document(current_app.config["TRACKER_BASE_URL"]))


# Unknown URLs and wrong methods under /api/v1 answer JSON too (not the site's HTML pages).
@bp.route("/<path:anything>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(anything: str):
    from werkzeug.exceptions import MethodNotAllowed, NotFound

    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in ("GET", "POST", "PATCH", "PUT", "DELETE"):
        if method == request.method:
            continue
        try:
            endpoint, _args = adapter.match(method=method)
        except (NotFound, MethodNotAllowed):
            continue
        except Exception:  # noqa: S112 - redirects and the like: not a match
            continue
        if endpoint != "api.not_found":
            allowed.append(method)
    if allowed:
        raise ApiError(405, _("This method is not allowed here."), allow=allowed)
    raise ApiError(404, _("There is nothing here."))
