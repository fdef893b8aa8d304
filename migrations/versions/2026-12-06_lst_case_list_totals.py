"""case list: the totals of the unfiltered list, kept with the patterns' facts

Revision ID: lst1
Revises: cl1
Create Date: 2026-12-06 21:30:00

The unfiltered case list counted its facets over every visible case (seconds at 100,000
cases). It now reads the public and network share from pattern_totals, kept exact on every
commit (tracker/patterns/facts.py), and adds the few organisation and restricted cases the
viewer may see. Two columns on pattern_facts carry each case's status and outcome (on its
(case, 0, 0) row); they and the list's new totals ("list-forum", "status-<value>",
"outcome-<value>") are filled here from the existing data.

Downgrade drops the columns and those totals rows.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "lst1"
down_revision = "cl1"
branch_labels = None
depends_on = None

LIST_VIEWS = "view = 'list-forum' OR view LIKE 'status-%' OR view LIKE 'outcome-%'"


def upgrade():
    op.add_column("pattern_facts", sa.Column("status", sa.String(length=20), nullable=True))
    op.add_column("pattern_facts", sa.Column("outcome", sa.String(length=20), nullable=True))
    op.execute(
        "UPDATE pattern_facts SET "
        "status = (SELECT CAST(c.status AS VARCHAR) FROM cases c WHERE c.id = case_id), "
        "outcome = (SELECT CAST(c.outcome AS VARCHAR) FROM cases c WHERE c.id = case_id) "
        "WHERE proceeding_id = 0 AND right_id = 0"
    )
    _fill()


def _fill():
    """The list's totals from the facts (the app's own statements, as the hooks keep them)."""
    from flask import has_app_context

    if not has_app_context():  # pragma: no cover - alembic run outside the app
        return
    from sqlalchemy.orm import Session

    from tracker.patterns import facts
    from tracker.patterns.models import PatternFact

    session = Session(bind=op.get_bind())
    target = sa.table("pattern_totals", *(sa.column(c) for c in facts.TOTAL_COLUMNS))
    stmt = sa.union_all(*facts.list_selects([PatternFact.is_open.is_(True)]))
    session.execute(target.insert().from_select(facts.TOTAL_COLUMNS, stmt))
    session.flush()


def downgrade():
    op.execute(f"DELETE FROM pattern_totals WHERE {LIST_VIEWS}")  # noqa: S608 - a constant
    # Plain ALTER TABLE (SQLite 3.35+): a batch copy would lose the table's WITHOUT ROWID.
    op.execute("ALTER TABLE pattern_facts DROP COLUMN outcome")
    op.execute("ALTER TABLE pattern_facts DROP COLUMN status")
