"""Full-text search over cases and documents, on SQLite (FTS5) and PostgreSQL (tsvector).

One service, two engines, the same answers:

- SQLite: external-content FTS5 tables ``case_fts`` (rowid = case id) and ``document_fts``
  (rowid = document id), kept in step by triggers on insert/update/delete; ranked by bm25().
- PostgreSQL: a generated ``search_vector tsvector`` column (STORED) with a GIN index on
  ``cases`` and ``documents``; ranked by ts_rank().
- Proceedings' reference numbers (docket, application, communication numbers) are copied into
  ``cases.proceeding_references`` by triggers on ``proceedings`` (both engines), which the
  case's index row covers.

Both use a language-neutral configuration ('simple' on PostgreSQL; unicode61 without
diacritic folding on SQLite): the network writes in English, Spanish, French, Portuguese and
Arabic, often mixed in one case, and a per-language stemmer would mangle the others (and
Arabic has no stemmer in PostgreSQL); on PostgreSQL ASCII punctuation is turned into spaces
first, so "12345/19" or "A.B." are cut into words as FTS5 cuts them. Terms of three letters
or more match as prefixes, so "refugee" finds "refugees"; shorter ones (initials, "19") match
whole words only. Column weights agree: title, the case's reference and its proceedings'
references (A / 10), summary and document text (B / 4), strategic aim and arguments (C / 2).
Only the first INDEX_CHARS characters of a document's text are indexed, on both (a tsvector
is limited to 1 MB).

The objects are not in the models: ``install_search()`` creates them (idempotent), from
migrations 0002 and srch1 and from an ``after_create`` hook on the metadata (so
``db.create_all()`` in tests installs them too); tracker.schema lists them as unmanaged, so
Alembic's comparison of models and database (env.py, tests/migrations) leaves them out.

User input never reaches the query syntax: it is cut into letter/digit terms, each quoted.
"""

# The DDL strings below are assembled from module constants only, never from input:
# ruff: noqa: S608

from __future__ import annotations

import math
import re
import string
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    column,
    event,
    false,
    func,
    inspect,
    literal_column,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.engine import Engine
from sqlalchemy.orm import joinedload

from tracker.access import case_filter, document_filter
from tracker.cases.models import Case, Proceeding
from tracker.documents.models import Document, DocumentKind
from tracker.extensions import db

MAX_TERMS = 12
MAX_QUERY_CHARS = 200
INDEX_CHARS = 400_000
START, STOP = "\ue000", "\ue001"  # private-use marks, turned into <mark> after escaping
SCOPES = ("cases", "documents")

CASE_COLUMNS = ("title", "reference", "summary", "strategic_aim", "arguments")
# The references of a case's proceedings (docket, application or communication numbers),
# space-separated in an unmanaged column of ``cases`` that triggers on ``proceedings`` keep
# in step: the case's own index row covers them, so each word of a query may match the
# case's text or one of its proceedings' references.
REFS = "proceeding_references"
INDEXED_CASE_COLUMNS = (*CASE_COLUMNS, REFS)
CASE_WEIGHTS = {"title": "A", "reference": "A", REFS: "A", "summary": "B", "strategic_aim": "C"}
BM25 = {"A": 10.0, "B": 4.0, "C": 2.0}
# A term matches as a prefix only from this length: "A.B." must not find every word that
# starts with "a" or "b" (claimants are often initials), nor "19" every "1990".
PREFIX_MIN = 3

# --- DDL -----------------------------------------------------------------------------------


def _sqlite_cases(columns: tuple[str, ...]) -> list[str]:
    cols = ", ".join(columns)
    olds = ", ".join("old." + c for c in columns)
    news = ", ".join("new." + c for c in columns)
    return [
        f"""CREATE VIRTUAL TABLE IF NOT EXISTS case_fts USING fts5(
            {cols}, content='cases', content_rowid='id',
            tokenize='unicode61 remove_diacritics 0')""",
        f"""CREATE TRIGGER IF NOT EXISTS cases_fts_insert AFTER INSERT ON cases BEGIN
            INSERT INTO case_fts(rowid, {cols}) VALUES (new.id, {news});
        END""",
        f"""CREATE TRIGGER IF NOT EXISTS cases_fts_delete AFTER DELETE ON cases BEGIN
            INSERT INTO case_fts(case_fts, rowid, {cols}) VALUES ('delete', old.id, {olds});
        END""",
        f"""CREATE TRIGGER IF NOT EXISTS cases_fts_update AFTER UPDATE OF id, {cols} ON cases
        BEGIN
            INSERT INTO case_fts(case_fts, rowid, {cols}) VALUES ('delete', old.id, {olds});
            INSERT INTO case_fts(rowid, {cols}) VALUES (new.id, {news});
        END""",
    ]


def _sqlite_refs_set(case_id: str) -> str:
    value = (
        f"(SELECT group_concat(p.reference, ' ') FROM proceedings AS p WHERE p.case_id = {case_id})"
    )
    # Only when the value changes: an unchanged UPDATE would still rewrite the FTS row.
    return f"UPDATE cases SET {REFS} = {value} WHERE id = {case_id} AND {REFS} IS NOT {value};"


_SQLITE_PROCEEDINGS = [
    f"""CREATE TRIGGER IF NOT EXISTS proceedings_refs_insert AFTER INSERT ON proceedings
        WHEN new.reference IS NOT NULL BEGIN {_sqlite_refs_set("new.case_id")} END""",
    f"""CREATE TRIGGER IF NOT EXISTS proceedings_refs_delete AFTER DELETE ON proceedings
        WHEN old.reference IS NOT NULL BEGIN {_sqlite_refs_set("old.case_id")} END""",
    f"""CREATE TRIGGER IF NOT EXISTS proceedings_refs_update
        AFTER UPDATE OF reference, case_id ON proceedings BEGIN
        {_sqlite_refs_set("old.case_id")} {_sqlite_refs_set("new.case_id")} END""",
]
_SQLITE_TRIGGERS = (
    "cases_fts_insert",
    "cases_fts_delete",
    "cases_fts_update",
    "documents_fts_insert",
    "documents_fts_delete",
    "documents_fts_update",
    "proceedings_refs_insert",
    "proceedings_refs_delete",
    "proceedings_refs_update",
)
_SQLITE_REFS_BACKFILL = f"""UPDATE cases SET {REFS} = (
    SELECT group_concat(p.reference, ' ') FROM proceedings AS p WHERE p.case_id = cases.id)
    WHERE id IN (SELECT case_id FROM proceedings WHERE reference IS NOT NULL)"""

_DOC_TEXT_OLD = f"substr(old.extracted_text, 1, {INDEX_CHARS})"
_DOC_TEXT_NEW = f"substr(new.extracted_text, 1, {INDEX_CHARS})"
_SQLITE_DOCUMENTS = [
    """CREATE VIRTUAL TABLE IF NOT EXISTS document_fts USING fts5(
        title, extracted_text, content='documents', content_rowid='id',
        tokenize='unicode61 remove_diacritics 0')""",
    f"""CREATE TRIGGER IF NOT EXISTS documents_fts_insert AFTER INSERT ON documents BEGIN
        INSERT INTO document_fts(rowid, title, extracted_text)
        VALUES (new.id, new.title, {_DOC_TEXT_NEW});
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS documents_fts_delete AFTER DELETE ON documents BEGIN
        INSERT INTO document_fts(document_fts, rowid, title, extracted_text)
        VALUES ('delete', old.id, old.title, {_DOC_TEXT_OLD});
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS documents_fts_update
        AFTER UPDATE OF id, title, extracted_text ON documents BEGIN
        INSERT INTO document_fts(document_fts, rowid, title, extracted_text)
        VALUES ('delete', old.id, old.title, {_DOC_TEXT_OLD});
        INSERT INTO document_fts(rowid, title, extracted_text)
        VALUES (new.id, new.title, {_DOC_TEXT_NEW});
    END""",
]


# Backfill rows that existed before the index (never 'rebuild': it would index the whole text
# of documents while the triggers index the first INDEX_CHARS characters).
def _sqlite_backfill(name: str, columns: tuple[str, ...]) -> str:
    if name == "case_fts":
        cols = ", ".join(columns)
        return f"INSERT INTO case_fts(rowid, {cols}) SELECT id, {cols} FROM cases"
    return f"""INSERT INTO document_fts(rowid, title, extracted_text)
        SELECT id, title, substr(extracted_text, 1, {INDEX_CHARS}) FROM documents"""


# PostgreSQL's parser keeps "12345/19", "A.B." or "a@b.org" as one lexeme where FTS5 (and
# parse_terms) see "12345" "19", "a" "b" ...: ASCII punctuation becomes spaces first, so both
# engines cut text alike. ('%' is left: the DDL passes through the driver, which would read it
# as a placeholder; the parser splits on it anyway.)
_PUNCT = string.punctuation.replace("%", "")
_PG_PUNCT = "'" + _PUNCT.replace("'", "''") + "', '" + " " * len(_PUNCT) + "'"


def _pg_weighted(col: str, weight: str) -> str:
    text = f"translate(coalesce({col}, ''), {_PG_PUNCT})"
    return f"setweight(to_tsvector('simple', {text}), '{weight}')"


def _pg_case_vector(columns: tuple[str, ...]) -> str:
    return " || ".join(_pg_weighted(c, CASE_WEIGHTS.get(c, "C")) for c in columns)


_PG_DOC_VECTOR = (
    _pg_weighted("title", "A") + " || " + _pg_weighted(f"left(extracted_text, {INDEX_CHARS})", "B")
)
_PG_DOCUMENTS = [
    "ALTER TABLE documents ADD COLUMN IF NOT EXISTS search_vector tsvector "
    f"GENERATED ALWAYS AS ({_PG_DOC_VECTOR}) STORED",
    "CREATE INDEX IF NOT EXISTS ix_documents_search_vector ON documents USING gin (search_vector)",
]
_PG_REFS_VALUE = (
    "(SELECT string_agg(p.reference, ' ' ORDER BY p.id) FROM proceedings AS p"
    " WHERE p.case_id = c.id)"
)
# One function for the three statement-level triggers (PostgreSQL allows transition tables
# on single-event triggers only): a bulk insert of proceedings updates each case once.
_PG_PROCEEDINGS = [
    f"""CREATE OR REPLACE FUNCTION tracker_proceeding_references() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE ids integer[];
    BEGIN
        IF TG_OP = 'INSERT' THEN
            SELECT array_agg(DISTINCT case_id) INTO ids FROM new_rows WHERE reference IS NOT NULL;
        ELSIF TG_OP = 'DELETE' THEN
            SELECT array_agg(DISTINCT case_id) INTO ids FROM old_rows WHERE reference IS NOT NULL;
        ELSE
            SELECT array_agg(DISTINCT x) INTO ids FROM (
                SELECT unnest(ARRAY[o.case_id, n.case_id]) AS x
                FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
                WHERE o.reference IS DISTINCT FROM n.reference OR o.case_id <> n.case_id
            ) AS changed;
        END IF;
        IF ids IS NOT NULL THEN
            UPDATE cases AS c SET {REFS} = {_PG_REFS_VALUE}
            WHERE c.id = ANY(ids) AND c.{REFS} IS DISTINCT FROM {_PG_REFS_VALUE};
        END IF;
        RETURN NULL;
    END $$""",
    "DROP TRIGGER IF EXISTS proceedings_refs_insert ON proceedings",
    """CREATE TRIGGER proceedings_refs_insert AFTER INSERT ON proceedings
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION tracker_proceeding_references()""",
    "DROP TRIGGER IF EXISTS proceedings_refs_update ON proceedings",
    """CREATE TRIGGER proceedings_refs_update AFTER UPDATE ON proceedings
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION tracker_proceeding_references()""",
    "DROP TRIGGER IF EXISTS proceedings_refs_delete ON proceedings",
    """CREATE TRIGGER proceedings_refs_delete AFTER DELETE ON proceedings
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION tracker_proceeding_references()""",
]
_PG_REFS_BACKFILL = f"""UPDATE cases AS c SET {REFS} = r.refs FROM (
    SELECT case_id, string_agg(reference, ' ' ORDER BY id) AS refs FROM proceedings
    WHERE reference IS NOT NULL GROUP BY case_id) AS r WHERE c.id = r.case_id"""


def install_search(bind: Any, *, proceedings: bool = True) -> None:
    """Create the full-text objects if missing (idempotent). bind: Connection or Engine.

    proceedings=False leaves proceeding references out (the objects of revision 0002, for a
    downgrade).
    """
    if isinstance(bind, Engine):
        with bind.begin() as conn:
            install_search(conn, proceedings=proceedings)
        return
    insp = inspect(bind)
    tables = set(insp.get_table_names())
    if "cases" not in tables:
        proceedings = False
    with_refs = proceedings and "proceedings" in tables
    columns = INDEXED_CASE_COLUMNS if with_refs else CASE_COLUMNS
    if with_refs and REFS not in {c["name"] for c in insp.get_columns("cases")}:
        # Filled before any trigger on cases exists, so the backfill costs one pass.
        bind.exec_driver_sql(f"ALTER TABLE cases ADD COLUMN {REFS} text")
        bind.exec_driver_sql(
            _SQLITE_REFS_BACKFILL if bind.dialect.name == "sqlite" else _PG_REFS_BACKFILL
        )
    if bind.dialect.name == "sqlite":
        for name, statements, source in (
            ("case_fts", _sqlite_cases(columns), "cases"),
            ("document_fts", _SQLITE_DOCUMENTS, "documents"),
        ):
            if source not in tables:
                continue
            fresh = name not in tables
            for statement in statements:
                bind.exec_driver_sql(statement)
            if fresh:
                bind.exec_driver_sql(_sqlite_backfill(name, columns))
        if with_refs:
            for statement in _SQLITE_PROCEEDINGS:
                bind.exec_driver_sql(statement)
    elif bind.dialect.name == "postgresql":
        if "cases" in tables:
            bind.exec_driver_sql(
                "ALTER TABLE cases ADD COLUMN IF NOT EXISTS search_vector tsvector "
                f"GENERATED ALWAYS AS ({_pg_case_vector(columns)}) STORED"
            )
            bind.exec_driver_sql(
                "CREATE INDEX IF NOT EXISTS ix_cases_search_vector ON cases "
                "USING gin (search_vector)"
            )
        if with_refs:
            for statement in _PG_PROCEEDINGS:
                bind.exec_driver_sql(statement)
        if "documents" in tables:
            for statement in _PG_DOCUMENTS:
                bind.exec_driver_sql(statement)


def uninstall_search(bind: Any) -> None:
    """Remove the full-text objects (migration downgrade; before drop_all on SQLite)."""
    tables = set(inspect(bind).get_table_names())
    refs = "cases" in tables and REFS in {c["name"] for c in inspect(bind).get_columns("cases")}
    if bind.dialect.name == "sqlite":
        for name in _SQLITE_TRIGGERS:
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        bind.exec_driver_sql("DROP TABLE IF EXISTS case_fts")
        bind.exec_driver_sql("DROP TABLE IF EXISTS document_fts")
        if refs:
            bind.exec_driver_sql(f"ALTER TABLE cases DROP COLUMN {REFS}")
    elif bind.dialect.name == "postgresql":
        if "proceedings" in tables:
            for name in ("insert", "update", "delete"):
                bind.exec_driver_sql(
                    f"DROP TRIGGER IF EXISTS proceedings_refs_{name} ON proceedings"
                )
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS tracker_proceeding_references()")
        for name in ("cases", "documents"):
            if name in tables:
                bind.exec_driver_sql(f"DROP INDEX IF EXISTS ix_{name}_search_vector")
                bind.exec_driver_sql(f"ALTER TABLE {name} DROP COLUMN IF EXISTS search_vector")
        if refs:
            bind.exec_driver_sql(f"ALTER TABLE cases DROP COLUMN {REFS}")


@event.listens_for(db.metadata, "after_create")
def _install_after_create(_target, connection, **_kw) -> None:
    install_search(connection)


@event.listens_for(db.metadata, "before_drop")
def _uninstall_before_drop(_target, connection, **_kw) -> None:
    uninstall_search(connection)


# --- Query building ------------------------------------------------------------------------

_TERM = re.compile(r"[^\W_]+")


def parse_terms(q: str | None) -> list[str]:
    """Letter/digit words of the query, lower-cased, de-duplicated; operators dropped."""
    q = unicodedata.normalize("NFC", (q or "")[:MAX_QUERY_CHARS])
    terms = [t.lower() for t in _TERM.findall(q)]
    return list(dict.fromkeys(terms))[:MAX_TERMS]


def _is_prefix(term: str) -> bool:
    return len(term) >= PREFIX_MIN


def _fts5_query(terms: list[str]) -> str:
    # Terms hold only letters and digits, so the quotes cannot be escaped from.
    return " AND ".join(f'"{t}"*' if _is_prefix(t) else f'"{t}"' for t in terms)


def _pg_query(terms: list[str]) -> str:
    return " & ".join(f"'{t}':*" if _is_prefix(t) else f"'{t}'" for t in terms)


def _word_matches(terms: list[str], word: str) -> bool:
    word = word.lower()
    return any(word.startswith(t) if _is_prefix(t) else word == t for t in terms)


def term_matches(terms: list[str], text: str | None) -> bool:
    """Whether any word of text matches any term the way the index does (for display)."""
    words = _TERM.findall(unicodedata.normalize("NFC", text or ""))
    return any(_word_matches(terms, w) for w in words)


def mark_terms(terms: list[str], text: str | None) -> str:
    """text with each word that matches a term, the way the index does, between the marks.

    PostgreSQL's ts_headline parses "A.B." or "12345/19" as one token, which the query's
    terms ("a", "b") never equal, so on PostgreSQL the marks are placed here."""
    plain = unicodedata.normalize("NFC", (text or "").replace(START, "").replace(STOP, ""))
    return _TERM.sub(lambda m: START + m[0] + STOP if _word_matches(terms, m[0]) else m[0], plain)


_case_fts = table(
    "case_fts",
    column("rowid", Integer),
    column("case_fts"),
    *(column(c) for c in INDEXED_CASE_COLUMNS),
)
_document_fts = table(
    "document_fts",
    column("rowid", Integer),
    column("document_fts"),
    column("title"),
    column("extracted_text"),
)
# The generated columns, seen through lightweight tables (they are not in the models).
_pg_cases = table("cases", column("id", Integer), column("search_vector", TSVECTOR))
_pg_documents = table("documents", column("id", Integer), column("search_vector", TSVECTOR))


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _tsquery(terms: list[str]):
    return func.to_tsquery(literal_column("'simple'::regconfig"), _pg_query(terms))


def _matching_ids(scope: str, terms: list[str]):
    """SELECT of the ids of cases (or documents) whose text matches all the terms."""
    if _dialect() == "sqlite":
        fts = _case_fts if scope == "cases" else _document_fts
        hidden = fts.c.case_fts if scope == "cases" else fts.c.document_fts
        return select(fts.c.rowid).where(hidden.op("MATCH")(_fts5_query(terms)))
    pg = _pg_cases if scope == "cases" else _pg_documents
    return select(pg.c.id).where(pg.c.search_vector.bool_op("@@")(_tsquery(terms)))


def case_text_clause(q: str) -> ColumnElement[bool]:
    """WHERE clause over Case for a free-text query (used by the case filters' ``q``).

    Composes with case_filter() and any other clause; a query with no words matches nothing.
    """
    terms = parse_terms(q)
    if not terms:
        return false()
    return _case_matches(terms)


def _own_vector(table_name: str):
    """The generated column of the row at hand (not in the models; see the module docstring)."""
    return literal_column(f"{table_name}.search_vector", TSVECTOR)


def document_text_clause(q: str) -> ColumnElement[bool]:
    """WHERE clause over Document for a free-text query (compose with document_filter())."""
    terms = parse_terms(q)
    if not terms:
        return false()
    return _document_matches(terms)


# --- Results -------------------------------------------------------------------------------


def render_marked(value: str | None) -> Markup:
    """HTML-escape a snippet, then turn our private highlight marks into <mark> elements."""
    if not value:
        return Markup("")
    out = str(escape(value))
    opened = 0
    parts: list[str] = []
    for char in out:
        if char == START:
            if not opened:
                parts.append("<mark>")
            opened = 1
        elif char == STOP:
            if opened:
                parts.append("</mark>")
            opened = 0
        else:
            parts.append(char)
    if opened:
        parts.append("</mark>")
    return Markup("".join(parts))  # noqa: S704 - every character above was escaped


@dataclass
class Hit:
    kind: str  # "case" or "document"
    id: int
    title: Markup
    snippet: Markup
    case: Case | None = None
    document: Document | None = None
    # The case's proceeding references that the query matched, highlighted.
    references: list[Markup] = field(default_factory=list)


@dataclass
class SearchResults:
    q: str
    terms: list[str]
    scope: str
    page: int
    per_page: int
    counts: dict[str, int] = field(default_factory=lambda: {"cases": 0, "documents": 0})
    kind_counts: dict[str, int] = field(default_factory=dict)
    kind: str | None = None
    hits: list[Hit] = field(default_factory=list)
    # True when the scope was not asked for and documents were shown because no case matched.
    switched: bool = False

    @property
    def total(self) -> int:
        if self.scope == "documents" and self.kind:
            return self.kind_counts.get(self.kind, 0)
        return self.counts.get(self.scope, 0)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def ids(self) -> list[int]:
        return [hit.id for hit in self.hits]


def _case_matches(terms: list[str]):
    # PostgreSQL: on the row's own vector, so the GIN index is used (an id IN (SELECT ...)
    # self-join was planned as a probe per candidate row). SQLite: the FTS table's rowids.
    if _dialect() == "postgresql":
        return _own_vector("cases").bool_op("@@")(_tsquery(terms))
    return Case.id.in_(_matching_ids("cases", terms))


def _document_matches(terms: list[str]):
    if _dialect() == "postgresql":
        return _own_vector("documents").bool_op("@@")(_tsquery(terms))
    return Document.id.in_(_matching_ids("documents", terms))


def _visible_case_matches(user: Any, terms: list[str]):
    return and_(_case_matches(terms), case_filter(user))


def _visible_document_matches(user: Any, terms: list[str]):
    return and_(_document_matches(terms), document_filter(user))


def _case_page(user: Any, terms: list[str], page: int, per_page: int) -> list[int]:
    if _dialect() == "sqlite":
        weights = [BM25[CASE_WEIGHTS.get(c, "C")] for c in INDEXED_CASE_COLUMNS]
        score = func.bm25(literal_column("case_fts"), *weights)
        stmt = (
            select(Case.id)
            .select_from(_case_fts.join(Case, Case.id == _case_fts.c.rowid))
            .where(_case_fts.c.case_fts.op("MATCH")(_fts5_query(terms)), case_filter(user))
            .order_by(score, Case.id)
        )
    else:
        score = func.ts_rank(literal_column("cases.search_vector"), _tsquery(terms))
        stmt = (
            select(Case.id)
            .where(_visible_case_matches(user, terms))
            .order_by(score.desc(), Case.id)
        )
    return list(db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))


def _document_page(
    user: Any, terms: list[str], page: int, per_page: int, kind: str | None
) -> list[int]:
    extra = [Document.kind == DocumentKind(kind)] if kind else []
    if _dialect() == "sqlite":
        score = func.bm25(literal_column("document_fts"), BM25["A"], BM25["B"])
        stmt = (
            select(Document.id)
            .select_from(_document_fts.join(Document, Document.id == _document_fts.c.rowid))
            .where(
                _document_fts.c.document_fts.op("MATCH")(_fts5_query(terms)),
                document_filter(user),
                *extra,
            )
            .order_by(score, Document.id)
        )
    else:
        score = func.ts_rank(literal_column("documents.search_vector"), _tsquery(terms))
        stmt = (
            select(Document.id)
            .where(_visible_document_matches(user, terms), *extra)
            .order_by(score.desc(), Document.id)
        )
    return list(db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))


def _case_highlights(terms: list[str], ids: list[int]) -> dict[int, tuple[str, str]]:
    """id -> (highlighted title, snippet) for the cases of one page only."""
    if not ids:
        return {}
    if _dialect() == "sqlite":
        # The body columns (summary, strategic aim, arguments); references show apart.
        snippets = [
            func.snippet(literal_column("case_fts"), i, START, STOP, "…", 24)
            for i in range(2, len(CASE_COLUMNS))
        ]
        stmt = select(
            _case_fts.c.rowid,
            func.highlight(literal_column("case_fts"), 0, START, STOP),
            *snippets,
        ).where(_case_fts.c.case_fts.op("MATCH")(_fts5_query(terms)), _case_fts.c.rowid.in_(ids))
        out = {}
        for row in db.session.execute(stmt):
            bodies = [s for s in row[2:] if s]
            marked = [s for s in bodies if START in s]
            out[row[0]] = (row[1], (marked or bodies or [""])[0])
        return out
    body = func.concat_ws(" … ", Case.summary, Case.strategic_aim, Case.arguments)
    return _pg_highlights(
        terms, select(Case.id, Case.title, _pg_snippet(terms, body)), Case.id.in_(ids)
    )


def _document_highlights(terms: list[str], ids: list[int]) -> dict[int, tuple[str, str]]:
    if not ids:
        return {}
    if _dialect() == "sqlite":
        stmt = select(
            _document_fts.c.rowid,
            func.highlight(literal_column("document_fts"), 0, START, STOP),
            func.snippet(literal_column("document_fts"), 1, START, STOP, "…", 32),
        ).where(
            _document_fts.c.document_fts.op("MATCH")(_fts5_query(terms)),
            _document_fts.c.rowid.in_(ids),
        )
        return {row[0]: (row[1], row[2] or "") for row in db.session.execute(stmt)}
    body = func.left(func.coalesce(Document.extracted_text, ""), INDEX_CHARS)
    return _pg_highlights(
        terms, select(Document.id, Document.title, _pg_snippet(terms, body)), Document.id.in_(ids)
    )


def _pg_snippet(terms: list[str], body: Any) -> Any:
    """ts_headline chooses the fragments around the matches (its own marks are replaced)."""
    opts = (
        f'StartSel="{START}", StopSel="{STOP}", '
        'MaxWords=35, MinWords=15, MaxFragments=2, FragmentDelimiter=" … "'
    )
    return func.ts_headline(literal_column("'simple'::regconfig"), body, _tsquery(terms), opts)


def _pg_highlights(terms: list[str], stmt: Any, where: Any) -> dict[int, tuple[str, str]]:
    return {
        row[0]: (mark_terms(terms, row[1]), mark_terms(terms, row[2]))
        for row in db.session.execute(stmt.where(where))
    }


def count_matches(user: Any, q: str) -> dict[str, int]:
    """How many visible cases and documents match (for facets and badges)."""
    terms = parse_terms(q)
    if not terms:
        return {"cases": 0, "documents": 0}
    cases = db.session.scalar(
        select(func.count()).select_from(Case).where(_visible_case_matches(user, terms))
    )
    documents = db.session.scalar(
        select(func.count()).select_from(Document).where(_visible_document_matches(user, terms))
    )
    return {"cases": cases or 0, "documents": documents or 0}


def _matched_references(terms: list[str], ids: list[int]) -> dict[int, list[Markup]]:
    """case id -> its proceeding references that match a term, marked as a whole."""
    if not ids:
        return {}
    out: dict[int, list[Markup]] = {}
    rows = db.session.execute(
        select(Proceeding.case_id, Proceeding.reference)
        .where(Proceeding.case_id.in_(ids), Proceeding.reference.is_not(None))
        .order_by(Proceeding.case_id, Proceeding.position, Proceeding.id)
    )
    for case_id, reference in rows:
        if term_matches(terms, reference):
            out.setdefault(case_id, []).append(render_marked(START + reference + STOP))
    return out


def search(
    user: Any,
    q: str,
    page: int = 1,
    per_page: int = 20,
    *,
    scope: str | None = "cases",
    kind: str | None = None,
) -> SearchResults:
    """Ranked, highlighted, paginated hits among what the user may see, with facet counts.

    scope: "cases" or "documents"; None (or anything else) chooses: cases, unless none
    matches and some documents do. kind: a DocumentKind value to narrow documents.
    """
    chosen = scope in SCOPES
    scope = scope if chosen else "cases"
    kind = kind if kind in {k.value for k in DocumentKind} else None
    page = max(1, int(page))
    per_page = max(1, min(int(per_page), 100))
    terms = parse_terms(q)
    results = SearchResults(q=q, terms=terms, scope=scope, page=page, per_page=per_page, kind=kind)
    if not terms:
        return results
    results.counts = count_matches(user, q)
    rows = db.session.execute(
        select(Document.kind, func.count())
        .where(_visible_document_matches(user, terms))
        .group_by(Document.kind)
    ).all()
    results.kind_counts = {DocumentKind(k).value: n for k, n in rows}
    if not chosen and not results.counts["cases"] and results.counts["documents"]:
        scope = results.scope = "documents"
        results.switched = True

    if scope == "cases":
        ids = _case_page(user, terms, page, per_page)
        marks = _case_highlights(terms, ids)
        references = _matched_references(terms, ids)
        records = {
            c.id: c
            for c in db.session.scalars(
                select(Case).where(Case.id.in_(ids)).options(joinedload(Case.jurisdiction))
            )
        }
        for ident in ids:
            title, snippet = marks.get(ident, (records[ident].title, ""))
            results.hits.append(
                Hit(
                    "case",
                    ident,
                    render_marked(title),
                    render_marked(snippet),
                    case=records[ident],
                    references=references.get(ident, []),
                )
            )
    else:
        ids = _document_page(user, terms, page, per_page, kind)
        marks = _document_highlights(terms, ids)
        records = {
            d.id: d
            for d in db.session.scalars(
                select(Document).where(Document.id.in_(ids)).options(joinedload(Document.case))
            )
        }
        for ident in ids:
            title, snippet = marks.get(ident, (records[ident].title, ""))
            results.hits.append(
                Hit(
                    "document",
                    ident,
                    render_marked(title),
                    render_marked(snippet),
                    case=records[ident].case,
                    document=records[ident],
                )
            )
    return results


def rebuild_search_index(bind: Any | None = None) -> None:
    """Re-create the SQLite FTS tables from the data (e.g. after a restore). No-op on PG."""
    bind = bind or db.engine
    if bind.dialect.name != "sqlite":
        return
    with bind.begin() as conn:
        uninstall_search(conn)
        install_search(conn)


__all__ = [
    "SearchResults",
    "case_text_clause",
    "count_matches",
    "document_text_clause",
    "install_search",
    "search",
    "uninstall_search",
]
