"""opportunities: one row per (right, target state), and the derived facts behind them

Revision ID: 0005
Revises: 0010
Create Date: 2026-12-03 17:28:03

The old table held one row per (winning proceeding, right, target): ~13 million rows at
100,000 cases. The new one holds one row per (right, target) (at most rights x states) with
derived ranking columns, computed from three derived tables (opportunity_wins,
opportunity_win_instruments, opportunity_pending) by `tracker opportunities refresh`.

Existing rows: the ones a coordinator acted on (assigned, dismissed, converted) are carried
over by (right, target), keeping the most advanced action of each pair (converted, then
assigned, then dismissed; the latest one when several), so a dismissal is not lost. Open
rows are dropped: they are derived and the refresh recreates them. RUN
`tracker opportunities refresh` AFTER UPGRADING: until then the carried-over rows are marked
unsupported and shown to nobody, and no new opportunity is listed.

Downgrade recreates the old, empty table: a (right, target) row cannot be mapped back to one
source proceeding, so every row is dropped (refresh with the old code to rebuild them).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0010"
branch_labels = None
depends_on = None

STATUS = sa.Enum(
    "open",
    "assigned",
    "dismissed",
    "converted",
    name="opportunity_status",
    native_enum=False,
    create_constraint=True,
)
CARRIED = (
    "status",
    "assigned_organisation_id",
    "assigned_user_id",
    "dismissed_reason",
    "dismissed_by_id",
    "dismissed_at",
    "created_case_id",
    "created_at",
    "updated_at",
)
PRECEDENCE = {"converted": 3, "assigned": 2, "dismissed": 1}


def _acted_on_rows(bind) -> list[dict]:
    old = sa.table(
        "opportunities",
        sa.column("id"),
        sa.column("right_id"),
        sa.column("target_jurisdiction_id"),
        *(sa.column(name) for name in CARRIED),
    )
    rows = bind.execute(
        sa.select(old).where(old.c.status.in_(tuple(PRECEDENCE))).order_by(old.c.id)
    ).mappings()
    chosen: dict[tuple[int, int], dict] = {}
    for row in rows:
        key = (row["right_id"], row["target_jurisdiction_id"])
        rank = (PRECEDENCE[row["status"]], row["updated_at"] or row["created_at"], row["id"])
        if key not in chosen or rank > chosen[key][0]:
            chosen[key] = (rank, dict(row))
    out = []
    for (right_id, target_id), (_rank, row) in sorted(chosen.items()):
        values = {name: row[name] for name in CARRIED}
        out.append({"right_id": right_id, "target_jurisdiction_id": target_id, **values})
    return out


def upgrade():
    bind = op.get_bind()
    carried = _acted_on_rows(bind)
    op.drop_table("opportunities")  # and its indexes

    opportunities = op.create_table(
        "opportunities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("right_id", sa.Integer(), nullable=False),
        sa.Column("target_jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("assigned_organisation_id", sa.Integer(), nullable=True),
        sa.Column("assigned_user_id", sa.Integer(), nullable=True),
        sa.Column("dismissed_reason", sa.Text(), nullable=True),
        sa.Column("dismissed_by_id", sa.Integer(), nullable=True),
        sa.Column("dismissed_at", sa.DateTime(), nullable=True),
        sa.Column("created_case_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("supported", sa.Boolean(), nullable=False),
        sa.Column("public_wins", sa.Integer(), nullable=False),
        sa.Column("open_wins", sa.Integer(), nullable=False),
        sa.Column("open_jurisdictions", sa.Integer(), nullable=False),
        sa.Column("sources", sa.Text(), nullable=False),
        sa.Column("source_case_id", sa.Integer(), nullable=True),
        sa.Column("source_proceeding_id", sa.Integer(), nullable=True),
        sa.Column("win_points", sa.Float(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("won_in_target", sa.Boolean(), nullable=False),
        sa.Column("pending_in_target", sa.Integer(), nullable=False),
        sa.Column("organisations_in_target", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_opportunities_assigned_organisation_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["assigned_user_id"],
            ["users.id"],
            name=op.f("fk_opportunities_assigned_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_case_id"],
            ["cases.id"],
            name=op.f("fk_opportunities_created_case_id_cases"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["dismissed_by_id"],
            ["users.id"],
            name=op.f("fk_opportunities_dismissed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["right_id"],
            ["rights.id"],
            name=op.f("fk_opportunities_right_id_rights"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_opportunities_target_jurisdiction_id_jurisdictions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunities")),
        sa.UniqueConstraint(
            "right_id",
            "target_jurisdiction_id",
            name=op.f("uq_opportunities_right_id_target_jurisdiction_id"),
        ),
    )
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_opportunities_assigned_organisation_id"),
            ["assigned_organisation_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_opportunities_created_case_id"), ["created_case_id"], unique=False
        )
        batch_op.create_index(
            "ix_opportunities_score", ["score", "id", "status", "open_wins"], unique=False
        )
        batch_op.create_index(
            "ix_opportunities_status_score", ["status", "score", "open_wins", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_opportunities_target_jurisdiction_id"),
            ["target_jurisdiction_id"],
            unique=False,
        )
    if carried:
        derived = {
            "supported": False,
            "public_wins": 0,
            "open_wins": 0,
            "open_jurisdictions": 0,
            "sources": "[]",
            "source_case_id": None,
            "source_proceeding_id": None,
            "win_points": 0.0,
            "basis": "{}",
            "won_in_target": False,
            "pending_in_target": 0,
            "organisations_in_target": 0,
            "score": 0.0,
        }
        op.bulk_insert(opportunities, [{**row, **derived} for row in carried])

    op.create_table(
        "opportunity_pending",
        sa.Column("case_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("right_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "right_id", name=op.f("pk_opportunity_pending")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("opportunity_pending", schema=None) as batch_op:
        batch_op.create_index(
            "ix_opportunity_pending_place", ["jurisdiction_id", "right_id"], unique=False
        )

    op.create_table(
        "opportunity_win_instruments",
        sa.Column("right_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("proceeding_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("instrument_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("articles", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint(
            "right_id",
            "proceeding_id",
            "instrument_id",
            name=op.f("pk_opportunity_win_instruments"),
        ),
        sqlite_with_rowid=False,
    )

    op.create_table(
        "opportunity_win_groups",
        sa.Column("right_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("channels", sa.String(length=400), nullable=False),
        sa.Column("system_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column(
            "confidentiality",
            sa.Enum(
                "public",
                "network",
                "organisation",
                "restricted",
                name="opportunity_group_confidentiality",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("wins", sa.Integer(), nullable=False),
        sa.Column("best_proceeding_id", sa.Integer(), nullable=False),
        sa.Column("best_case_id", sa.Integer(), nullable=False),
        sa.Column("best_forum_id", sa.Integer(), nullable=False),
        sa.Column("best_level_points", sa.Integer(), nullable=False),
        sa.Column("best_decided_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint(
            "right_id",
            "jurisdiction_id",
            "channels",
            "system_id",
            "confidentiality",
            name=op.f("pk_opportunity_win_groups"),
        ),
        sqlite_with_rowid=False,
    )

    op.create_table(
        "opportunity_wins",
        sa.Column("right_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("proceeding_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column(
            "confidentiality",
            sa.Enum(
                "public",
                "network",
                "organisation",
                "restricted",
                name="opportunity_win_confidentiality",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("forum_id", sa.Integer(), nullable=False),
        sa.Column("level_points", sa.Integer(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("system_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("right_id", "proceeding_id", name=op.f("pk_opportunity_wins")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("opportunity_wins", schema=None) as batch_op:
        batch_op.create_index("ix_opportunity_wins_case", ["case_id"], unique=False)
        batch_op.create_index(
            "ix_opportunity_wins_place", ["jurisdiction_id", "right_id", "is_open"], unique=False
        )


def downgrade():
    for table in (
        "opportunity_win_groups",
        "opportunity_wins",
        "opportunity_win_instruments",
        "opportunity_pending",
        "opportunities",
    ):
        op.drop_table(table)  # and its indexes

    op.create_table(
        "opportunities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_case_id", sa.Integer(), nullable=False),
        sa.Column("source_proceeding_id", sa.Integer(), nullable=False),
        sa.Column("right_id", sa.Integer(), nullable=False),
        sa.Column("target_jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.Integer(), nullable=True),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("assigned_organisation_id", sa.Integer(), nullable=True),
        sa.Column("assigned_user_id", sa.Integer(), nullable=True),
        sa.Column("dismissed_reason", sa.Text(), nullable=True),
        sa.Column("dismissed_by_id", sa.Integer(), nullable=True),
        sa.Column("dismissed_at", sa.DateTime(), nullable=True),
        sa.Column("created_case_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_opportunities_assigned_organisation_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["assigned_user_id"],
            ["users.id"],
            name=op.f("fk_opportunities_assigned_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_case_id"],
            ["cases.id"],
            name=op.f("fk_opportunities_created_case_id_cases"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["dismissed_by_id"],
            ["users.id"],
            name=op.f("fk_opportunities_dismissed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["instrument_id"],
            ["instruments.id"],
            name=op.f("fk_opportunities_instrument_id_instruments"),
        ),
        sa.ForeignKeyConstraint(
            ["right_id"],
            ["rights.id"],
            name=op.f("fk_opportunities_right_id_rights"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_case_id"],
            ["cases.id"],
            name=op.f("fk_opportunities_source_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_proceeding_id"],
            ["proceedings.id"],
            name=op.f("fk_opportunities_source_proceeding_id_proceedings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_opportunities_target_jurisdiction_id_jurisdictions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunities")),
        sa.UniqueConstraint(
            "source_proceeding_id",
            "right_id",
            "target_jurisdiction_id",
            name=op.f("uq_opportunities_source_proceeding_id_right_id_target_jurisdiction_id"),
        ),
    )
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_opportunities_source_case_id"), ["source_case_id"], unique=False
        )
        batch_op.create_index("ix_opportunities_status_score", ["status", "score"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_opportunities_target_jurisdiction_id"),
            ["target_jurisdiction_id"],
            unique=False,
        )
