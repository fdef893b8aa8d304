"""Forms of the cases area, and the readable labels of the case enumerations.

The forms check shape (types, lengths, choices); the services check meaning (codes exist,
dates in order, who may do what), so the CSV import and the API get the same rules.
"""

from __future__ import annotations

from datetime import date

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from tracker.cases.models import (
    CaseType,
    Compliance,
    EventKind,
    LinkKind,
    Outcome,
    PartyRole,
    Status,
    Treatment,
)
from tracker.types import Confidentiality

CASE_TYPE_LABELS = {
    CaseType.INDIVIDUAL_COMPLAINT: _l("Individual complaint"),
    CaseType.CLASS_ACTION: _l("Class action"),
    CaseType.CONSTITUTIONAL_CHALLENGE: _l("Constitutional challenge"),
    CaseType.AMICUS_INTERVENTION: _l("Amicus intervention"),
    CaseType.TREATY_BODY_COMMUNICATION: _l("Treaty-body communication"),
    CaseType.ADVISORY_OPINION_REQUEST: _l("Advisory opinion request"),
    CaseType.JUDICIAL_REVIEW: _l("Judicial review"),
    CaseType.OTHER: _l("Other"),
}
STATUS_LABELS = {
    Status.PLANNED: _l("Planned"),
    Status.FILED: _l("Filed"),
    Status.PENDING: _l("Pending"),
    Status.DECIDED: _l("Decided"),
    Status.ON_APPEAL: _l("On appeal"),
    Status.CLOSED: _l("Closed"),
}
OUTCOME_LABELS = {
    Outcome.WIN: _l("Win"),
    Outcome.PARTIAL_WIN: _l("Partial win"),
    Outcome.LOSS: _l("Loss"),
    Outcome.SETTLED: _l("Settled"),
    Outcome.WITHDRAWN: _l("Withdrawn"),
    Outcome.INADMISSIBLE: _l("Inadmissible"),
    Outcome.NONE_YET: _l("None yet"),
}
CONFIDENTIALITY_LABELS = {
    Confidentiality.PUBLIC: _l("Public (anyone with an account; may be exported publicly)"),
    Confidentiality.NETWORK: _l("Network (all members of the network)"),
    Confidentiality.ORGANISATION: _l("Organisation (lead and partner organisations)"),
    Confidentiality.RESTRICTED: _l("Restricted (named case team only)"),
}
CONFIDENTIALITY_SHORT = {
    Confidentiality.PUBLIC: _l("Public"),
    Confidentiality.NETWORK: _l("Network"),
    Confidentiality.ORGANISATION: _l("Organisation"),
    Confidentiality.RESTRICTED: _l("Restricted"),
}
TREATMENT_LABELS = {
    Treatment.UPHELD: _l("Upheld"),
    Treatment.REJECTED: _l("Rejected"),
    Treatment.NOT_REACHED: _l("Not reached"),
}
PARTY_ROLE_LABELS = {
    PartyRole.CLAIMANT: _l("Claimant"),
    PartyRole.RESPONDENT: _l("Respondent"),
    PartyRole.INTERVENER: _l("Intervener"),
    PartyRole.OTHER: _l("Other"),
}
EVENT_KIND_LABELS = {
    EventKind.FILED: _l("Filed"),
    EventKind.HEARING: _l("Hearing"),
    EventKind.INTERIM_MEASURES: _l("Interim measures"),
    EventKind.COMMUNICATED: _l("Communicated to the State"),
    EventKind.JUDGMENT: _l("Judgment"),
    EventKind.DECISION: _l("Decision"),
    EventKind.APPEAL_LODGED: _l("Appeal lodged"),
    EventKind.IMPLEMENTATION: _l("Implementation"),
    EventKind.DEADLINE: _l("Deadline"),
    EventKind.OTHER: _l("Other"),
}
LINK_KIND_LABELS = {
    LinkKind.APPEAL_OF: _l("is an appeal of"),
    LinkKind.RELATED_TO: _l("is related to"),
    LinkKind.CITES: _l("cites / relies on"),
    LinkKind.REPLICATES: _l("replicates"),
}
# How an incoming link reads from the other side.
LINK_KIND_INCOMING = {
    LinkKind.APPEAL_OF: _l("is appealed in"),
    LinkKind.RELATED_TO: _l("is related to"),
    LinkKind.CITES: _l("is cited by"),
    LinkKind.REPLICATES: _l("is replicated by"),
}
COMPLIANCE_LABELS = {
    Compliance.NOT_STARTED: _l("Not started"),
    Compliance.PARTIAL: _l("Partial compliance"),
    Compliance.FULL: _l("Full compliance"),
    Compliance.NON_COMPLIANCE: _l("Non-compliance"),
    Compliance.UNKNOWN: _l("Unknown"),
}

LABELS = {
    "case_type": CASE_TYPE_LABELS,
    "status": STATUS_LABELS,
    "outcome": OUTCOME_LABELS,
    "confidentiality": CONFIDENTIALITY_SHORT,
    "treatment": TREATMENT_LABELS,
    "party_role": PARTY_ROLE_LABELS,
    "event_kind": EVENT_KIND_LABELS,
    "link_kind": LINK_KIND_LABELS,
    "link_incoming": LINK_KIND_INCOMING,
    "compliance": COMPLIANCE_LABELS,
}


def _choices(labels, blank=None) -> list[SelectChoice]:
    items = [SelectChoice(k.value, v) for k, v in labels.items()]
    return [SelectChoice("", blank), *items] if blank else items


class CaseForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[InputRequired(_l("Give the case a title.")), Length(max=300)],
        description=_l("Pseudonymise claimants: “A.B. v. State”."),
    )
    reference = StringField(
        _l("Your reference"),
        validators=[Optional(), Length(max=80)],
        description=_l("The lead organisation's own reference; unique within it."),
    )
    case_type = SelectField(
        _l("Type of case"),
        choices=_choices(CASE_TYPE_LABELS, _l("— choose —")),
        validators=[InputRequired(_l("Choose the type of case."))],
    )
    jurisdiction = StringField(
        _l("Jurisdiction"),
        validators=[InputRequired(_l("Choose the jurisdiction.")), Length(max=8)],
        description=_l("A country code such as FR or MX; type a name to search."),
    )
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=20000)])
    strategic_aim = TextAreaField(_l("Strategic aim"), validators=[Optional(), Length(max=20000)])
    arguments = TextAreaField(_l("Arguments"), validators=[Optional(), Length(max=20000)])
    lead_organisation_id = SelectField(_l("Lead organisation"), coerce=int, choices=[])
    partner_ids = SelectMultipleField(
        _l("Partner organisations"),
        coerce=int,
        choices=[],
        description=_l("Hold Ctrl (or ⌘) to choose several."),
    )
    confidentiality = SelectField(
        _l("Confidentiality"),
        choices=_choices(CONFIDENTIALITY_LABELS),
        default=Confidentiality.NETWORK.value,
    )
    status = SelectField(
        _l("Status"), choices=_choices(STATUS_LABELS), default=Status.PLANNED.value
    )
    outcome = SelectField(
        _l("Outcome"), choices=_choices(OUTCOME_LABELS), default=Outcome.NONE_YET.value
    )
    opened_on = DateField(
        _l("Opened on"),
        validators=[Optional()],
        format="%Y-%m-%d",
    )
    rights = StringField(
        _l("Rights"),
        validators=[Optional(), Length(max=4000)],
        description=_l("Codes separated by “;” (e.g. liberty; non-refoulement); type to search."),
    )
    provisions = StringField(
        _l("Provisions invoked"),
        validators=[Optional(), Length(max=4000)],
        description=_l("Codes separated by “;” (e.g. ECHR:5; ICCPR:9); type to search."),
    )
    team_ids = SelectMultipleField(
        _l("Case team"),
        coerce=int,
        choices=[],
        description=_l(
            "People of the lead and partner organisations. Only the team sees the parties' "
            "identities, and only the team sees a restricted case."
        ),
    )
    version = HiddenField()
    # What the form was loaded with: a digest per field (services.state_digests), so that a
    # conflict can tell the fields the person changed from those someone else changed.
    loaded = HiddenField()

    def __init__(self, *args, earliest_filed_on: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.earliest_filed_on = earliest_filed_on

    def validate_opened_on(self, field) -> None:
        first = self.earliest_filed_on
        if field.data and first and field.data > first:
            raise ValidationError(
                _l(
                    "A proceeding of this case was filed on %(date)s, before this date: "
                    "the case was opened on that day or earlier.",
                    date=format_date(first),
                )
            )


class ProceedingForm(FlaskForm):
    forum = StringField(
        _l("Forum"),
        validators=[InputRequired(_l("Choose the forum.")), Length(max=40)],
        description=_l("A forum code such as ECTHR; type a name to search."),
    )
    reference = StringField(
        _l("Reference number"),
        validators=[Optional(), Length(max=120)],
        description=_l("Docket, application or communication number."),
    )
    filed_on = DateField(_l("Filed on"), validators=[Optional()], format="%Y-%m-%d")
    decided_on = DateField(_l("Decided on"), validators=[Optional()], format="%Y-%m-%d")
    status = SelectField(_l("Status"), choices=_choices(STATUS_LABELS), default=Status.FILED.value)
    outcome = SelectField(
        _l("Outcome"), choices=_choices(OUTCOME_LABELS), default=Outcome.NONE_YET.value
    )
    ecli = StringField(_l("ECLI"), validators=[Optional(), Length(max=80)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=20000)])
    loaded = HiddenField()

    def __init__(self, *args, case_opened_on: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.case_opened_on = case_opened_on

    def validate_filed_on(self, field) -> None:
        opened = self.case_opened_on
        if field.data and opened and field.data < opened:
            raise ValidationError(
                _l(
                    "This is before the case was opened (%(date)s). Correct this date, or the "
                    "case's “opened on” date.",
                    date=format_date(opened),
                )
            )


class PartyForm(FlaskForm):
    role = SelectField(_l("Role"), choices=_choices(PARTY_ROLE_LABELS))
    pseudonym = StringField(
        _l("Pseudonym"),
        validators=[InputRequired(_l("Give a pseudonym.")), Length(max=200)],
        description=_l("Shown to everyone who can see the case."),
    )
    full_name = StringField(
        _l("Full name"),
        validators=[Optional(), Length(max=300)],
        description=_l("Shown only to the case team."),
    )
    details = TextAreaField(
        _l("Identifying details"),
        validators=[Optional(), Length(max=5000)],
        description=_l("Shown only to the case team."),
    )


class EventForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=_choices(EVENT_KIND_LABELS))
    occurred_on = DateField(
        _l("Date"), validators=[InputRequired(_l("Give the date."))], format="%Y-%m-%d"
    )
    title = StringField(
        _l("Title"), validators=[InputRequired(_l("Give the event a title.")), Length(max=300)]
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=20000)])
    is_deadline = BooleanField(_l("This is a deadline"))
    remind_on = DateField(_l("Remind on"), validators=[Optional()], format="%Y-%m-%d")
    proceeding_id = SelectField(_l("Proceeding"), coerce=int, choices=[], default=0)


class LinkForm(FlaskForm):
    kind = SelectField(_l("This case"), choices=_choices(LINK_KIND_LABELS))
    target = IntegerField(
        _l("Other case (number)"),
        validators=[InputRequired(_l("Give the other case's number.")), NumberRange(min=1)],
        description=_l("The number in the case's address; type a title to search."),
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=2000)])


class ImplementationForm(FlaskForm):
    measures_ordered = TextAreaField(
        _l("Measures ordered"),
        validators=[InputRequired(_l("Say what was ordered.")), Length(max=20000)],
    )
    compliance = SelectField(_l("Compliance"), choices=_choices(COMPLIANCE_LABELS))
    supervision_stage = StringField(
        _l("Supervision stage"),
        validators=[Optional(), Length(max=200)],
        description=_l("E.g. enhanced supervision by the Committee of Ministers."),
    )
    laws_or_policies_changed = TextAreaField(
        _l("Laws or policies changed"), validators=[Optional(), Length(max=20000)]
    )
    follow_up_notes = TextAreaField(
        _l("Follow-up notes"), validators=[Optional(), Length(max=20000)]
    )
    reported_on = DateField(_l("Reported on"), validators=[Optional()], format="%Y-%m-%d")
    loaded = HiddenField()


class ConfirmRemoveForm(FlaskForm):
    """The confirmation step before an event, a party or a link is removed."""

    confirm = BooleanField(
        _l("Yes, remove it."),
        validators=[InputRequired(_l("Tick the box to confirm."))],
    )


class DeleteCaseForm(FlaskForm):
    confirm = BooleanField(
        _l("Yes, delete this case with its proceedings, parties, timeline, links and documents."),
        validators=[InputRequired(_l("Tick the box to confirm."))],
    )
