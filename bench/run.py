# ruff: noqa: S608 - the SQL is assembled from constants and placeholders, never from input
"""`make bench`: the app's main pages and bulk operations, timed beside hand-written SQL.

For each size and database: generate the data with `tracker demo` (SQLite files are cached
under bench/cache/ by size, seed and generator, and each run works on a copy of its own;
PostgreSQL databases are marked with the same; a cache made under older migrations is
upgraded rather than generated again), then time each operation through the app (Flask test
client signed in as a network member, or the CLI) and the fastest raw SQL the bench can write
for the same work on the same data. Prints a table and writes
bench/results/<date>-<db>-<size>.json. Never asserts timings; an operation whose endpoint
has not landed yet is reported as "n/a (endpoint missing)".

    .venv/bin/python bench/run.py --sizes "2000" --dbs sqlite --reps 5
    .venv/bin/python bench/run.py --compare bench/results/<earlier>.json
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test_bench"
SEED = 1
IMPORT_ROWS = 10_000
IMPORT_PREFIX = "BENCH-IMP-"
QUERY = {"q": "detention", "jurisdiction": "GR", "status": "pending"}
# The filtered patterns page: one right family's rows over ten years of filings.
PATTERNS_QUERY = {
    "right": "liberty-and-movement",
    "filed_from": "2010-01-01",
    "filed_to": "2019-12-31",
}
FILTER_QUERY = {"status": "pending"}  # one filter, no text: a large matching set
MISSING = "n/a (endpoint missing)"

OPERATIONS = (
    "case_list",
    "case_list_all",
    "case_list_filter",
    "case_page",
    "patterns_matrix",
    "patterns_filtered",
    "opportunities",
    "export_csv",
    "export_csv_cli",
    "import_10k",
)


# --- Measuring -----------------------------------------------------------------------------
def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]


SLOW_MS = 5_000  # an operation slower than this (warm) is repeated at most SLOW_REPS times
SLOW_REPS = 3


def timed(fn: Callable[[], Any], reps: int, warmup: int = 1) -> dict[str, Any]:
    for _ in range(warmup):
        started = time.perf_counter()
        fn()
        if (time.perf_counter() - started) * 1000 > SLOW_MS:
            reps = min(reps, SLOW_REPS)  # 20 repetitions of a minute-long page is no better
    times, cpu = [], []
    for _ in range(reps):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return {
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(percentile(times, 95), 2),
        # CPU of this process only: on a busy machine it is steadier than wall time, but it
        # leaves out PostgreSQL's own work (another process).
        "cpu_median_ms": round(statistics.median(cpu), 2),
        "reps": reps,
    }


def peak_mb(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        fn()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return round(peak / 2**20, 1)


class Unavailable(Exception):
    """The app side of an operation cannot run (endpoint missing, error)."""


# --- Building the data ----------------------------------------------------------------------
def _digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def generator_key() -> str:
    """Changes when the generator changes: the data must then be generated again."""
    return _digest([ROOT / "tracker" / "demo" / name for name in ("generator.py", "vocabulary.py")])


def migrations_key() -> str:
    """Changes when a migration is added or edited: a cached database is then upgraded."""
    return _digest(sorted((ROOT / "migrations" / "versions").glob("*.py")))


def make_app(url: str):
    from tracker import create_app

    return create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            # The bench only reads outside requests; a write lock held between operations
            # would lock out the export subprocess.
            "SQLITE_IMMEDIATE_OUTSIDE_REQUESTS": False,
            "LOG_LEVEL": "WARNING",
        }
    )


@contextmanager
def quiet_opportunity_notifications():
    """Generated data has no watches, so notifying is a no-op; skip its per-row queries."""
    try:
        from tracker.patterns import services
    except ImportError:
        yield
        return
    original = getattr(services, "_notify_opportunity", None)
    if original is not None:
        services._notify_opportunity = lambda _row: 0
    try:
        yield
    finally:
        if original is not None:
            services._notify_opportunity = original


def build(url: str, size: int, seed: int, log) -> dict[str, Any]:
    """Migrate an empty database, generate `size` cases and refresh derived data."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from tracker.demo.generator import generate_demo
    from tracker.extensions import db

    app = make_app(url)
    info: dict[str, Any] = {}
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade(directory=str(ROOT / "migrations"))
        log(f"  generating {size:,} cases ...")
        result = generate_demo(
            cases=size,
            seed=seed,
            documents=max(size // 10, 1),
            users_can_sign_in=True,
            today=date.today(),
        )
        info["generate_s"] = round(result.seconds, 2)
        info["generate_cases_per_s"] = round(size / result.seconds) if result.seconds else None
        info["rows"] = sum(result.counts.values())
        log(
            f"  generated {info['rows']:,} rows in {result.seconds:.1f} s "
            f"({info['generate_cases_per_s']:,} cases/s)"
        )
        try:
            from tracker.patterns.services import refresh_opportunities
        except ImportError:
            info["opportunities"] = "patterns area missing"
        else:
            started = time.perf_counter()
            with quiet_opportunity_notifications():
                counts = refresh_opportunities()  # the full, set-based refresh
            db.session.commit()
            info["opportunities"] = {
                "counts": counts,
                "seconds": round(time.perf_counter() - started, 1),
            }
            log(f"  opportunities (full refresh): {counts}")
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
        db.session.remove()
        db.engine.dispose()
    return info


def upgrade_cached(url: str, log) -> dict[str, Any]:
    """Bring a database generated under older migrations up to this checkout's schema.

    The migrations fill the tables they add (an upgraded production database must be right
    too), so the data is what a fresh build would give, without generating it again (over
    ten minutes at 1,000,000 cases). Raises when the database's revision is not in this
    checkout (made by another branch): the caller then builds afresh."""
    from flask_migrate import upgrade

    from tracker.extensions import db

    app = make_app(url)
    started = time.perf_counter()
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
        db.session.remove()
        db.engine.dispose()
    seconds = round(time.perf_counter() - started, 1)
    log(f"  upgraded the cached database to this schema in {seconds} s")
    return {"upgraded_s": seconds}


def prepare_sqlite(size: int, seed: int, cache_dir: Path, log) -> tuple[str, dict]:
    """Reuse a cached file of this size, seed and generator; upgrade it if its schema is older."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    stem = f"sqlite-{size}-seed{seed}-{generator_key()}"
    path = cache_dir / f"{stem}-{migrations_key()}.sqlite3"
    meta_path = path.with_suffix(".json")
    if path.exists() and meta_path.exists():
        log(f"  reusing {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        return f"sqlite:///{path}", {**json.loads(meta_path.read_text()), "cached": True}
    building = path.with_suffix(".building")
    for leftover in cache_dir.glob(building.name + "*"):
        leftover.unlink()
    older = [p for p in cache_dir.glob(f"{stem}-*.sqlite3") if p.with_suffix(".json").exists()]
    if older:
        log(f"  upgrading {older[0].name}")
        info = json.loads(older[0].with_suffix(".json").read_text())
        os.replace(older[0], building)
        older[0].with_suffix(".json").unlink()
        try:
            info.update(upgrade_cached(f"sqlite:///{building}", log))
        except Exception as error:  # any failure: generate afresh
            log(f"  cannot upgrade it ({error}); generating afresh")
            building.unlink()
            older = []
    if not older:
        for stale in cache_dir.glob(f"sqlite-{size}-seed{seed}-*"):
            stale.unlink()
        info = build(f"sqlite:///{building}", size, seed, log)
    os.replace(building, path)
    meta_path.write_text(json.dumps(info))
    return f"sqlite:///{path}", {**info, "cached": bool(older)}


@contextmanager
def working_copy(url: str, log):
    """The run's own copy of a cached SQLite file, opened so that SQLite never creates one.

    A run used to work on the cached file itself, and twice (2026-11-23, 2026-12-04) its
    import failed with "no such table: cases": every new connection found an empty database
    at the cache path. Nothing in the run changes its directory or database URL (the export
    subprocess gets the same absolute URL); what removes or rewrites a cached file is
    another run (its clean-up of stale files for the same size and seed when the migrations
    or the generator differ) or a copy over it, and then SQLite, and the app's own start-up
    (tracker._private_instance), silently create an empty file at the missing path. A copy
    of its own keeps a run away from all that (and keeps the cache free of the import's
    writes); mode=rw makes a missing file an error instead of an empty database.
    """
    source = Path(url.removeprefix("sqlite:///"))
    copy = source.with_name(f"run-{os.getpid()}-{source.name}")
    shutil.copyfile(source, copy)
    log(f"  working on a copy: {copy.name}")
    try:
        yield f"sqlite:///file:{copy}?mode=rw&uri=true"
    finally:
        for path in (copy, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
            path.unlink(missing_ok=True)


def _schema_comment(url: str, comment: str | None = None) -> str | None:
    """Read (or, given `comment`, write) the comment on schema public that names the data."""
    from sqlalchemy import create_engine, text

    engine = create_engine(_sqlalchemy_url(url))
    try:
        with engine.begin() as conn:
            if comment is not None:
                quoted = comment.replace("'", "''")
                conn.exec_driver_sql(f"COMMENT ON SCHEMA public IS '{quoted}'")
                return comment
            return conn.execute(
                text("SELECT obj_description('public'::regnamespace, 'pg_namespace')")
            ).scalar()
    finally:
        engine.dispose()


def prepare_postgres(url: str, size: int, seed: int, log) -> tuple[str, dict]:
    """Reuse the database when its schema comment names this size, seed and generator;
    upgrade it first when it was made under older migrations."""
    data_key = f"bench:{size}:{seed}:{generator_key()}:"
    key = data_key + migrations_key()
    comment = _schema_comment(url) or ""
    if comment.startswith(key + "|"):
        log("  reusing the PostgreSQL database (same size, seed and schema)")
        return url, {**json.loads(comment[len(key) + 1 :]), "cached": True}
    if comment.startswith(data_key) and "|" in comment:
        info = json.loads(comment.split("|", 1)[1])
        try:
            info.update(upgrade_cached(url, log))
        except Exception as error:  # any failure: generate afresh
            log(f"  cannot upgrade it ({error}); generating afresh")
        else:
            _schema_comment(url, key + "|" + json.dumps(info))
            return url, {**info, "cached": True}
    info = build(url, size, seed, log)
    _schema_comment(url, key + "|" + json.dumps(info))
    return url, {**info, "cached": False}


def _sqlalchemy_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def postgres_reachable(url: str) -> str | None:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(_sqlalchemy_url(url), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return str(exc).splitlines()[0]
    return None


# --- The operations ---------------------------------------------------------------------------
class Bench:
    def __init__(self, url: str, reps: int, heavy_reps: int, log) -> None:
        self.url = url
        self.reps = reps
        self.heavy_reps = heavy_reps
        self.log = log
        self.app = make_app(url)
        from tracker.extensions import db

        self.db = db
        # No application context stays pushed: each request and command gets its own, so
        # its session ends with it (a shared one would keep a transaction open).
        with self.app.app_context():
            self.engine = db.engine
            self._pick_people()
        self.dialect = self.engine.dialect.name
        self.client = self.app.test_client()
        self._sign_in()

    def close(self) -> None:
        self.engine.dispose()

    # -- setup
    def _pick_people(self) -> None:
        from sqlalchemy import func, select

        from tracker.auth.models import User
        from tracker.cases.models import Case, Proceeding
        from tracker.types import Role

        db = self.db
        self.member = db.session.scalar(
            select(User).where(User.role == Role.COORDINATOR).order_by(User.id)
        )
        self.litigator = db.session.scalar(
            select(User)
            .where(User.role == Role.LITIGATOR, User.organisation_id == self.member.organisation_id)
            .order_by(User.id)
        )
        # Case pages: network cases with the most proceedings (the heaviest pages).
        self.case_ids = db.session.scalars(
            select(Case.id)
            .join(Proceeding, Proceeding.case_id == Case.id)
            .where(Case.confidentiality == "network")
            .group_by(Case.id)
            .order_by(func.count(Proceeding.id).desc(), Case.id)
            .limit(20)
        ).all()
        # Plain values: touching an expired ORM object later would open a transaction.
        self.member = _Person(self.member.id, self.member.email, self.member.organisation_id)
        self.litigator = _Person(
            self.litigator.id, self.litigator.email, self.litigator.organisation_id
        )
        db.session.remove()

    def _sign_in(self) -> None:
        from tracker.demo.generator import DEMO_PASSWORD

        response = self.client.post(
            "/login", data={"email": self.member.email, "password": DEMO_PASSWORD}
        )
        if response.status_code != 302:
            raise SystemExit(f"bench: could not sign in as {self.member.email}")

    def _has_endpoint(self, path: str) -> bool:
        from werkzeug.exceptions import MethodNotAllowed, NotFound

        adapter = self.app.url_map.bind("localhost")
        try:
            adapter.match(path.split("?")[0], method="GET")
        except (NotFound, MethodNotAllowed):
            return False
        return True

    def _get(self, path: str) -> int:
        response = self.client.get(path, buffered=False)
        try:
            size = 0
            for chunk in response.iter_encoded():
                size += len(chunk)
            if response.status_code != 200:
                raise Unavailable(f"error (HTTP {response.status_code})")
            return size
        finally:
            response.close()

    def _app_get(self, path: str, reps: int) -> dict[str, Any]:
        if not self._has_endpoint(path):
            raise Unavailable(MISSING)
        try:
            started = time.perf_counter()
            self._get(path)  # the warm-up, which also tells whether it works at all
            if (time.perf_counter() - started) * 1000 > SLOW_MS:
                reps = min(reps, SLOW_REPS)
        except Unavailable:
            raise
        except Exception as exc:
            raise Unavailable(f"error ({type(exc).__name__}: {str(exc)[:120]})") from exc
        return timed(lambda: self._get(path), reps, warmup=0)

    # -- raw SQL helpers
    def raw(self):
        """A DBAPI connection of its own (no ORM, no SQLAlchemy statement layer)."""
        return self.engine.raw_connection()

    def _p(self, sql: str) -> str:
        """Write SQL with ? placeholders; PostgreSQL's driver wants %s."""
        return sql.replace("?", "%s") if self.dialect == "postgresql" else sql

    def _visible(self, alias: str = "c") -> tuple[str, list]:
        org, uid = self.member.organisation_id, self.member.id
        sql = (
            f"({alias}.confidentiality IN ('public', 'network') OR "
            f"({alias}.confidentiality = 'organisation' AND ({alias}.lead_organisation_id = ? "
            f"OR EXISTS (SELECT 1 FROM case_partners p WHERE p.case_id = {alias}.id "
            f"AND p.organisation_id = ?) OR EXISTS (SELECT 1 FROM case_members m "
            f"WHERE m.case_id = {alias}.id AND m.user_id = ?))) OR "
            f"({alias}.confidentiality = 'restricted' AND EXISTS (SELECT 1 FROM case_members m "
            f"WHERE m.case_id = {alias}.id AND m.user_id = ?)))"
        )
        return sql, [org, org, uid, uid]

    def _text_match(self) -> tuple[str, list]:
        q = QUERY["q"]
        cur = self.engine.raw_connection()
        try:
            if self.dialect == "sqlite":
                has_fts = (
                    cur.cursor()
                    .execute("SELECT 1 FROM sqlite_master WHERE name = 'case_fts'")
                    .fetchone()
                )
                if has_fts:
                    return "c.id IN (SELECT rowid FROM case_fts WHERE case_fts MATCH ?)", [f'"{q}"']
            else:
                cursor = cur.cursor()
                cursor.execute(
                    "SELECT 1 FROM information_schema.columns WHERE table_name = 'cases' "
                    "AND column_name = 'search_vector'"
                )
                if cursor.fetchone():
                    return "c.search_vector @@ plainto_tsquery('simple', ?)", [q]
        finally:
            cur.close()
        return "(c.title LIKE ? OR c.summary LIKE ?)", [f"%{q}%", f"%{q}%"]

    def _raw_timed(self, statements: list[tuple[str, list]]) -> dict[str, Any]:
        """Time running and fetching these (sql with ? placeholders, params) statements."""
        statements = [(self._p(sql), params) for sql, params in statements]
        conn = self.raw()

        def run():
            cur = conn.cursor()
            for sql, params in statements:
                cur.execute(sql, params)
                cur.fetchall()

        try:
            return timed(run, self.reps)
        finally:
            conn.close()

    # -- operations: each returns (app_result_or_reason, raw_result, extra)
    def case_list(self):
        """The list with a text query, two filters and its facets."""
        match, mparams = self._text_match()
        where = (
            f"{match} AND c.jurisdiction_id = (SELECT id FROM jurisdictions WHERE code = ?) "
            "AND c.status = ?"
        )
        return self._list(QUERY, where, [*mparams, QUERY["jurisdiction"], QUERY["status"]])

    def case_list_all(self):
        """The unfiltered list (the landing page): every visible case and its facets."""
        return self._list({}, "", [])

    def case_list_filter(self):
        """The list with one filter and no text (a large matching set)."""
        return self._list(FILTER_QUERY, "c.status = ?", [FILTER_QUERY["status"]])

    def _list(self, query: dict[str, str], where: str, wparams: list):
        """Time GET /cases/?query beside raw SQL for the same page, total and facet counts
        (where: the filters over cases c, beside the visibility clause)."""
        path = "/cases/" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
        app = self._app_or_reason(lambda: self._app_get(path, self.reps))
        visible, vparams = self._visible()
        where = f"{visible} AND {where}" if where else visible
        params = [*vparams, *wparams]
        ids = f"SELECT c.id FROM cases c WHERE {where}"
        page_sql = self._p(
            f"SELECT c.id, c.title, c.reference, c.status, c.outcome, j.name, o.name, "
            f"c.updated_at FROM cases c JOIN jurisdictions j ON j.id = c.jurisdiction_id "
            f"JOIN organisations o ON o.id = c.lead_organisation_id WHERE {where} "
            f"ORDER BY c.updated_at DESC, c.id DESC LIMIT 25"
        )
        count_sql = self._p(f"SELECT count(*) FROM ({ids}) x")
        year = (
            "CAST(strftime('%Y', pr.filed_on) AS INTEGER)"
            if self.dialect == "sqlite"
            else "CAST(EXTRACT(YEAR FROM pr.filed_on) AS INTEGER)"
        )
        facets_sql = self._p(
            f"WITH m AS ({ids}) "
            "SELECT 'right', r.code, count(DISTINCT cr.case_id) FROM case_rights cr "
            "JOIN rights r ON r.id = cr.right_id WHERE cr.case_id IN (SELECT id FROM m) "
            "GROUP BY r.code "
            "UNION ALL SELECT 'jurisdiction', j.code, count(*) FROM cases c2 "
            "JOIN jurisdictions j ON j.id = c2.jurisdiction_id "
            "WHERE c2.id IN (SELECT id FROM m) GROUP BY j.code "
            "UNION ALL SELECT 'forum', f.code, count(DISTINCT pr.case_id) FROM proceedings pr "
            "JOIN forums f ON f.id = pr.forum_id WHERE pr.case_id IN (SELECT id FROM m) "
            "GROUP BY f.code "
            "UNION ALL SELECT 'status', c3.status, count(*) FROM cases c3 "
            "WHERE c3.id IN (SELECT id FROM m) GROUP BY c3.status "
            "UNION ALL SELECT 'outcome', c4.outcome, count(*) FROM cases c4 "
            "WHERE c4.id IN (SELECT id FROM m) GROUP BY c4.outcome "
            f"UNION ALL SELECT 'year', CAST({year} AS TEXT), count(DISTINCT pr.case_id) "
            "FROM proceedings pr WHERE pr.case_id IN (SELECT id FROM m) "
            f"AND pr.filed_on IS NOT NULL GROUP BY {year}"
        )
        conn = self.raw()
        found: dict[str, int] = {}

        def run():
            cur = conn.cursor()
            cur.execute(count_sql, params)
            found["total"] = cur.fetchone()[0]
            cur.execute(page_sql, params)
            cur.fetchall()
            cur.execute(facets_sql, params)
            cur.fetchall()

        try:
            raw = timed(run, self.reps)
        finally:
            conn.close()
        return app, raw, {"matching_cases": found.get("total"), "url": path}

    def case_page(self):
        ids = self.case_ids or [1]
        app = self._app_or_reason(
            lambda: self._case_pages_app(ids),
        )
        conn = self.raw()
        statements = [
            "SELECT c.*, j.code, j.name, o.name FROM cases c JOIN jurisdictions j ON "
            "j.id = c.jurisdiction_id JOIN organisations o ON o.id = c.lead_organisation_id "
            "WHERE c.id = ?",
            "SELECT pr.*, f.code, f.name, f.level FROM proceedings pr JOIN forums f ON "
            "f.id = pr.forum_id WHERE pr.case_id = ? ORDER BY pr.position",
            "SELECT t.* FROM proceeding_treatments t JOIN proceedings pr ON "
            "pr.id = t.proceeding_id WHERE pr.case_id = ?",
            "SELECT r.code, r.name FROM case_rights cr JOIN rights r ON r.id = cr.right_id "
            "WHERE cr.case_id = ?",
            "SELECT p.code, p.title FROM case_provisions cp JOIN provisions p ON "
            "p.id = cp.provision_id WHERE cp.case_id = ?",
            "SELECT e.* FROM events e WHERE e.case_id = ? ORDER BY e.occurred_on",
            "SELECT d.id, d.title, d.kind, d.language, d.size_bytes, d.uploaded_at "
            "FROM documents d WHERE d.case_id = ?",
            "SELECT p.role, p.pseudonym FROM parties p WHERE p.case_id = ?",
            "SELECT l.kind, l.target_case_id, c.title FROM case_links l JOIN cases c ON "
            "c.id = l.target_case_id WHERE l.source_case_id = ?",
            "SELECT m.user_id, u.name FROM case_members m JOIN users u ON u.id = m.user_id "
            "WHERE m.case_id = ?",
        ]
        statements = [self._p(s) for s in statements]
        counter = iter(range(10**9))

        def run():
            case_id = ids[next(counter) % len(ids)]
            cur = conn.cursor()
            for sql in statements:
                cur.execute(sql, [case_id])
                cur.fetchall()

        try:
            raw = timed(run, self.reps)
        finally:
            conn.close()
        return app, raw, {"case_ids": len(ids)}

    def _case_pages_app(self, ids: list[int]):
        if not self._has_endpoint(f"/cases/{ids[0]}"):
            raise Unavailable(MISSING)
        counter = iter(range(10**9))
        return timed(lambda: self._get(f"/cases/{ids[next(counter) % len(ids)]}"), self.reps)

    def patterns_matrix(self):
        app = self._app_or_reason(lambda: self._app_get("/patterns/", self.reps))
        visible, vparams = self._visible()
        year = (
            "strftime('%Y', pr.filed_on)"
            if self.dialect == "sqlite"
            else "EXTRACT(YEAR FROM pr.filed_on)"
        )
        sqls = [
            # rights x jurisdictions: proceedings, wins (patterns count at proceeding level)
            f"SELECT cr.right_id, c.jurisdiction_id, count(*), "
            f"sum(CASE WHEN pr.outcome IN ('win', 'partial_win') THEN 1 ELSE 0 END) "
            f"FROM proceedings pr JOIN cases c ON c.id = pr.case_id "
            f"JOIN case_rights cr ON cr.case_id = c.id WHERE {visible} "
            f"GROUP BY cr.right_id, c.jurisdiction_id",
            # outcomes over time
            f"SELECT {year}, pr.outcome, count(*) FROM proceedings pr JOIN cases c "
            f"ON c.id = pr.case_id WHERE {visible} AND pr.filed_on IS NOT NULL "
            f"GROUP BY {year}, pr.outcome",
            # the map
            f"SELECT c.jurisdiction_id, count(*) FROM cases c WHERE {visible} "
            f"GROUP BY c.jurisdiction_id",
            # provisions x forums
            f"SELECT t.provision_id, pr.forum_id, t.treatment, count(*) "
            f"FROM proceeding_treatments t JOIN proceedings pr ON pr.id = t.proceeding_id "
            f"JOIN cases c ON c.id = pr.case_id WHERE t.provision_id IS NOT NULL AND {visible} "
            f"GROUP BY t.provision_id, pr.forum_id, t.treatment",
        ]
        return app, self._raw_timed([(sql, vparams) for sql in sqls]), {}

    def patterns_filtered(self):
        """The patterns page on a right family and a period (PATTERNS_QUERY); the raw SQL
        does the same four aggregates on the base tables, within the period and the rows."""
        path = "/patterns/?" + "&".join(f"{k}={v}" for k, v in PATTERNS_QUERY.items())
        app = self._app_or_reason(lambda: self._app_get(path, self.reps))
        visible, vparams = self._visible()
        year = (
            "strftime('%Y', pr.filed_on)"
            if self.dialect == "sqlite"
            else "EXTRACT(YEAR FROM pr.filed_on)"
        )
        period = "pr.filed_on BETWEEN ? AND ?"
        dates = [PATTERNS_QUERY["filed_from"], PATTERNS_QUERY["filed_to"]]
        family = (
            "(SELECT id FROM rights WHERE code = ? UNION "
            "SELECT id FROM rights WHERE parent_id = (SELECT id FROM rights WHERE code = ?))"
        )
        code = [PATTERNS_QUERY["right"]] * 2
        statements = [
            # the family's rows x jurisdictions: distinct cases and wins within the period
            (
                f"SELECT cr.right_id, c.jurisdiction_id, count(DISTINCT c.id), "
                f"count(DISTINCT CASE WHEN pr.outcome IN ('win', 'partial_win') "
                f"THEN c.id END) FROM proceedings pr JOIN cases c ON c.id = pr.case_id "
                f"JOIN case_rights cr ON cr.case_id = c.id WHERE {visible} AND {period} "
                f"AND cr.right_id IN {family} GROUP BY cr.right_id, c.jurisdiction_id",
                [*vparams, *dates, *code],
            ),
            # filings and outcomes over time, of cases on the family
            (
                f"SELECT {year}, pr.outcome, count(DISTINCT c.id) FROM proceedings pr "
                f"JOIN cases c ON c.id = pr.case_id WHERE {visible} AND {period} "
                f"AND EXISTS (SELECT 1 FROM case_rights cr WHERE cr.case_id = c.id "
                f"AND cr.right_id IN {family}) GROUP BY {year}, pr.outcome",
                [*vparams, *dates, *code],
            ),
            # the map
            (
                f"SELECT c.jurisdiction_id, count(DISTINCT c.id) FROM cases c "
                f"JOIN proceedings pr ON pr.case_id = c.id WHERE {visible} AND {period} "
                f"GROUP BY c.jurisdiction_id",
                [*vparams, *dates],
            ),
            # provisions x forums
            (
                f"SELECT t.provision_id, pr.forum_id, t.treatment, count(DISTINCT c.id) "
                f"FROM proceeding_treatments t JOIN proceedings pr ON pr.id = t.proceeding_id "
                f"JOIN cases c ON c.id = pr.case_id WHERE t.provision_id IS NOT NULL "
                f"AND {visible} AND {period} GROUP BY t.provision_id, pr.forum_id, t.treatment",
                [*vparams, *dates],
            ),
        ]
        return app, self._raw_timed(statements), {"url": path}

    def opportunities(self):
        app = self._app_or_reason(lambda: self._app_get("/patterns/opportunities", self.reps))
        visible, vparams = self._visible()
        conn = self.raw()
        has_table = True
        try:
            conn.cursor().execute("SELECT 1 FROM opportunities WHERE 1 = 0")
        except Exception:
            has_table = False
            conn.rollback()
        # One row per (right, target) carries its ranking figures; the open rows every member
        # sees are those with a public or network win (the app adds private-only rows the
        # user can see, which the raw query leaves out: it is the lower bound).
        del visible, vparams
        where = "o.status IN ('open', 'assigned') AND o.open_wins > 0"
        count_sql = f"SELECT count(*) FROM opportunities o WHERE {where}"
        page_sql = (
            f"SELECT o.id, o.sources, o.score, r.name, j.name FROM opportunities o "
            f"JOIN rights r ON r.id = o.right_id "
            f"JOIN jurisdictions j ON j.id = o.target_jurisdiction_id WHERE {where} "
            f"ORDER BY o.score DESC, o.id LIMIT 25"
        )
        vparams = []
        count = {}

        def run():
            cur = conn.cursor()
            cur.execute(count_sql, vparams)
            count["n"] = cur.fetchone()[0]
            cur.execute(page_sql, vparams)
            cur.fetchall()

        try:
            raw = timed(run, self.reps) if has_table else MISSING
        finally:
            conn.close()
        return app, raw, {"opportunities": count.get("n")}

    # -- export
    def _raw_export(self, conn) -> int:
        """SQLite: one SELECT with aggregated codes, fetched in batches into csv.writer."""
        sql = self._raw_export_sql_pg().replace("string_agg", "group_concat")
        cur = conn.cursor()
        cur.execute(sql)
        return _write_csv(cur)

    def export_csv(self):
        path = "/reports/export?format=csv"
        reps = self.heavy_reps
        app: Any
        extra: dict[str, Any] = {}
        try:
            app = self._app_get(path, reps)
            app["peak_mb"] = peak_mb(lambda: self._get(path))
        except Unavailable as exc:
            app = str(exc)
        conn = self.raw()
        try:
            raw = timed(lambda: self._export(conn), reps)
            raw["peak_mb"] = peak_mb(lambda: self._export(conn))
            extra["rows"] = self._export(conn)
        finally:
            conn.close()
        return app, raw, extra

    def _export(self, conn) -> int:
        return self._pg_export(conn) if self.dialect == "postgresql" else self._raw_export(conn)

    def _pg_export(self, conn) -> int:
        # psycopg 3: a named cursor is server-side, so rows stream in batches.
        driver = conn.driver_connection if hasattr(conn, "driver_connection") else conn
        with driver.cursor(name="bench_export") as cur:
            cur.itersize = 5000
            agg_sql = self._raw_export_sql_pg()
            cur.execute(agg_sql)
            rows = _write_csv(cur)
        driver.rollback()
        return rows

    def _raw_export_sql_pg(self) -> str:
        return (
            "SELECT c.id, c.reference, o.name, c.title, c.case_type, c.confidentiality, "
            "c.status, c.outcome, j.code, j.name, c.opened_on, "
            "(SELECT string_agg(r.code, ';') FROM case_rights cr JOIN rights r "
            "ON r.id = cr.right_id WHERE cr.case_id = c.id), "
            "(SELECT string_agg(p.code, ';') FROM case_provisions cp JOIN provisions p "
            "ON p.id = cp.provision_id WHERE cp.case_id = c.id), "
            "(SELECT string_agg(po.name, ';') FROM case_partners pa JOIN organisations po "
            "ON po.id = pa.organisation_id WHERE pa.case_id = c.id), "
            "c.summary, c.strategic_aim, c.arguments, "
            "(SELECT string_agg(pt.role || ': ' || pt.pseudonym, ';') FROM parties pt "
            "WHERE pt.case_id = c.id), c.version "
            "FROM cases c JOIN jurisdictions j ON j.id = c.jurisdiction_id "
            "JOIN organisations o ON o.id = c.lead_organisation_id "
            "WHERE c.confidentiality IN ('public', 'network') ORDER BY c.id"
        )

    def export_csv_cli(self):
        """`tracker export cases --format csv` in a subprocess: wall time and peak RSS."""
        tracker = Path(sys.executable).with_name("tracker")
        conn = self.raw()
        try:
            raw = timed(lambda: self._export(conn), self.heavy_reps)
        finally:
            conn.close()
        if not tracker.exists():
            return "n/a (tracker command not installed)", raw, {}
        if "export" not in self.app.cli.commands:
            return MISSING, raw, {}
        env = {
            **os.environ,
            "TRACKER_DATABASE_URL": self.url,
            "TRACKER_ENV": "development",
            "TRACKER_SECRET_KEY": "bench-" + "x" * 40,
            "TRACKER_LOG_LEVEL": "WARNING",
        }
        times, peaks = [], []
        for _ in range(self.heavy_reps):
            started = time.perf_counter()
            proc = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
                [str(tracker), "export", "cases", "--format", "csv", "--output", os.devnull],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            _pid, status, usage = os.wait4(proc.pid, 0)
            elapsed = (time.perf_counter() - started) * 1000
            stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            proc.stderr.close()
            proc.returncode = os.waitstatus_to_exitcode(status)
            if proc.returncode != 0:
                return f"error (exit {proc.returncode}: {stderr.strip()[-120:]})", raw, {}
            times.append(elapsed)
            peaks.append(usage.ru_maxrss / 1024)  # kilobytes on Linux
        app = {
            "median_ms": round(statistics.median(times), 2),
            "p95_ms": round(percentile(times, 95), 2),
            "reps": len(times),
            "peak_rss_mb": round(max(peaks), 1),
        }
        return app, raw, {"note": "app time includes starting the command (~1-2 s)"}

    # -- import
    def _import_rows(self) -> list[dict[str, str]]:
        conn = self.raw()
        agg = "group_concat" if self.dialect == "sqlite" else "string_agg"
        sql = (
            "SELECT c.title, c.case_type, c.status, c.outcome, j.code, c.opened_on, "
            f"(SELECT {agg}(r.code, ';') FROM case_rights cr JOIN rights r "
            "ON r.id = cr.right_id WHERE cr.case_id = c.id), "
            f"(SELECT {agg}(p.code, ';') FROM case_provisions cp JOIN provisions p "
            "ON p.id = cp.provision_id WHERE cp.case_id = c.id), c.summary "
            "FROM cases c JOIN jurisdictions j ON j.id = c.jurisdiction_id "
            f"ORDER BY c.id LIMIT {IMPORT_ROWS}"
        )
        try:
            cur = conn.cursor()
            cur.execute(sql)
            rows = cur.fetchall()
        finally:
            conn.close()
        out = []
        for i, (title, ctype, status, outcome, jur, opened, rights, provs, summary) in enumerate(
            rows
        ):
            out.append(
                {
                    "reference": f"{IMPORT_PREFIX}{i:05d}",
                    "lead_organisation": "",
                    "title": title,
                    "case_type": ctype,
                    "confidentiality": "network",
                    "status": status,
                    "outcome": outcome,
                    "jurisdiction": jur,
                    "opened_on": str(opened or "")[:10],
                    "rights": rights or "",
                    "provisions": provs or "",
                    "summary": summary or "",
                }
            )
        return out

    def _delete_imported(self) -> None:
        """Delete the imported cases through the app, so that their derived rows (patterns
        facts and totals, opportunity facts) go with them as after any delete. A raw DELETE
        left them behind: the totals drifted, and the next repetition, given the same ids
        again (SQLite), found them already counted and did less work. Never timed."""
        try:
            from tracker.patterns.services import cases_changed
        except ImportError:  # an app without derived data: nothing else to remove
            cases_changed = None
        from sqlalchemy import delete, select

        from tracker.cases.models import Case

        db = self.db
        with self.app.app_context():
            ids = db.session.scalars(
                select(Case.id).where(Case.reference.like(IMPORT_PREFIX + "%"))
            ).all()
            if ids:
                db.session.execute(delete(Case).where(Case.id.in_(ids)))
                if cases_changed is not None:
                    cases_changed(ids)
                db.session.commit()
            db.session.remove()

    def import_10k(self):
        rows = self._import_rows()
        extra: dict[str, Any] = {"rows": len(rows)}
        reps = self.heavy_reps
        # Removing the imported cases between repetitions makes the database check every
        # row that points at a case; opportunities.created_case_id has no index, so each
        # deleted case scans the opportunities. A temporary index keeps the clean-up (never
        # timed) from taking minutes; it is dropped afterwards.
        self._helper_index("CREATE INDEX bench_tmp_opp_created ON opportunities (created_case_id)")
        try:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "import.csv"
                with path.open("w", newline="", encoding="utf-8") as fh:
                    writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
                    writer.writeheader()
                    writer.writerows(rows)
                app = self._app_or_reason(lambda: self._app_import(path, reps))
            raw = self._raw_import(rows, reps)
            self._delete_imported()
        finally:
            self._helper_index("DROP INDEX bench_tmp_opp_created")
        return app, raw, extra

    def _helper_index(self, sql: str) -> None:
        conn = self.raw()
        try:
            conn.cursor().execute(sql)
            conn.commit()
        except Exception:  # an older schema without the table: nothing to help
            conn.rollback()
        finally:
            conn.close()

    def _app_import(self, path: Path, reps: int):
        if "import" not in self.app.cli.commands:
            raise Unavailable(MISSING)
        runner = self.app.test_cli_runner()
        args = ["import", "cases", str(path), "--as-user", self.litigator.email]
        times, cpu = [], []
        for _ in range(reps):
            self._delete_imported()
            started, started_cpu = time.perf_counter(), time.process_time()
            result = runner.invoke(args=args)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            if result.exit_code != 0:
                detail = (result.output or str(result.exception) or "").strip().splitlines()
                raise Unavailable(f"error (import: {(detail or ['?'])[-1][:140]})")
        self._delete_imported()
        return {
            "median_ms": round(statistics.median(times), 2),
            "p95_ms": round(percentile(times, 95), 2),
            "cpu_median_ms": round(statistics.median(cpu), 2),
            "reps": reps,
        }

    def _raw_import(self, rows: list[dict[str, str]], reps: int) -> dict[str, Any]:
        conn = self.raw()
        cur = conn.cursor()
        cur.execute("SELECT id, code FROM jurisdictions")
        jurisdictions = {code: jid for jid, code in cur.fetchall()}
        cur.execute("SELECT id, code FROM rights")
        rights = {code: rid for rid, code in cur.fetchall()}
        cur.execute("SELECT id, code FROM provisions")
        provisions = {code: pid for pid, code in cur.fetchall()}
        cur.execute(self._p("SELECT organisation_id FROM users WHERE id = ?"), [self.litigator.id])
        org = cur.fetchone()[0]
        conn.commit()
        now = datetime.now(UTC).replace(tzinfo=None)
        stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f") if self.dialect == "sqlite" else now
        insert_case = self._p(
            "INSERT INTO cases (reference, title, case_type, summary, jurisdiction_id, "
            "lead_organisation_id, confidentiality, status, outcome, opened_on, created_by_id, "
            "created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, 'network', ?, ?, ?, ?, "
            "?, ?, 1)"
        )
        insert_right = self._p("INSERT INTO case_rights (case_id, right_id) VALUES (?, ?)")
        insert_prov = self._p("INSERT INTO case_provisions (case_id, provision_id) VALUES (?, ?)")

        def run():
            self._delete_imported_with(conn)
            started, started_cpu = time.perf_counter(), time.process_time()
            c = conn.cursor()
            if self.dialect == "sqlite":  # the pool's connections run in autocommit mode
                c.execute("BEGIN")
            c.executemany(
                insert_case,
                [
                    (
                        r["reference"],
                        r["title"],
                        r["case_type"],
                        r["summary"],
                        jurisdictions[r["jurisdiction"]],
                        org,
                        r["status"],
                        r["outcome"],
                        r["opened_on"] or None,
                        self.litigator.id,
                        stamp,
                        stamp,
                    )
                    for r in rows
                ],
            )
            c.execute(
                self._p("SELECT reference, id FROM cases WHERE reference LIKE ?"),
                [IMPORT_PREFIX + "%"],
            )
            ids = dict(c.fetchall())
            c.executemany(
                insert_right,
                [
                    (ids[r["reference"]], rights[code])
                    for r in rows
                    for code in filter(None, r["rights"].split(";"))
                ],
            )
            c.executemany(
                insert_prov,
                [
                    (ids[r["reference"]], provisions[code])
                    for r in rows
                    for code in filter(None, r["provisions"].split(";"))
                ],
            )
            conn.commit()
            wall = time.perf_counter() - started
            return wall * 1000, (time.process_time() - started_cpu) * 1000

        times, cpu = [], []
        try:
            run()  # warm-up
            for _ in range(reps):
                wall, used = run()
                times.append(wall)
                cpu.append(used)
            self._delete_imported_with(conn)
        finally:
            conn.close()
        return {
            "median_ms": round(statistics.median(times), 2),
            "p95_ms": round(percentile(times, 95), 2),
            "cpu_median_ms": round(statistics.median(cpu), 2),
            "reps": reps,
        }

    def _delete_imported_with(self, conn) -> None:
        cur = conn.cursor()
        cur.execute(self._p("DELETE FROM cases WHERE reference LIKE ?"), [IMPORT_PREFIX + "%"])
        conn.commit()

    # -- running
    def _app_or_reason(self, fn):
        try:
            return fn()
        except Unavailable as exc:
            return str(exc)

    def run(self, only: tuple[str, ...] = OPERATIONS) -> dict[str, Any]:
        results: dict[str, Any] = {}
        for name in only:
            started = time.perf_counter()
            try:
                app, raw, extra = getattr(self, name)()
            except Exception as exc:
                reason = f"error ({type(exc).__name__}: {str(exc)[:160]})"
                app, raw, extra = reason, reason, {}
            entry: dict[str, Any] = {"app": app, "raw": raw, **extra}
            if isinstance(app, dict) and isinstance(raw, dict) and raw["median_ms"] > 0:
                entry["ratio"] = round(app["median_ms"] / raw["median_ms"], 2)
            else:
                entry["ratio"] = "n/a"
            both = isinstance(app, dict) and isinstance(raw, dict)
            if both and raw.get("cpu_median_ms") and app.get("cpu_median_ms") is not None:
                entry["cpu_ratio"] = round(app["cpu_median_ms"] / raw["cpu_median_ms"], 2)
            results[name] = entry
            self.log(f"  {name}: {time.perf_counter() - started:.1f} s")
        return results


def _write_csv(cursor) -> int:
    writer = csv.writer(_NullWriter())
    writer.writerow([column[0] for column in cursor.description])
    rows = 0
    while True:
        batch = cursor.fetchmany(5000)
        if not batch:
            return rows
        writer.writerows(batch)
        rows += len(batch)


@dataclass(frozen=True)
class _Person:
    id: int
    email: str
    organisation_id: int


class _NullWriter:
    """A file-like sink for csv.writer that only counts characters."""

    def __init__(self) -> None:
        self.chars = 0

    def write(self, text: str) -> int:
        self.chars += len(text)
        return len(text)


# --- Output ------------------------------------------------------------------------------------
def _fmt(value: Any) -> str:
    if isinstance(value, int | float):
        return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"
    return str(value)


def summary_table(results: dict[str, Any]) -> str:
    head = (
        f"{'operation':<16} {'app median':>11} {'app p95':>10} {'raw median':>11} "
        f"{'raw p95':>10} {'app/raw':>8}  notes"
    )
    lines = [head, "-" * len(head)]
    for name, entry in results.items():
        app, raw = entry["app"], entry["raw"]
        notes = []
        for side, data in (("app", app), ("raw", raw)):
            if isinstance(data, dict):
                if "peak_mb" in data:
                    notes.append(f"{side} peak {data['peak_mb']} MB (tracemalloc)")
                if "peak_rss_mb" in data:
                    notes.append(f"{side} peak RSS {data['peak_rss_mb']} MB")
            else:
                notes.append(f"{side}: {data}")
        for key in ("matching_cases", "opportunities", "rows"):
            if entry.get(key) is not None:
                notes.append(f"{key}={entry[key]}")
        cells = []
        for data in (app, raw):
            if isinstance(data, dict):
                cells += [_fmt(data["median_ms"]) + " ms", _fmt(data["p95_ms"]) + " ms"]
            else:
                cells += ["n/a", "n/a"]
        ratio = entry["ratio"]
        ratio_text = f"{ratio:.1f}x" if isinstance(ratio, int | float) else "n/a"
        if isinstance(app, dict) and app.get("cpu_median_ms") is not None:
            notes.insert(0, f"app cpu {_fmt(app['cpu_median_ms'])} ms")
        if entry.get("cpu_ratio") is not None:
            notes.insert(1, f"cpu ratio {entry['cpu_ratio']:.1f}x")
        lines.append(
            f"{name:<16} {cells[0]:>11} {cells[1]:>10} {cells[2]:>11} {cells[3]:>10} "
            f"{ratio_text:>8}  {'; '.join(notes)}"
        )
    return "\n".join(lines)


def compare(current: dict[str, Any], earlier_path: Path) -> str:
    earlier = json.loads(earlier_path.read_text())
    lines = [
        f"Change against {earlier_path.name} ({earlier['meta'].get('db')}, "
        f"{earlier['meta'].get('size')} cases):",
        f"{'operation':<16} {'side':<4} {'before':>12} {'now':>12} {'change':>8}",
    ]
    for name, entry in current["operations"].items():
        before = earlier.get("operations", {}).get(name)
        if before is None:
            lines.append(f"{name:<16} (not in the earlier file)")
            continue
        for side in ("app", "raw"):
            old, new = before.get(side), entry.get(side)
            if isinstance(old, dict) and isinstance(new, dict) and old["median_ms"]:
                change = (new["median_ms"] - old["median_ms"]) / old["median_ms"] * 100
                lines.append(
                    f"{name:<16} {side:<4} {_fmt(old['median_ms']):>9} ms "
                    f"{_fmt(new['median_ms']):>9} ms {change:>+7.0f}%"
                )
            else:
                lines.append(f"{name:<16} {side:<4} {str(old)[:12]:>12} {str(new)[:12]:>12}")
    return "\n".join(lines)


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except OSError:
        return None
    return out.stdout.strip() or None


# --- Main ----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=os.environ.get("SIZES", "100000 1000000"))
    parser.add_argument("--dbs", default=os.environ.get("BENCH_DBS", "sqlite postgresql"))
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--reps", type=int, default=int(os.environ.get("BENCH_REPS", "20")))
    parser.add_argument(
        "--heavy-reps",
        type=int,
        default=None,
        help="Repetitions of the exports and the import (default: min(reps, 3)).",
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "bench" / "cache")
    parser.add_argument("--only", default=None, help="Comma-separated operations to run.")
    parser.add_argument("--compare", type=Path, default=None, help="An earlier result file.")
    args = parser.parse_args(argv)

    heavy = args.heavy_reps if args.heavy_reps is not None else max(1, min(args.reps, 3))
    only = tuple(args.only.split(",")) if args.only else OPERATIONS
    unknown = [o for o in only if o not in OPERATIONS]
    if unknown:
        parser.error(f"unknown operation(s): {', '.join(unknown)}; choose from {OPERATIONS}")
    try:
        sizes = [int(s) for s in args.sizes.replace(",", " ").split()]
    except ValueError:
        parser.error(f"--sizes must be numbers, not {args.sizes!r}")
    if not sizes or min(sizes) < 50:
        parser.error("--sizes: give at least one size of 50 cases or more")
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    dbs = args.dbs.replace(",", " ").split()

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for db_name in dbs:
        if db_name not in ("sqlite", "postgresql"):
            parser.error(f"unknown database {db_name!r} (sqlite or postgresql)")
        if db_name == "postgresql":
            problem = postgres_reachable(args.pg_url)
            if problem:
                log(f"PostgreSQL not reachable at {args.pg_url} ({problem}); skipped.")
                continue
        for size in sizes:
            log(f"\n== {db_name}, {size:,} cases ==")
            if db_name == "sqlite":
                url, info = prepare_sqlite(size, args.seed, args.cache_dir, log)
                database = working_copy(url, log)
            else:
                url, info = prepare_postgres(args.pg_url, size, args.seed, log)
                database = nullcontext(url)
            with database as url:
                bench = Bench(url, args.reps, heavy, log)
                try:
                    operations = bench.run(only)
                finally:
                    bench.close()
            result = {
                "meta": {
                    "date": datetime.now(UTC).isoformat(timespec="seconds"),
                    "db": db_name,
                    "size": size,
                    "seed": args.seed,
                    "reps": args.reps,
                    "heavy_reps": heavy,
                    "query": QUERY,
                    "filter_query": FILTER_QUERY,
                    "commit": git_commit(),
                    "python": platform.python_version(),
                    "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
                    "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
                    "data": info,
                },
                "operations": operations,
            }
            name = f"{date.today().isoformat()}-{db_name}-{size}.json"
            path = args.out / name
            path.write_text(json.dumps(result, indent=2, default=str) + "\n")
            written.append(path)
            print(f"\n{db_name}, {size:,} cases ({path}):")
            print(summary_table(operations))
            if args.compare:
                print()
                print(compare(result, args.compare))
    if not written:
        log("Nothing was measured.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
