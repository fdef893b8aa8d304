"""Who may see and do what. Every read of cases goes through case_filter(); roles through can().

Confidentiality (DESIGN.md): public and network records are seen by every signed-in member;
organisation records by the lead and partner organisations (and named team members);
restricted records by the named case team only. No role bypasses this, admins included:
administering the deployment is not a reason to read restricted litigation strategy.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, select

from tracker.cases.models import Case, CaseMember, case_partners
from tracker.types import Confidentiality, Role

C = Confidentiality

# The levels each export audience may receive, whoever exports.
AUDIENCE_LEVELS: dict[Confidentiality, tuple[Confidentiality, ...]] = {
    C.PUBLIC: (C.PUBLIC,),
    C.NETWORK: (C.PUBLIC, C.NETWORK),
    C.ORGANISATION: (C.PUBLIC, C.NETWORK, C.ORGANISATION),
    C.RESTRICTED: (C.PUBLIC, C.NETWORK, C.ORGANISATION, C.RESTRICTED),
}

_ROLE_RANK = {Role.VIEWER: 0, Role.LITIGATOR: 1, Role.COORDINATOR: 2, Role.ADMIN: 3}

# The role x action table: the lowest role allowed to take each action. Record-level rules
# (is this user on the case's organisation or team?) come on top, in can_edit_case().
ACTIONS: dict[str, Role] = {
    "case.view": Role.VIEWER,
    "case.create": Role.LITIGATOR,
    "case.edit": Role.LITIGATOR,
    "case.delete": Role.LITIGATOR,
    "document.upload": Role.LITIGATOR,
    "document.download": Role.VIEWER,
    "pleading.view": Role.VIEWER,
    "pleading.create": Role.LITIGATOR,
    "pleading.endorse": Role.COORDINATOR,
    "patterns.view": Role.VIEWER,
    "opportunity.manage": Role.COORDINATOR,
    "report.export": Role.VIEWER,
    "import.cases": Role.LITIGATOR,
    "api.token": Role.VIEWER,
    "admin.users": Role.ADMIN,
    "admin.organisations": Role.ADMIN,
    "admin.audit": Role.ADMIN,
    "admin.reference": Role.ADMIN,
}


def can(user: Any, action: str) -> bool:
    """Whether the user's role allows the action at all (deny unknown actions and users)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    minimum = ACTIONS.get(action)
    if minimum is None:
        return False
    return _ROLE_RANK[user.role] >= _ROLE_RANK[minimum]


# Uncorrelated IN over the user's own (small) sets of team and partner cases: the planners
# evaluate each once, where a correlated EXISTS was run per candidate row (or planned badly
# when the visible set is itself used as a subquery, as the list's facets do).
def _is_team(user: Any) -> ColumnElement[bool]:
    return Case.id.in_(select(CaseMember.case_id).where(CaseMember.user_id == user.id))


def _is_organisation(user: Any) -> ColumnElement[bool]:
    partner = Case.id.in_(
        select(case_partners.c.case_id).where(
            case_partners.c.organisation_id == user.organisation_id
        )
    )
    return or_(Case.lead_organisation_id == user.organisation_id, partner)


OPEN_LEVELS = (C.PUBLIC, C.NETWORK)  # seen by every signed-in member


def case_filter(
    user: Any, audience: Confidentiality | None = None, *, open_levels: bool = True
) -> ColumnElement[bool]:
    """The WHERE clause every query over cases uses: what this user (for this audience) may see.

    With an audience, the result is what that audience may receive, intersected with what the
    user may see: an export for the network never carries organisation or restricted records.
    open_levels=False: only the organisation and restricted cases the user may see (for
    counts that take the public and network ones from totals shared by every member).
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return false()
    allowed = AUDIENCE_LEVELS[audience or C.RESTRICTED]
    clauses: list[ColumnElement[bool]] = []
    open_levels = [lvl for lvl in OPEN_LEVELS if lvl in allowed] if open_levels else []
    if open_levels:
        clauses.append(Case.confidentiality.in_(open_levels))
    if C.ORGANISATION in allowed:
        # A team member from another organisation may see that organisation's case, but an
        # export for *their* organisation may not carry it: the audience decides, not the user.
        own = _is_organisation(user)
        clauses.append(
            and_(
                Case.confidentiality == C.ORGANISATION,
                own if audience == C.ORGANISATION else or_(own, _is_team(user)),
            )
        )
    if C.RESTRICTED in allowed:
        clauses.append(and_(Case.confidentiality == C.RESTRICTED, _is_team(user)))
    return or_(*clauses) if clauses else false()


def pleading_filter(user: Any) -> ColumnElement[bool]:
    """The WHERE clause every query over model pleadings uses (library, suggestions, counts).

    public / network: every member; organisation: members of the pleading's organisation;
    restricted: the person who uploaded it only (a library item has no case team).
    """
    from tracker.pleadings.models import ModelPleading

    if user is None or not getattr(user, "is_authenticated", False):
        return false()
    level = ModelPleading.confidentiality
    return or_(
        level.in_((C.PUBLIC, C.NETWORK)),
        and_(level == C.ORGANISATION, ModelPleading.organisation_id == user.organisation_id),
        and_(level == C.RESTRICTED, ModelPleading.created_by_id == user.id),
    )


def visible_case_ids(user: Any, audience: Confidentiality | None = None):
    """A subquery of the ids of visible cases, for joining from child tables."""
    return select(Case.id).where(case_filter(user, audience))


def is_team_member(user: Any, case: Case) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return any(member.user_id == user.id for member in case.team)


def can_see_case(user: Any, case: Case) -> bool:
    """In-Python twin of case_filter() for a loaded case (tests prove they agree)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    level = case.confidentiality
    if level in (C.PUBLIC, C.NETWORK):
        return True
    team = is_team_member(user, case)
    if level == C.RESTRICTED:
        return team
    in_org = case.lead_organisation_id == user.organisation_id or any(
        org.id == user.organisation_id for org in case.partners
    )
    return in_org or team


def can_edit_case(user: Any, case: Case) -> bool:
    """Litigators and coordinators edit the cases of their organisation or team."""
    if not can(user, "case.edit") or not can_see_case(user, case):
        return False
    in_org = case.lead_organisation_id == user.organisation_id or any(
        org.id == user.organisation_id for org in case.partners
    )
    return in_org or is_team_member(user, case)


def can_see_parties(user: Any, case: Case) -> bool:
    """Identifying details of parties are visible only to the case team."""
    return is_team_member(user, case)


# --- Documents ------------------------------------------------------------------------------
# A document is never less restricted than what it is attached to: it is visible when its case
# is visible (case_filter) AND its own level allows it for that case (organisation: the case's
# organisations or team; restricted: the case team). Library documents (no case) follow their
# model pleading (pleading_filter) and their own level read the same way: organisation = the
# pleading's organisation, restricted = the person who added the pleading.


def _case_level_allows(level: Any, user: Any) -> ColumnElement[bool]:
    """Within a query over Case: whether a record of this level on the case is visible."""
    return or_(
        level.in_((C.PUBLIC, C.NETWORK)),
        and_(level == C.ORGANISATION, or_(_is_organisation(user), _is_team(user))),
        and_(level == C.RESTRICTED, _is_team(user)),
    )


def document_filter(user: Any, audience: Confidentiality | None = None) -> ColumnElement[bool]:
    """The WHERE clause every query over documents uses (twin of case_filter for Document)."""
    from tracker.documents.models import Document
    from tracker.pleadings.models import ModelPleading

    if user is None or not getattr(user, "is_authenticated", False):
        return false()
    allowed = AUDIENCE_LEVELS[audience or C.RESTRICTED]
    on_case = exists(
        select(Case.id).where(
            Case.id == Document.case_id,
            case_filter(user, audience),
            _case_level_allows(Document.confidentiality, user),
        )
    ).correlate_except(Case)

    def _library_level(level: Any, owner: Any) -> ColumnElement[bool]:
        return or_(
            level.in_((C.PUBLIC, C.NETWORK)),
            and_(level == C.ORGANISATION, ModelPleading.organisation_id == user.organisation_id),
            and_(level == C.RESTRICTED, owner == user.id),
        )

    in_library = and_(
        Document.case_id.is_(None),
        exists(
            select(ModelPleading.id).where(
                ModelPleading.id == Document.pleading_id,
                ModelPleading.confidentiality.in_(allowed),
                pleading_filter(user),
                _library_level(Document.confidentiality, ModelPleading.created_by_id),
            )
        ).correlate_except(ModelPleading),
    )
    return and_(Document.confidentiality.in_(allowed), or_(on_case, in_library))


def can_see_document(user: Any, document: Any) -> bool:
    """In-Python twin of document_filter() for a loaded document (tests prove they agree)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    level = document.confidentiality
    if document.case_id is not None:
        case = document.case
        if not can_see_case(user, case):
            return False
        if level in (C.PUBLIC, C.NETWORK):
            return True
        team = is_team_member(user, case)
        if level == C.RESTRICTED:
            return team
        in_org = case.lead_organisation_id == user.organisation_id or any(
            org.id == user.organisation_id for org in case.partners
        )
        return in_org or team
    from tracker.extensions import db
    from tracker.pleadings.models import ModelPleading

    pleading = db.session.get(ModelPleading, document.pleading_id)
    if pleading is None:
        return False

    def _allows(lvl: Confidentiality, owner_id: int | None) -> bool:
        if lvl in (C.PUBLIC, C.NETWORK):
            return True
        if lvl == C.ORGANISATION:
            return pleading.organisation_id == user.organisation_id
        return owner_id is not None and owner_id == user.id

    return _allows(pleading.confidentiality, pleading.created_by_id) and _allows(
        level, pleading.created_by_id
    )
