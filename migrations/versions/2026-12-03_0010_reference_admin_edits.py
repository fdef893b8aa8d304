"""reference data edited by administrators: provision text and an edited_at marker

Revision ID: 0010
Revises: 0002
Create Date: 2026-12-03 18:00:00

Adds provisions.text and, on instruments, provisions and rights, edited_at (set by the admin
pages; `tracker reference load` keeps the rows that carry it). Who edited is in the audit
trail.

Plain ALTER TABLE ... ADD COLUMN of nullable columns, never a batch "move and copy": SQLite
runs with foreign keys on, and dropping the old instruments table would cascade-delete every
provision and ratification. (That is also why there is no edited_by_id foreign key: SQLite
can only add one by rebuilding the table.)
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("instruments", "provisions", "rights")


def upgrade():
    op.add_column("provisions", sa.Column("text", sa.Text(), nullable=True))
    for table in TABLES:
        op.add_column(table, sa.Column("edited_at", sa.DateTime(), nullable=True))


def downgrade():
    # DROP COLUMN works in place on SQLite 3.35+ for columns without constraints.
    for table in TABLES:
        op.drop_column(table, "edited_at")
    op.drop_column("provisions", "text")
