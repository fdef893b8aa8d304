"""Request and response models of the JSON API (pydantic), the source of the OpenAPI document.

pydantic validates request bodies (extra fields refused, types and lengths checked, one
reason per field) and emits JSON Schema 2020-12, which is what OpenAPI 3.1 uses, so the
document cannot drift from the code that validates.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tracker.cases.models import CaseType, Outcome, PartyRole, Status
from tracker.types import Confidentiality

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, max_length=80)]
LongText = Annotated[str, StringConstraints(max_length=20000)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseCreate(_Strict):
    """A new case. The lead organisation defaults to the token owner's."""

    title: Title
    case_type: CaseType
    jurisdiction: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8)
    ]
    reference: Reference | None = None
    summary: LongText | None = None
    strategic_aim: LongText | None = None
    arguments: LongText | None = None
    confidentiality: Confidentiality = Confidentiality.NETWORK
    status: Status = Status.PLANNED
    outcome: Outcome = Outcome.NONE_YET
    opened_on: date | None = None
    rights: Annotated[list[Code], Field(max_length=100)] = []
    provisions: Annotated[list[Code], Field(max_length=100)] = []
    partner_ids: Annotated[list[Id], Field(max_length=50)] = []
    lead_organisation_id: Id | None = None


class CaseUpdate(_Strict):
    """Changes to a case: only the fields given change. `version` is the version you read."""

    version: Annotated[int, Field(ge=1, le=2**31 - 1)]
    title: Title | None = None
    case_type: CaseType | None = None
    jurisdiction: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8)] | None
    ) = None
    reference: Reference | None = None
    summary: LongText | None = None
    strategic_aim: LongText | None = None
    arguments: LongText | None = None
    confidentiality: Confidentiality | None = None
    status: Status | None = None
    outcome: Outcome | None = None
    opened_on: date | None = None
    rights: Annotated[list[Code], Field(max_length=100)] | None = None
    provisions: Annotated[list[Code], Field(max_length=100)] | None = None
    partner_ids: Annotated[list[Id], Field(max_length=50)] | None = None
    lead_organisation_id: Id | None = None


class CodeLabel(BaseModel):
    code: str
    label: str


class OrganisationRef(BaseModel):
    id: int
    name: str


class Treatment(BaseModel):
    code: str
    kind: str  # provision | right
    treatment: str


class ProceedingOut(BaseModel):
    id: int
    position: int
    forum: CodeLabel
    reference: str | None
    filed_on: date | None
    decided_on: date | None
    status: Status
    outcome: Outcome
    ecli: str | None
    treatments: list[Treatment]


class PartyOut(BaseModel):
    role: PartyRole
    pseudonym: str
    full_name: str | None = Field(None, description="Only for members of the case team.")


class CaseOut(BaseModel):
    id: int
    url: str
    reference: str | None
    title: str
    case_type: CaseType
    confidentiality: Confidentiality
    status: Status
    outcome: Outcome
    jurisdiction: CodeLabel
    lead_organisation: OrganisationRef
    partners: list[OrganisationRef]
    rights: list[CodeLabel]
    provisions: list[CodeLabel]
    opened_on: date | None
    summary: str | None
    strategic_aim: str | None
    arguments: str | None
    version: int
    updated_at: datetime
    proceedings: list[ProceedingOut]
    parties: list[PartyOut]


class CaseList(BaseModel):
    data: list[CaseOut]
    next: str | None = Field(description="URL of the next page, or null on the last one.")
    total: int


class Error(BaseModel):
    error: str
    reason: str
    fields: dict[str, str] | None = None
    current_version: int | None = None


class RightOut(BaseModel):
    code: str
    name: str
    parent: str | None


class ProvisionOut(BaseModel):
    code: str
    instrument: str
    number: str
    title: str
    rights: list[str]


class JurisdictionOut(BaseModel):
    code: str
    iso3: str | None
    name: str
    kind: str


class ForumOut(BaseModel):
    code: str
    name: str
    jurisdiction: str
    level: str


class RightList(BaseModel):
    data: list[RightOut]


class ProvisionList(BaseModel):
    data: list[ProvisionOut]


class JurisdictionList(BaseModel):
    data: list[JurisdictionOut]


class ForumList(BaseModel):
    data: list[ForumOut]


class MatrixCell(BaseModel):
    right: str
    column: str
    cases: int
    decided: int
    wins: int


class Matrix(BaseModel):
    dimension: str
    rows: list[CodeLabel]
    columns: list[CodeLabel]
    cells: list[MatrixCell]


class YearPointOut(BaseModel):
    year: int
    filed: int = Field(description="Cases with a proceeding filed in the year")
    wins: int = Field(description="Of those, cases won there")
    losses: int = Field(description="Of those, cases lost there (loss or inadmissible)")


class TimeSeries(BaseModel):
    """Every year from the first filing to the last; a year without filings is all zeros."""

    data: list[YearPointOut]


class MapPointOut(BaseModel):
    jurisdiction: str
    name: str
    cases: int
    wins: int
    lat: float | None = Field(description="Approximate centre of the country, if known")
    lon: float | None


class WorldMap(BaseModel):
    data: list[MapPointOut]


class ProvisionForumCell(BaseModel):
    provision: str
    forum: str
    upheld: int = Field(description="Cases whose proceeding before the forum upheld it")
    rejected: int
    not_reached: int


class ProvisionsByForum(BaseModel):
    provisions: list[CodeLabel]
    forums: list[CodeLabel]
    cells: list[ProvisionForumCell]


class OpportunityOut(BaseModel):
    """One (right, target state). Numbers count public and network wins and cases only; the
    basis and source_case_id are of the best win you may see."""

    id: int
    right: str
    target_jurisdiction: str
    basis: str
    score: float
    status: str
    source_case_id: int | None
    source_jurisdictions: list[str] = Field(
        description="Jurisdictions of the best public and network supporting wins, best first"
    )
    wins: int = Field(description="Public and network supporting wins")
    detail_url: str


class OpportunityList(BaseModel):
    data: list[OpportunityOut]
    next: str | None
    total: int
