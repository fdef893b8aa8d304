"""full-text search: proceedings' references; short words whole; PG punctuation as spaces

Revision ID: srch1
Revises: 0005
Create Date: 2026-12-04 18:45:00

Re-creates the search objects of tracker.search.services: the new unmanaged column
cases.proceeding_references (backfilled) with its triggers on proceedings, the FTS5 case table
with that column (SQLite), and the generated tsvector columns with the new expression
(PostgreSQL: punctuation becomes spaces). The rows are re-indexed, which on a large database
takes a while (one pass over cases and documents).
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "srch1"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    from tracker.search.services import install_search, uninstall_search

    bind = op.get_bind()
    uninstall_search(bind)
    install_search(bind)


def downgrade():
    from tracker.search.services import install_search, uninstall_search

    bind = op.get_bind()
    uninstall_search(bind)
    install_search(bind, proceedings=False)
