"""Schema helpers shared by Alembic's env.py and the migration tests."""

from __future__ import annotations

# Objects that exist in the database but are managed outside the models' metadata (for example
# full-text search tables, triggers and generated columns created by tracker.search). Alembic's
# autogenerate and the "migrations equal models" test both ignore them.
# tracker.search.services.install_search(): FTS5 tables (and their shadow tables) on SQLite,
# generated tsvector columns with GIN indexes on PostgreSQL; on both, cases.proceeding_references
# (the proceedings' reference numbers, kept in step by triggers on proceedings).
UNMANAGED_TABLE_PREFIXES: tuple[str, ...] = ("case_fts", "document_fts")
UNMANAGED_COLUMNS: frozenset[tuple[str, str]] = frozenset(
    {
        ("cases", "search_vector"),
        ("cases", "proceeding_references"),
        ("documents", "search_vector"),
    }
)
UNMANAGED_INDEXES: frozenset[str] = frozenset(
    {"ix_cases_search_vector", "ix_documents_search_vector"}
)


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    if type_ == "table" and name and name.startswith(UNMANAGED_TABLE_PREFIXES or ("\0",)):
        return False
    if type_ == "column" and (obj.table.name, name) in UNMANAGED_COLUMNS:
        return False
    return not (type_ == "index" and name in UNMANAGED_INDEXES)
