"""The counting rule of the patterns area, as SQL clause builders shared with the case filters.

Patterns and the case list must agree on which cases lie behind every number, so both build
their WHERE clauses here (tracker.cases.filters imports these functions lazily).

The rule ("how we count", also shown on /patterns/):

* A *right family* is a right and its children in the taxonomy (two levels): a number for
  "Liberty and movement" includes cases on "Liberty", "Detention of children" ...
* A **case counts for right R** when it is tagged with a right of R's family, or invokes a
  provision that the crosswalk maps to one, or when one of its proceedings (within the forum and
  period filters) records a treatment of such a right or provision.
* A **proceeding counts for R** when its case is tagged with R (directly or via a provision's
  crosswalk right) or when a treatment row of this proceeding names R or a provision mapping
  to R.
* A proceeding is a **win on R** when its outcome is win or partial win AND it counts for R AND
  (a treatment of R or of one of its provisions was upheld, or no treatment of R is recorded
  for that proceeding). A winning proceeding that rejected R (or did not reach it) is not a win
  on R.
* A proceeding is **decided** when its outcome is anything but "none yet", and **lost** when
  the outcome is loss or inadmissible.
* The numbers shown are *cases* (matters): a case is counted once per cell even when several of
  its proceedings qualify, so that each number equals the length of the case list it links to.
  Win rate = cases won on R / cases with a decided proceeding counting for R.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from sqlalchemy import ColumnElement, and_, exists, false, not_, or_, select

from tracker.cases.models import (
    Case,
    Outcome,
    Proceeding,
    ProceedingTreatment,
    Treatment,
    case_provisions,
    case_rights,
)
from tracker.taxonomy.models import provision_rights

WIN_OUTCOMES = (Outcome.WIN, Outcome.PARTIAL_WIN)
LOST_OUTCOMES = (Outcome.LOSS, Outcome.INADMISSIBLE)
DECIDED_OUTCOMES = tuple(o for o in Outcome if o is not Outcome.NONE_YET)

# Values of the case-list parameter `result` (proceeding level, within forum/period filters).
RESULTS = ("won", "lost", "decided")

PT = ProceedingTreatment


def _provisions_for(right_ids: Collection[int]):
    return select(provision_rights.c.provision_id).where(provision_rights.c.right_id.in_(right_ids))


def case_tagged(right_ids: Collection[int], case_id=Case.id) -> ColumnElement[bool]:
    """The case is tagged with one of the rights, or invokes a provision mapping to one."""
    tagged = exists(
        select(case_rights.c.case_id).where(
            case_rights.c.case_id == case_id, case_rights.c.right_id.in_(right_ids)
        )
    )
    via_provision = exists(
        select(case_provisions.c.case_id)
        .join(provision_rights, provision_rights.c.provision_id == case_provisions.c.provision_id)
        .where(case_provisions.c.case_id == case_id, provision_rights.c.right_id.in_(right_ids))
    )
    return or_(tagged, via_provision)


def treatment_names(right_ids: Collection[int]) -> ColumnElement[bool]:
    """Over ProceedingTreatment: the row names one of the rights or a provision mapping to one."""
    return or_(PT.right_id.in_(right_ids), PT.provision_id.in_(_provisions_for(right_ids)))


def proceeding_treats(
    right_ids: Collection[int], treatment: Treatment | None = None
) -> ColumnElement[bool]:
    """Over Proceeding: a treatment of this proceeding names the rights (with that value)."""
    conditions = [PT.proceeding_id == Proceeding.id, treatment_names(right_ids)]
    if treatment is not None:
        conditions.append(PT.treatment == treatment)
    return exists(select(PT.id).where(*conditions))


def case_counts_for(
    right_ids: Collection[int], proceeding_conditions: Sequence = ()
) -> ColumnElement[bool]:
    """Over Case: the case counts for the rights (tag, crosswalk, or a treatment within the
    proceeding conditions, i.e. the forum and period filters)."""
    via_treatment = exists(
        select(Proceeding.id).where(
            Proceeding.case_id == Case.id, *proceeding_conditions, proceeding_treats(right_ids)
        )
    )
    return or_(case_tagged(right_ids), via_treatment)


def proceeding_counts_for(right_ids: Collection[int]) -> ColumnElement[bool]:
    """Over Proceeding: it counts for the rights."""
    return or_(case_tagged(right_ids, Proceeding.case_id), proceeding_treats(right_ids))


def proceeding_won_on(right_ids: Collection[int]) -> ColumnElement[bool]:
    """Over Proceeding: a win on this right family (see the module docstring)."""
    return and_(
        Proceeding.outcome.in_(WIN_OUTCOMES),
        or_(
            proceeding_treats(right_ids, Treatment.UPHELD),
            and_(case_tagged(right_ids, Proceeding.case_id), not_(proceeding_treats(right_ids))),
        ),
    )


def proceeding_result(result: str, families: Iterable[Collection[int]]) -> ColumnElement[bool]:
    """Over Proceeding: the `result` case-list parameter. With right families (one per right
    filtered on), the proceeding must count for (or be won on) at least one of them."""
    families = [f for f in families if f]
    if result == "won":
        if not families:
            return Proceeding.outcome.in_(WIN_OUTCOMES)
        return or_(*(proceeding_won_on(f) for f in families))
    outcomes = LOST_OUTCOMES if result == "lost" else DECIDED_OUTCOMES
    if result not in RESULTS:
        return false()
    clause = Proceeding.outcome.in_(outcomes)
    if families:
        every = {r for f in families for r in f}
        clause = and_(clause, proceeding_counts_for(every))
    return clause


def proceeding_treatment(
    treatment: Treatment,
    provision_ids: Collection[int] = (),
    right_ids: Collection[int] = (),
) -> ColumnElement[bool]:
    """Over Proceeding: the `treatment` case-list parameter. The provisions (or else the rights)
    filtered on were treated so by this proceeding; with neither, any treatment so."""
    conditions = [PT.proceeding_id == Proceeding.id, PT.treatment == treatment]
    if provision_ids:
        conditions.append(PT.provision_id.in_(provision_ids))
    elif right_ids:
        conditions.append(treatment_names(right_ids))
    return exists(select(PT.id).where(*conditions))
