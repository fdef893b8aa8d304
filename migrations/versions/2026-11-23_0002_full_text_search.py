"""full-text search: FTS5 tables and triggers (SQLite), tsvector columns and GIN indexes (PG)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 19:10:00

The objects are created by tracker.search.services.install_search(), the same function that
db.create_all() runs through an after_create hook, so a migrated database and a test database
have the same search objects. install_search() is idempotent and backfills existing rows.
They are not in the models: tracker.schema lists them as unmanaged, so env.py and the
migration test leave them out of the models-versus-database comparison.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    from tracker.search.services import install_search

    # Without the proceedings' references: revision srch1 adds them.
    install_search(op.get_bind(), proceedings=False)


def downgrade():
    from tracker.search.services import uninstall_search

    uninstall_search(op.get_bind())
