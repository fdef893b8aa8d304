"""patterns: derived facts and the totals of the unfiltered patterns page

Revision ID: pat1
Revises: srch1
Create Date: 2026-12-04 18:55:00

Three derived tables (tracker/patterns/facts.py): pattern_facts (one row per case,
proceeding and right family with the columns the patterns page groups by),
pattern_provision_facts (treatments of invoked provisions) and pattern_totals (the numbers of
the unfiltered page over public and network cases). They are filled here from the existing
data, so the page is right straight after upgrading; the session hooks keep them exact from
then on, and `tracker patterns rebuild` recomputes them at any time.

Downgrade drops the three tables (nothing else refers to them).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "pat1"
down_revision = "srch1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pattern_facts",
        sa.Column("case_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("proceeding_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("right_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("forum_id", sa.Integer(), nullable=False),
        sa.Column("system_id", sa.Integer(), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=True),
        sa.Column("is_treat", sa.Boolean(), nullable=False),
        sa.Column("decided", sa.Boolean(), nullable=False),
        sa.Column("won", sa.Boolean(), nullable=False),
        sa.Column("lost", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "case_id", "proceeding_id", "right_id", name=op.f("pk_pattern_facts")
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "pattern_provision_facts",
        sa.Column("case_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("proceeding_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("provision_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("treatment", sa.String(length=20), nullable=False),
        sa.Column("forum_id", sa.Integer(), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=True),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "case_id",
            "proceeding_id",
            "provision_id",
            "treatment",
            name=op.f("pk_pattern_provision_facts"),
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "pattern_totals",
        sa.Column("view", sa.String(length=32), nullable=False),
        sa.Column("right_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("col", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sub", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("decided", sa.Integer(), nullable=False),
        sa.Column("wins", sa.Integer(), nullable=False),
        sa.Column("losses", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("view", "right_id", "col", "sub", name=op.f("pk_pattern_totals")),
        sqlite_with_rowid=False,
    )
    _fill()


def _fill():
    """Compute the tables from the data already there (the app's own statements, so the
    numbers are those the hooks would keep)."""
    from flask import has_app_context

    if not has_app_context():  # pragma: no cover - alembic run outside the app
        return
    from sqlalchemy.orm import Session

    from tracker.patterns import facts

    bind = op.get_bind()
    session = Session(bind=bind)
    # The columns and views of this revision (lst1 adds the case list's).
    fact_columns = tuple(c for c in facts.FACT_COLUMNS if c not in facts.STATUS_COLUMNS)
    for table, columns, stmt in (
        ("pattern_facts", fact_columns, facts.fact_rows_select(with_status=False)),
        ("pattern_provision_facts", facts.PROVISION_COLUMNS, facts.provision_rows_select()),
        ("pattern_totals", facts.TOTAL_COLUMNS, facts.totals_select(with_list=False)),
    ):
        target = sa.table(table, *(sa.column(c) for c in columns))
        session.execute(target.insert().from_select(columns, stmt))
    session.flush()


def downgrade():
    op.drop_table("pattern_totals")
    op.drop_table("pattern_provision_facts")
    op.drop_table("pattern_facts")
