"""Write side of the patterns area: opportunity refresh and actions, watches, notifications.

Services flush, never commit, and write audit entries (CONVENTIONS.md).

Keeping opportunities current (chosen so the list page never computes anything):
* `install_session_hooks()` (called once when the blueprint is set up) records the ids of cases
  whose case, proceedings or treatments were flushed in a transaction; just before that
  transaction commits, `refresh_opportunities(case_ids=...)` runs for them inside a SAVEPOINT,
  so a failure there is logged and never loses the user's edit. So every writer (case forms,
  CSV import, the API) keeps opportunities in step without calling anything.
* The patterns page's facts and totals (tracker/patterns/facts.py) are refreshed by the same
  hook for the same cases (deleted ones included), before the opportunities and outside their
  SAVEPOINT: they must stay exact, so a failure there fails the commit. `defer_opportunities`
  does not defer them. Writers that bypass the session call `cases_changed(ids)`.
* Bulk writers (the demo generator, large imports) may set
  `db.session.info["defer_opportunities"] = True` and run `tracker opportunities refresh` after
  (a full, set-based rebuild: seconds at 100,000 cases). How the refresh works, and who may
  see which opportunity: tracker/patterns/opportunities.py.
* `opportunities_changed(case_id)` does the same refresh explicitly, for callers that want it
  now (e.g. to show the new opportunities in the same request).
* `notify_case_event(case, kind, message)`: for the cases area to call after a decision or a
  win; it notifies users watching the case, its rights, jurisdiction or forums, and who may
  see the case.
"""

from __future__ import annotations

import logging
import smtplib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import delete, event, select, tuple_
from sqlalchemy.orm import Session

from tracker.access import can, can_see_case, case_filter
from tracker.audit.services import record_audit, snapshot
from tracker.auth.models import Organisation, User
from tracker.cases.models import (
    Case,
    CaseLink,
    CaseMember,
    CaseType,
    LinkKind,
    Proceeding,
    ProceedingTreatment,
    Status,
    TeamRole,
    case_provisions,
)
from tracker.extensions import db
from tracker.patterns import facts as pattern_facts
from tracker.patterns import opportunities as opp
from tracker.patterns.models import (
    Notification,
    Opportunity,
    OpportunityStatus,
    Watch,
    WatchKind,
)
from tracker.taxonomy.models import Forum, Jurisdiction, Right, provision_rights
from tracker.types import Confidentiality, utcnow

log = logging.getLogger(__name__)


class OpportunityError(ValueError):
    """A domain error on an opportunity action; .field names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- refresh ---------------------------------------------------------------------------------
def refresh_opportunities(
    case_ids: Iterable[int] | None = None, *, today: date | None = None
) -> dict[str, int]:
    """Bring the opportunities in line with the wins of these cases (all when None).

    With case ids (the before-commit hook, `tracker opportunities refresh --case`): rebuild
    those cases' facts (ids of deleted cases drop theirs) and, when they changed, recompute
    only the (right, target) pairs they touch. Without: a set-based rebuild of everything.
    New opportunities are created open and notified to watchers who may see them; derived
    figures are updated whatever the status; an open row left without a supporting win is
    deleted, while assigned, converted and dismissed rows stay (a dismissed opportunity never
    comes back as open). Flushes.
    """
    if case_ids is None:
        result = opp.refresh_all(today=today)
    else:
        result = opp.refresh_cases(case_ids, today=today)
    _notify_new(result)
    db.session.flush()
    return result.counts()


def opportunities_changed(case_id: int) -> dict[str, int]:
    """Refresh the opportunities that come from this case (call after saving it). Flushes."""
    return refresh_opportunities([case_id])


_DIRTY_KEY = "patterns_dirty_cases"
_DELETED_KEY = "patterns_deleted_cases"


def cases_changed(case_ids: Iterable[int], session: Session | None = None) -> None:
    """For writers that bypass the ORM (Core inserts, updates, deletes of cases, proceedings,
    treatments, tags): the derived data of these cases is brought up to date before the
    transaction commits, as for any edit through the session."""
    session = session or db.session()
    session.info.setdefault(_DIRTY_KEY, set()).update(case_ids)


def _collect_dirty(session: Session, _flush_context) -> None:
    if session.info.get("patterns_refreshing"):
        return
    ids = session.info.setdefault(_DIRTY_KEY, set())
    deleted = session.info.setdefault(_DELETED_KEY, set())
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, Case) and obj.id is not None:
            (deleted if obj in session.deleted else ids).add(obj.id)
        elif isinstance(obj, Proceeding) and obj.case_id is not None:
            ids.add(obj.case_id)
        elif isinstance(obj, ProceedingTreatment):
            proceeding = obj.proceeding
            if proceeding is not None and proceeding.case_id is not None:
                ids.add(proceeding.case_id)


def _after_flush(session: Session, flush_context) -> None:
    # Objects are still in new/dirty/deleted during after_flush.
    _collect_dirty(session, flush_context)


def _before_commit(session: Session) -> None:
    if session.info.get("patterns_refreshing"):
        session.info.pop(_DIRTY_KEY, None)
        session.info.pop(_DELETED_KEY, None)
        return
    if not has_app_context():
        return
    session.flush()
    ids = session.info.pop(_DIRTY_KEY, set())
    deleted = session.info.pop(_DELETED_KEY, set())
    if not ids and not deleted:
        return
    session.info["patterns_refreshing"] = True
    try:
        # The patterns' facts and totals must stay exact: a failure here fails the commit
        # (the edit is rolled back with them) rather than leave a wrong number behind.
        pattern_facts.refresh_cases(ids | deleted)
        if session.info.get("defer_opportunities"):
            return
        try:
            with session.begin_nested():
                # Deleted cases' ids too: their win facts went with them (ON DELETE CASCADE),
                # and the rows they supported must be recomputed or removed.
                refresh_opportunities(ids | deleted)
        except Exception:  # a failed refresh must never lose the user's edit
            log.exception("opportunities refresh failed for cases %s", sorted(ids))
    finally:
        session.info.pop("patterns_refreshing", None)


def _after_rollback(session: Session, previous_transaction) -> None:
    # A savepoint rolled back leaves the outer transaction's changes in place: keep the ids
    # (refreshing a case that did not change after all is harmless).
    if previous_transaction is not None and previous_transaction.nested:
        return
    session.info.pop(_DIRTY_KEY, None)
    session.info.pop(_DELETED_KEY, None)


_hooks_installed = False


def install_session_hooks() -> None:
    """Refresh patterns' derived data and opportunities for changed cases just before each
    commit (see module doc)."""
    global _hooks_installed
    if _hooks_installed:
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_soft_rollback", _after_rollback)
    _hooks_installed = True


# --- opportunity actions ---------------------------------------------------------------------
def _check_manage(user: Any, opportunity: Opportunity) -> None:
    if not can(user, "opportunity.manage"):
        raise PermissionError("opportunity.manage")


def assign_opportunity(
    *,
    user: Any,
    opportunity: Opportunity,
    organisation: Organisation | None = None,
    assignee: User | None = None,
) -> Opportunity:
    _check_manage(user, opportunity)
    if organisation is None and assignee is None:
        raise OpportunityError(_("Choose an organisation or a person."), "organisation")
    if opportunity.status in (OpportunityStatus.CONVERTED,):
        raise OpportunityError(_("This opportunity has already been turned into a case."))
    before = snapshot(opportunity)
    opportunity.assigned_organisation_id = organisation.id if organisation else None
    opportunity.assigned_user_id = assignee.id if assignee else None
    if assignee is not None and organisation is None:
        opportunity.assigned_organisation_id = assignee.organisation_id
    opportunity.status = OpportunityStatus.ASSIGNED
    opportunity.dismissed_reason = None
    opportunity.dismissed_by_id = None
    opportunity.dismissed_at = None
    db.session.flush()
    record_audit(
        action="opportunity.assign",
        entity=opportunity,
        before=before,
        after=snapshot(opportunity),
        user_id=user.id,
    )
    return opportunity


def dismiss_opportunity(*, user: Any, opportunity: Opportunity, reason: str) -> Opportunity:
    _check_manage(user, opportunity)
    reason = (reason or "").strip()
    if not reason:
        raise OpportunityError(_("Give a reason for dismissing it."), "reason")
    if opportunity.status is OpportunityStatus.CONVERTED:
        raise OpportunityError(_("This opportunity has already been turned into a case."))
    before = snapshot(opportunity)
    opportunity.status = OpportunityStatus.DISMISSED
    opportunity.dismissed_reason = reason[:2000]
    opportunity.dismissed_by_id = user.id
    opportunity.dismissed_at = utcnow()
    db.session.flush()
    record_audit(
        action="opportunity.dismiss",
        entity=opportunity,
        before=before,
        after=snapshot(opportunity),
        user_id=user.id,
    )
    return opportunity


def reopen_opportunity(*, user: Any, opportunity: Opportunity) -> Opportunity:
    """Undo a dismissal (the only way a dismissed opportunity becomes open again)."""
    _check_manage(user, opportunity)
    if opportunity.status is not OpportunityStatus.DISMISSED:
        raise OpportunityError(_("Only a dismissed opportunity can be reopened."))
    before = snapshot(opportunity)
    opportunity.status = OpportunityStatus.OPEN
    opportunity.dismissed_reason = None
    opportunity.dismissed_by_id = None
    opportunity.dismissed_at = None
    db.session.flush()
    record_audit(
        action="opportunity.reopen",
        entity=opportunity,
        before=before,
        after=snapshot(opportunity),
        user_id=user.id,
    )
    return opportunity


def convert_opportunity(*, user: Any, opportunity: Opportunity) -> Case:
    """Open a draft case from the opportunity, linked as "replicates" to its best source.

    The best source is the best supporting win the coordinator may see (the top of the
    detail page's list). The draft: status planned, confidentiality organisation,
    jurisdiction T, right R, lead = the assigned organisation or the coordinator's, and the
    coordinator on its team. The title and basis of a source that is not public or network
    are not copied (the draft's organisation may not see it).
    """
    _check_manage(user, opportunity)
    if opportunity.status is OpportunityStatus.CONVERTED and opportunity.created_case_id:
        raise OpportunityError(_("This opportunity has already been turned into a case."))
    best = opp.best_visible_win(user, opportunity)
    source = db.session.get(Case, best.case_id) if best is not None else None
    if source is None or not can_see_case(user, source):
        raise PermissionError("source case")
    target = db.session.get(Jurisdiction, opportunity.target_jurisdiction_id)
    right = db.session.get(Right, opportunity.right_id)
    shareable = source.confidentiality in opp.OPEN_LEVELS
    source_label = source.title if shareable else _("case #%(id)s", id=source.id)
    title = _(
        "Replication of %(source)s: %(right)s in %(target)s",
        source=source_label,
        right=right.name,
        target=target.name,
    )[:300]
    summary = (
        opp.basis_text(best.basis)
        if shareable
        else _(
            "Opened from a knock-on opportunity: %(right)s in %(target)s.",
            right=right.name,
            target=target.name,
        )
    )
    lead_id = opportunity.assigned_organisation_id or user.organisation_id
    case = Case(
        title=title,
        case_type=CaseType.OTHER,
        summary=summary,
        jurisdiction_id=target.id,
        lead_organisation_id=lead_id,
        confidentiality=Confidentiality.ORGANISATION,
        status=Status.PLANNED,
        created_by_id=user.id,
    )
    case.rights = [right]
    case.team.append(CaseMember(user_id=user.id, role=TeamRole.LEAD))
    db.session.add(case)
    db.session.flush()
    db.session.add(
        CaseLink(
            source_case_id=case.id,
            target_case_id=source.id,
            kind=LinkKind.REPLICATES,
            note=_("Opened from a knock-on opportunity"),
        )
    )
    before = snapshot(opportunity)
    opportunity.status = OpportunityStatus.CONVERTED
    opportunity.created_case_id = case.id
    db.session.flush()
    record_audit(action="case.create", entity=case, after=snapshot(case), user_id=user.id)
    record_audit(
        action="opportunity.convert",
        entity=opportunity,
        before=before,
        after=snapshot(opportunity),
        user_id=user.id,
    )
    return case


# --- watches ---------------------------------------------------------------------------------
WATCH_MODELS = {
    WatchKind.RIGHT: Right,
    WatchKind.JURISDICTION: Jurisdiction,
    WatchKind.FORUM: Forum,
    WatchKind.CASE: Case,
}


def watch(*, user: Any, kind: WatchKind, target_id: int) -> Watch:
    """Start watching (idempotent). A case must be visible to the user."""
    model = WATCH_MODELS[kind]
    if kind is WatchKind.CASE:
        visible = db.session.scalar(select(Case.id).where(Case.id == target_id, case_filter(user)))
        if visible is None:
            raise LookupError("case")
    elif db.session.get(model, target_id) is None:
        raise LookupError(kind.value)
    row = db.session.scalar(
        select(Watch).where(
            Watch.user_id == user.id, Watch.kind == kind, Watch.target_id == target_id
        )
    )
    if row is None:
        row = Watch(user_id=user.id, kind=kind, target_id=target_id)
        db.session.add(row)
        db.session.flush()
    return row


def unwatch(*, user: Any, kind: WatchKind, target_id: int) -> bool:
    result = db.session.execute(
        delete(Watch).where(
            Watch.user_id == user.id, Watch.kind == kind, Watch.target_id == target_id
        )
    )
    return bool(result.rowcount)


@dataclass
class Watched:
    kind: WatchKind
    target: str  # what the watch form posts: a code, or a case id
    label: str


def watch_list(user: Any) -> list[Watched]:
    """What the user watches, by kind then name; a case they can no longer see is left out."""
    out: list[Watched] = []
    for kind, (model, code_col, name_col) in {
        WatchKind.RIGHT: (Right, Right.code, Right.name),
        WatchKind.JURISDICTION: (Jurisdiction, Jurisdiction.code, Jurisdiction.name),
        WatchKind.FORUM: (Forum, Forum.code, Forum.name),
    }.items():
        rows = db.session.execute(
            select(code_col, name_col)
            .join(Watch, Watch.target_id == model.id)
            .where(Watch.user_id == user.id, Watch.kind == kind)
            .order_by(name_col)
        ).all()
        out += [Watched(kind, code, name) for code, name in rows]
    cases = db.session.execute(
        select(Case.id, Case.title)
        .join(Watch, Watch.target_id == Case.id)
        .where(Watch.user_id == user.id, Watch.kind == WatchKind.CASE, case_filter(user))
        .order_by(Case.title)
    ).all()
    out += [Watched(WatchKind.CASE, str(cid), title) for cid, title in cases]
    return out


def watched_ids(user: Any, kind: WatchKind) -> set[int]:
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(
        db.session.scalars(
            select(Watch.target_id).where(Watch.user_id == user.id, Watch.kind == kind)
        )
    )


# --- notifications ---------------------------------------------------------------------------
def _watchers(pairs: Iterable[tuple[WatchKind, int]]) -> set[int]:
    by_kind: dict[WatchKind, set[int]] = defaultdict(set)
    for kind, target in pairs:
        if target is not None:
            by_kind[kind].add(target)
    users: set[int] = set()
    for kind, targets in by_kind.items():
        users |= set(
            db.session.scalars(
                select(Watch.user_id).where(Watch.kind == kind, Watch.target_id.in_(targets))
            )
        )
    return users


def _who_can_see(user_ids: set[int], case_id: int) -> list[User]:
    out = []
    for user in db.session.scalars(
        select(User).where(User.id.in_(user_ids), User.disabled_at.is_(None))
    ):
        if db.session.scalar(select(Case.id).where(Case.id == case_id, case_filter(user))):
            out.append(user)
    return out


def _case_right_ids(case_id: int) -> set[int]:
    case = db.session.get(Case, case_id)
    ids = {r.id for r in case.rights}
    ids |= set(
        db.session.scalars(
            select(provision_rights.c.right_id)
            .join(
                case_provisions,
                case_provisions.c.provision_id == provision_rights.c.provision_id,
            )
            .where(case_provisions.c.case_id == case_id)
        )
    )
    parents = set(
        db.session.scalars(
            select(Right.parent_id).where(Right.id.in_(ids), Right.parent_id.is_not(None))
        )
    )
    return ids | parents


def notify_case_event(
    case: Case,
    kind: str,
    message: str,
    url: str | None = None,
    *,
    forum_ids: Iterable[int] | None = None,
) -> int:
    """Notify the users watching this case, its rights, jurisdiction or forums, who may see it.

    kind: a short code ("decision", "win", ...). forum_ids: the forums the event involves (a
    decision: its proceeding's forum); by default every forum the case has a proceeding in.
    Returns the number of notifications. Flushes.
    """
    pairs: list[tuple[WatchKind, int]] = [
        (WatchKind.CASE, case.id),
        (WatchKind.JURISDICTION, case.jurisdiction_id),
    ]
    pairs += [(WatchKind.RIGHT, r) for r in _case_right_ids(case.id)]
    if forum_ids is None:
        forum_ids = db.session.scalars(
            select(Proceeding.forum_id).where(Proceeding.case_id == case.id)
        )
    pairs += [(WatchKind.FORUM, f) for f in forum_ids]
    users = _who_can_see(_watchers(pairs), case.id)
    for user in users:
        db.session.add(
            Notification(
                user_id=user.id,
                kind=kind[:40],
                message=message,
                case_id=case.id,
                url=url or f"/cases/{case.id}",
            )
        )
    db.session.flush()
    return len(users)


@dataclass
class NewOpportunity:
    """A row the refresh just created, with the supporting wins that brought it (case,
    jurisdiction, forum): the ones of the changed cases, and its best public/network win."""

    opportunity: Opportunity
    sources: list[tuple[int, int, int]]


def _notify_new(result: opp.RefreshResult) -> int:
    """Notify watchers of the rows the refresh created (one query when nobody watches)."""
    if not result.created:
        return 0
    watched: dict[WatchKind, set[int]] = defaultdict(set)
    for kind, target in db.session.execute(select(Watch.kind, Watch.target_id).distinct()):
        watched[kind].add(target)
    if not watched:
        return 0
    rows: list[Opportunity] = []
    ids = list(result.created.values())
    for start in range(0, len(ids), 900):
        rows += db.session.scalars(
            select(Opportunity).where(Opportunity.id.in_(ids[start : start + 900]))
        ).all()
    best: dict[tuple[int, int], tuple[int, int, int]] = {}
    keys = [
        (r.right_id, r.source_proceeding_id) for r in rows if r.source_proceeding_id is not None
    ]
    for start in range(0, len(keys), 400):
        for rid, pid, case_id, jur_id, forum_id in db.session.execute(
            select(
                opp.W.right_id,
                opp.W.proceeding_id,
                opp.W.case_id,
                opp.W.jurisdiction_id,
                opp.W.forum_id,
            ).where(tuple_(opp.W.right_id, opp.W.proceeding_id).in_(keys[start : start + 400]))
        ):
            best[(rid, pid)] = (case_id, jur_id, forum_id)
    sent = 0
    for row in rows:
        sources = list(result.sources.get((row.right_id, row.target_jurisdiction_id), ()))
        if (row.right_id, row.source_proceeding_id) in best:
            sources.append(best[(row.right_id, row.source_proceeding_id)])
        candidates = (
            row.right_id in watched[WatchKind.RIGHT]
            or row.target_jurisdiction_id in watched[WatchKind.JURISDICTION]
            or any(
                c in watched[WatchKind.CASE]
                or j in watched[WatchKind.JURISDICTION]
                or f in watched[WatchKind.FORUM]
                for c, j, f in sources
            )
        )
        if candidates:
            sent += _notify_opportunity(NewOpportunity(row, sources))
    return sent


def _notify_opportunity(new: NewOpportunity) -> int:
    """Notify the watchers of its right, target, and sources' cases, jurisdictions and forums
    who may see the opportunity (tracker.patterns.opportunities, rule 4)."""
    row = new.opportunity
    pairs = [
        (WatchKind.RIGHT, row.right_id),
        (WatchKind.JURISDICTION, row.target_jurisdiction_id),
    ]
    for case_id, jur_id, forum_id in new.sources:
        pairs += [
            (WatchKind.CASE, case_id),
            (WatchKind.JURISDICTION, jur_id),
            (WatchKind.FORUM, forum_id),
        ]
    user_ids = _watchers(pairs)
    if not user_ids:
        return 0
    right = db.session.get(Right, row.right_id)
    target = db.session.get(Jurisdiction, row.target_jurisdiction_id)
    # Words from public and network wins only; a row without one says no more than its name.
    basis = opp.basis_text(row) if row.open_wins else ""
    message = _(
        "New knock-on opportunity: %(right)s in %(target)s. %(basis)s",
        right=right.name,
        target=target.name,
        basis=basis,
    ).strip()
    sent = 0
    for user in db.session.scalars(
        select(User).where(User.id.in_(user_ids), User.disabled_at.is_(None))
    ):
        visible = db.session.scalar(
            select(Opportunity.id).where(Opportunity.id == row.id, opp.visible_clause(user))
        )
        if visible is None:
            continue
        case_id = row.source_case_id if row.open_wins else None
        if case_id is None:
            shown = opp.best_visible_win(user, row)
            case_id = shown.case_id if shown else None
        db.session.add(
            Notification(
                user_id=user.id,
                kind="opportunity",
                message=message,
                case_id=case_id,
                url=f"/patterns/opportunities/{row.id}",
            )
        )
        sent += 1
    return sent


def mark_read(*, user: Any, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all unread when no ids are given)."""
    stmt = select(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if notification_ids is not None:
        stmt = stmt.where(Notification.id.in_(list(notification_ids)))
    rows = db.session.scalars(stmt).all()
    now = utcnow()
    for row in rows:
        row.read_at = now
    db.session.flush()
    return len(rows)


def unread_count(user: Any) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    from sqlalchemy import func

    return db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        )
    )


# --- e-mail digest ---------------------------------------------------------------------------
def _smtp_send(to: str, subject: str, body: str) -> None:
    """Send one plain-text message over SMTP with STARTTLS when offered. Raises on failure."""
    config = current_app.config
    msg = EmailMessage()
    msg["From"] = config["MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=15) as smtp:
        smtp.ehlo()
        if smtp.has_extn("starttls"):
            smtp.starttls()
            smtp.ehlo()
        smtp.send_message(msg)


def send_digests(*, sender=None) -> dict[str, int]:
    """Send each user their notifications not yet e-mailed, as one message, and mark them.

    With MAIL_SERVER configured they go out by SMTP; without it (development) each digest is
    written to the log instead and still marked, so it is not repeated. Notifications whose
    case the user can no longer see are left out. Flushes.
    """
    # The absolute address users open (TRACKER_BASE_URL, checked at start-up): a mail client
    # has no page to resolve a relative link against.
    base_url = current_app.config["TRACKER_BASE_URL"]
    use_smtp = bool(current_app.config.get("MAIL_SERVER"))
    sender = sender or (_smtp_send if use_smtp else None)
    rows = db.session.scalars(
        select(Notification)
        .where(Notification.emailed_at.is_(None))
        .order_by(Notification.user_id, Notification.created_at)
    ).all()
    by_user: dict[int, list[Notification]] = defaultdict(list)
    for row in rows:
        by_user[row.user_id].append(row)
    sent = failed = 0
    now = utcnow()
    for user_id, items in by_user.items():
        user = db.session.get(User, user_id)
        if user is None or user.disabled_at is not None:
            continue
        visible = [
            n
            for n in items
            if n.case_id is None
            or db.session.scalar(select(Case.id).where(Case.id == n.case_id, case_filter(user)))
        ]
        if visible:
            lines = [_("Hello %(name)s,", name=user.name), ""]
            lines.append(_("New in the litigation tracker since your last digest:"))
            lines.append("")
            for n in visible:
                lines.append(f"- {n.message}")
                if n.url:
                    lines.append(f"  {base_url}{n.url}")
            body = "\n".join(lines)
            subject = _("Litigation tracker: %(count)s new alerts", count=len(visible))
            if sender is None:
                log.info("alert digest for %s (%s):\n%s", user.email, subject, body)
            else:
                try:
                    sender(user.email, subject, body)
                except (OSError, smtplib.SMTPException) as exc:
                    log.warning("alert digest to %s not sent: %s", user.email, exc)
                    failed += 1
                    continue
            sent += 1
        for n in items:
            n.emailed_at = now
    db.session.flush()
    return {"sent": sent, "failed": failed}
