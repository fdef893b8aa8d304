"""cases list: indexes for each sort, a covering index for visibility and facets

Revision ID: cl1
Revises: pat1
Create Date: 2026-12-04 18:55:00

The case list sorts by updated, title, status and outcome with the id as tie-breaker; an
index on (column, id) serves each sort in both directions, so the first (and, read from the
end, the last) pages stop after 25 rows instead of sorting every visible case. The total and
facets read the matching set's confidentiality, lead organisation, jurisdiction, status and
outcome from ix_cases_visibility alone (it replaces ix_cases_confidentiality_lead, its prefix).
The single-column status and outcome indexes are replaced by (status, id) and (outcome, id).
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "cl1"
down_revision = "pat1"
branch_labels = None
depends_on = None

NEW = [
    (
        "ix_cases_visibility",
        "cases",
        ["confidentiality", "lead_organisation_id", "jurisdiction_id", "status", "outcome"],
    ),
    ("ix_cases_updated_at_id", "cases", ["updated_at", "id"]),
    ("ix_cases_title_id", "cases", ["title", "id"]),
    ("ix_cases_status_id", "cases", ["status", "id"]),
    ("ix_cases_outcome_id", "cases", ["outcome", "id"]),
    ("ix_proceedings_case_filed_forum", "proceedings", ["case_id", "filed_on", "forum_id"]),
]
OLD = [
    ("ix_cases_confidentiality_lead", "cases", ["confidentiality", "lead_organisation_id"]),
    ("ix_cases_status", "cases", ["status"]),
    ("ix_cases_outcome", "cases", ["outcome"]),
]


def upgrade():
    for name, table, columns in NEW:
        op.create_index(name, table, columns)
    for name, table, _columns in OLD:
        op.drop_index(name, table_name=table)


def downgrade():
    for name, table, columns in OLD:
        op.create_index(name, table, columns)
    for name, table, _columns in NEW:
        op.drop_index(name, table_name=table)
