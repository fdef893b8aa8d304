"""Realistic generated data for demos and benchmarks (`tracker demo --cases N --seed S`).

The same seed and the same `today` give the same rows. Rows are built as plain dicts in
chunks of cases and written with executemany (`insert(table)` with a list), children after
parents, with ids allocated up front: no ORM unit of work per row. Each chunk is committed
so that a million cases never sit in one SQLite WAL; a run that fails half-way leaves the
chunks written so far, which `--reset` clears.

Documents are database rows only (extracted text and the SHA-256 of that text); no files
are written to UPLOAD_DIR, so downloading a demo document finds no file.
"""

from __future__ import annotations

import bisect
import hashlib
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import Date, Table, delete, func, insert, inspect, select, text, update

from tracker.auth.models import (
    ApiToken,
    Organisation,
    User,
    UserSession,
    organisation_jurisdictions,
)
from tracker.cases.models import (
    Case,
    CaseLink,
    CaseMember,
    CaseType,
    Compliance,
    Event,
    EventKind,
    Implementation,
    LinkKind,
    Outcome,
    Party,
    PartyRole,
    Proceeding,
    ProceedingTreatment,
    Status,
    TeamRole,
    Treatment,
    case_partners,
    case_provisions,
    case_rights,
)
from tracker.demo import vocabulary as V
from tracker.documents.models import Document, DocumentKind
from tracker.extensions import db
from tracker.taxonomy.models import (
    Forum,
    ForumLevel,
    Instrument,
    Jurisdiction,
    JurisdictionKind,
    Provision,
    Ratification,
    Right,
    SystemMembership,
    provision_rights,
)
from tracker.types import Confidentiality, Role, UTCDateTime

DEMO_PASSWORD = "demo-password-123!"  # noqa: S105 - printed for demos; passes the policy
DEMO_EMAIL_SUFFIX = ".example.org"  # demo users are first.last@<slug>.example.org
BULK_THRESHOLD = 5_000  # from this many cases, the search index is rebuilt once at the end
GENERIC_FORUM_NOTE = "Generic forum created by the demo data generator."
CHUNK = 2_000  # cases per chunk: ~30,000 rows over all tables, written in one executemany each
YEARS = 30

# Tables the generator writes, parents first (the order rows are inserted and digested).
TABLES: tuple[Table, ...] = (
    Organisation.__table__,
    organisation_jurisdictions,
    User.__table__,
    Forum.__table__,
    Case.__table__,
    case_partners,
    case_rights,
    case_provisions,
    CaseMember.__table__,
    Party.__table__,
    Proceeding.__table__,
    ProceedingTreatment.__table__,
    Implementation.__table__,
    Event.__table__,
    CaseLink.__table__,
    Document.__table__,
)
# Never part of the digest: salted hashes differ on every run.
_NOT_DIGESTED = frozenset({"password_hash"})

# Popularity of the primary right of a case (codes from rights.csv; others get weight 0.5).
RIGHT_WEIGHTS = {
    "non-refoulement": 14,
    "liberty": 12,
    "detention-conditions": 8,
    "asylum": 8,
    "collective-expulsion": 6,
    "family-life": 6,
    "child-detention": 5,
    "best-interests-of-the-child": 5,
    "access-to-territory": 5,
    "effective-remedy": 5,
    "torture": 4,
    "health": 4,
    "non-discrimination": 4,
    "fair-trial": 3,
    "life": 3,
    "trafficking": 3,
    "labour-rights": 3,
    "family-reunification": 3,
    "procedural-safeguards-expulsion": 3,
    "education": 2,
    "housing": 2,
    "nationality": 2,
    "racial-discrimination": 2,
    "access-to-justice": 2,
}
# The states with most litigation in the network, in order; the rest follow a Zipf tail.
HEAD_STATES = ("GR", "IT", "ES", "FR", "DE", "GB", "MX", "US", "CO", "ZA", "KE")
ZIPF_EXPONENT = 1.05

# Outcome of the last decided proceeding of a case, by forum level.
FINAL_OUTCOMES = (
    (Outcome.WIN, 0.30),
    (Outcome.PARTIAL_WIN, 0.18),
    (Outcome.LOSS, 0.30),
    (Outcome.INADMISSIBLE, 0.10),
    (Outcome.SETTLED, 0.06),
    (Outcome.WITHDRAWN, 0.06),
)
# An earlier proceeding of a chain (the case moved on): mostly lost.
EARLIER_OUTCOMES = ((Outcome.LOSS, 0.72), (Outcome.PARTIAL_WIN, 0.16), (Outcome.WIN, 0.12))
# Days from filing to decision, by level.
DURATION = {
    ForumLevel.FIRST_INSTANCE: (60, 700),
    ForumLevel.APPEAL: (120, 800),
    ForumLevel.APEX: (180, 1100),
    ForumLevel.CONSTITUTIONAL: (200, 1300),
    ForumLevel.REGIONAL_COURT: (600, 2600),
    ForumLevel.REGIONAL_COMMISSION: (400, 2200),
    ForumLevel.TREATY_BODY: (450, 1900),
    ForumLevel.UN_SPECIAL_PROCEDURE: (20, 300),
}
INTERNATIONAL = frozenset(
    {
        ForumLevel.REGIONAL_COURT,
        ForumLevel.REGIONAL_COMMISSION,
        ForumLevel.TREATY_BODY,
        ForumLevel.UN_SPECIAL_PROCEDURE,
    }
)
CONFIDENTIALITY = (
    (Confidentiality.NETWORK, 0.70),
    (Confidentiality.PUBLIC, 0.15),
    (Confidentiality.ORGANISATION, 0.10),
    (Confidentiality.RESTRICTED, 0.05),
)
UN_COMPLAINT_FORUMS = ("HRC", "CAT-COMM", "CRC-COMM", "CESCR", "CEDAW-COMM", "CERD")
REGIONAL_FORUMS = {"COE": ("ECTHR",), "IAS": ("IACHR",), "AFR": ("ACHPR-COMM",)}


class DemoError(RuntimeError):
    """The demo data cannot be generated (missing schema or reference data, bad options)."""


@dataclass
class DemoResult:
    counts: dict[str, int]
    seconds: float
    users: list[tuple[str, str, str]] = field(default_factory=list)  # email, role, organisation
    password: str | None = None
    case_ids: tuple[int, int] | None = None  # first and last generated case id
    derived: str = ""  # what was rebuilt from the generated data, and how long it took


def _weighted(pairs: Iterable[tuple[Any, float]]) -> tuple[list[Any], list[float]]:
    values, cum, total = [], [], 0.0
    for value, weight in pairs:
        total += weight
        values.append(value)
        cum.append(total)
    return values, [c / total for c in cum]


def _pick(rand: Callable[[], float], table: tuple[list[Any], list[float]]) -> Any:
    values, cum = table
    return values[min(bisect.bisect_right(cum, rand()), len(values) - 1)]


# --- Reference data ------------------------------------------------------------------------
@dataclass
class _Forum:
    id: int
    code: str
    name: str
    level: ForumLevel
    instrument: str | None
    limit_months: int | None
    limit_basis: str | None


@dataclass
class _State:
    id: int
    code: str
    name: str
    title_name: str
    language: str
    bound: frozenset[str]  # instrument codes the state is a party to
    domestic_top: list[_Forum]  # apex and constitutional courts from the reference data
    first_instance: _Forum | None
    international: list[_Forum]  # regional bodies and UN procedures open to its people


class _Reference:
    """Everything the generator reads from the reference tables, looked up once."""

    def __init__(self, session) -> None:
        jur = session.execute(
            select(Jurisdiction.id, Jurisdiction.code, Jurisdiction.name, Jurisdiction.kind)
        ).all()
        states = {
            code: (jid, name) for jid, code, name, kind in jur if kind == JurisdictionKind.STATE
        }
        systems = {code: jid for jid, code, _n, kind in jur if kind == JurisdictionKind.SYSTEM}
        if len(states) < 20:
            raise DemoError("The reference data has too few jurisdictions to generate demo data.")
        system_code = {jid: code for code, jid in systems.items()}
        member_of: dict[int, set[str]] = defaultdict(set)
        for system_id, state_id, left_on in session.execute(
            select(SystemMembership.system_id, SystemMembership.state_id, SystemMembership.left_on)
        ):
            if left_on is None and system_id in system_code:
                member_of[state_id].add(system_code[system_id])

        instruments = dict(session.execute(select(Instrument.id, Instrument.code)).all())
        complaint_via = {
            instruments[iid]: instruments.get(via)
            for iid, via in session.execute(select(Instrument.id, Instrument.complaint_via_id))
        }
        bound: dict[int, set[str]] = defaultdict(set)
        accepts: dict[int, set[str]] = defaultdict(set)
        for iid, jid, rat_on, rat_year, accepted, denounced in session.execute(
            select(
                Ratification.instrument_id,
                Ratification.jurisdiction_id,
                Ratification.ratified_on,
                Ratification.ratified_year,
                Ratification.complaints_accepted_on,
                Ratification.denounced_on,
            )
        ):
            if (rat_on or rat_year) and denounced is None:
                bound[jid].add(instruments[iid])
                if accepted is not None:
                    accepts[jid].add(instruments[iid])

        self.forums: dict[str, _Forum] = {}
        by_state: dict[int, list[_Forum]] = defaultdict(list)
        for row in session.execute(
            select(
                Forum.id,
                Forum.code,
                Forum.name,
                Forum.level,
                Forum.instrument_id,
                Forum.filing_limit_months,
                Forum.filing_limit_basis,
                Forum.jurisdiction_id,
            ).order_by(Forum.code)
        ):
            forum = _Forum(row[0], row[1], row[2], row[3], instruments.get(row[4]), row[5], row[6])
            self.forums[forum.code] = forum
            by_state[row[7]].append(forum)

        self.states: list[_State] = []
        for code in sorted(states):
            jid, name = states[code]
            # About 190 states: UN members (and any state a system lists) make the demo map.
            if not member_of[jid]:
                continue
            own = by_state.get(jid, [])
            tops = [f for f in own if f.level in (ForumLevel.APEX, ForumLevel.CONSTITUTIONAL)]
            first = next((f for f in own if f.level == ForumLevel.FIRST_INSTANCE), None)
            intl: list[_Forum] = []
            for system in sorted(member_of[jid]):
                for fcode in REGIONAL_FORUMS.get(system, ()):
                    if fcode in self.forums:
                        intl.append(self.forums[fcode])
            for fcode in UN_COMPLAINT_FORUMS:
                forum = self.forums.get(fcode)
                if forum is None or forum.instrument not in bound[jid]:
                    continue
                via = complaint_via.get(forum.instrument)
                if forum.instrument in accepts[jid] or (via and via in bound[jid]):
                    intl.append(forum)
            for fcode in ("SR-MIGRANTS", "WGAD"):
                if fcode in self.forums:
                    intl.append(self.forums[fcode])
            self.states.append(
                _State(
                    id=jid,
                    code=code,
                    name=name,
                    title_name=V.SHORT_COUNTRY_NAMES.get(code, name),
                    language=V.LANGUAGE_OF.get(code, "en"),
                    bound=frozenset(bound[jid]),
                    domestic_top=tops,
                    first_instance=first,
                    international=intl,
                )
            )
        if len(self.states) < 20:
            raise DemoError("The reference data lists too few member states of any system.")
        self.state_by_code = {s.code: s for s in self.states}

        # Rights: leaves of the taxonomy (cases are tagged with specific rights).
        rights = session.execute(select(Right.id, Right.code, Right.parent_id, Right.name)).all()
        parents = {r.parent_id for r in rights if r.parent_id is not None}
        leaves = sorted((r for r in rights if r.id not in parents), key=lambda r: r.code)
        if not leaves:
            raise DemoError("The reference data has no rights.")
        self.right_name = {r.id: r.name for r in rights}
        self.right_parent = {r.id: r.parent_id for r in leaves}
        self.right_table = _weighted((r.id, RIGHT_WEIGHTS.get(r.code, 0.5)) for r in leaves)
        self.rights_by_parent: dict[int | None, list[int]] = defaultdict(list)
        for r in leaves:
            self.rights_by_parent[r.parent_id].append(r.id)
        leaf_ids = {r.id for r in leaves}

        # Provisions and the crosswalk.
        self.provision_instrument: dict[int, str] = {}
        self.provision_code: dict[int, str] = {}
        for pid, pcode, iid in session.execute(
            select(Provision.id, Provision.code, Provision.instrument_id).order_by(Provision.code)
        ):
            self.provision_instrument[pid] = instruments[iid]
            self.provision_code[pid] = pcode
        self.provision_rights: dict[int, list[int]] = defaultdict(list)
        self.provisions_for_right: dict[int, list[int]] = defaultdict(list)
        for pid, rid in session.execute(
            select(provision_rights.c.provision_id, provision_rights.c.right_id).order_by(
                provision_rights.c.provision_id, provision_rights.c.right_id
            )
        ):
            if rid in leaf_ids:
                self.provision_rights[pid].append(rid)
                self.provisions_for_right[rid].append(pid)
        self._candidates: dict[tuple[int, int, str | None], list[int]] = {}

    def provisions_for(self, state: _State, right_id: int, prefer: str | None) -> list[int]:
        """Provisions mapped to the right, of instruments the state is bound by."""
        key = (state.id, right_id, prefer)
        found = self._candidates.get(key)
        if found is None:
            all_ = [
                p
                for p in self.provisions_for_right.get(right_id, ())
                if self.provision_instrument[p] in state.bound
            ]
            preferred = [p for p in all_ if self.provision_instrument[p] == prefer]
            found = preferred or all_
            self._candidates[key] = found
        return found


# --- The generator -------------------------------------------------------------------------
class _Ids:
    """Id ranges allocated up front, after the largest id already in each table."""

    def __init__(self, session) -> None:
        self._next: dict[str, int] = {}
        for table in TABLES:
            if "id" in table.c:
                top = session.scalar(select(func.max(table.c.id))) or 0
                self._next[table.name] = top + 1

    def take(self, table: Table) -> int:
        value = self._next[table.name]
        self._next[table.name] = value + 1
        return value


class _BulkWriter:
    """Writes lists of row dicts with the driver's fastest bulk path, children after parents.

    SQLite: one executemany of tuples per table and chunk. PostgreSQL: COPY FROM STDIN.
    Values are converted here as SQLAlchemy would store them (dates as ISO text on SQLite,
    UTC datetimes as naive UTC), since the SQLAlchemy type layer is bypassed for speed.
    """

    def __init__(self, session) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name
        self._plans: dict[tuple[str, tuple[str, ...]], tuple[str, list]] = {}

    def _plan(self, table: Table, columns: tuple[str, ...]):
        key = (table.name, columns)
        plan = self._plans.get(key)
        if plan is None:
            converters = []
            for name in columns:
                column_type = table.c[name].type
                if isinstance(column_type, UTCDateTime):
                    converters.append(_sqlite_datetime if self.dialect == "sqlite" else _naive_utc)
                elif isinstance(column_type, Date):
                    converters.append(_iso_date if self.dialect == "sqlite" else None)
                else:
                    converters.append(None)
            names = ", ".join(columns)
            if self.dialect == "postgresql":
                sql = f"COPY {table.name} ({names}) FROM STDIN"
            else:
                marks = ", ".join("?" for _ in columns)
                sql = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"  # noqa: S608
            plan = self._plans[key] = (sql, converters)
        return plan

    def write(self, table: Table, rows: list[dict[str, Any]]) -> None:
        columns = tuple(rows[0])
        sql, converters = self._plan(table, columns)
        special = [(i, f) for i, f in enumerate(converters) if f is not None]
        tuples = []
        for row in rows:
            values = [row[c] for c in columns]
            for i, convert in special:
                if values[i] is not None:
                    values[i] = convert(values[i])
            tuples.append(values)
        conn = self.session.connection()
        if self.dialect == "postgresql":
            raw = conn.connection.driver_connection
            with raw.cursor() as cursor, cursor.copy(sql) as copy:
                for values in tuples:
                    copy.write_row(values)
        elif self.dialect == "sqlite":
            conn.exec_driver_sql(sql, [tuple(v) for v in tuples])
        else:  # any other database: the portable (slower) path
            conn.execute(insert(table), rows)


@cache
def _office_hours(day: date) -> datetime:
    """A deterministic time of day for a record made on a day (UTC office hours)."""
    ordinal = day.toordinal()
    return datetime(day.year, day.month, day.day, 8 + ordinal % 9, (ordinal * 7) % 60, tzinfo=UTC)


@lru_cache(maxsize=65536)
def _iso_date(value: date) -> str:
    return value.isoformat()


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


@lru_cache(maxsize=65536)
def _sqlite_datetime(value: datetime) -> str:
    # The text SQLAlchemy's SQLite DATETIME type stores.
    return _naive_utc(value).strftime("%Y-%m-%d %H:%M:%S.%f")


class _Generator:
    def __init__(self, session, *, seed: int, today: date, users_can_sign_in: bool) -> None:
        self.session = session
        self.rng = random.Random(seed)
        self.rand = self.rng.random
        self.today = today
        self.users_can_sign_in = users_can_sign_in
        self.ref = _Reference(session)
        self.ids = _Ids(session)
        self.writer = _BulkWriter(session)
        self.rows: dict[Table, list[dict[str, Any]]] = {t: [] for t in TABLES}
        self.counts: dict[str, int] = defaultdict(int)
        self.users_created: list[tuple[str, str, str]] = []
        self.new_forums: dict[str, _Forum] = {}
        self.wins_by_right: dict[int, list[int]] = defaultdict(list)
        self.cases_by_state: dict[int, list[int]] = defaultdict(list)
        self.outcome_table = _weighted(FINAL_OUTCOMES)
        self.earlier_table = _weighted(EARLIER_OUTCOMES)
        self.conf_table = _weighted(CONFIDENTIALITY)
        self.sentences = self._sentence_pool()
        # Zipf over states: the head in order, then the rest shuffled by the seed.
        tail = [s for s in self.ref.states if s.code not in HEAD_STATES]
        self.rng.shuffle(tail)
        head = [self.ref.state_by_code[c] for c in HEAD_STATES if c in self.ref.state_by_code]
        ordered = head + tail
        self.state_table = _weighted(
            (s, 1.0 / (rank + 1) ** ZIPF_EXPONENT) for rank, s in enumerate(ordered)
        )

    def _sentence_pool(self) -> dict[str, list[str]]:
        """Pre-rendered sentences per language; each case adds one sentence of its own."""
        names = list(self.ref.right_name.values())
        forums = sorted(self.ref.forums.values(), key=lambda f: f.code)
        pool: dict[str, list[str]] = {}
        for language in sorted(V.SENTENCES):
            pool[language] = [
                _sentence(
                    self,
                    language,
                    self._choice(self.ref.states),
                    self._choice(forums),
                    self._choice(names),
                )
                for _ in range(400)
            ]
        for language in set(V.LANGUAGE_OF.values()) - set(pool):
            pool[language] = pool["en"]
        return pool

    # -- helpers
    def _int(self, low: int, high: int) -> int:
        return low + int(self.rand() * (high - low + 1))

    def _choice(self, seq):
        return seq[int(self.rand() * len(seq))]

    @staticmethod
    def _at(day: date) -> datetime:
        return _office_hours(day)

    def _add(self, table: Table, row: dict[str, Any]) -> dict[str, Any]:
        self.rows[table].append(row)
        return row

    def _flush(self) -> None:
        for table in TABLES:
            rows = self.rows[table]
            if rows:
                self.writer.write(table, rows)
                self.counts[table.name] += len(rows)
                self.rows[table] = []

    # -- organisations and users
    def organisations(self) -> None:
        existing = dict(self.session.execute(select(Organisation.name, Organisation.id)).all())
        taken_emails = set(self.session.scalars(select(User.email)))
        password_hash = None
        if self.users_can_sign_in:
            from tracker.auth.services import hash_password

            password_hash = hash_password(DEMO_PASSWORD)
        created_on = self.today - timedelta(days=365 * 3)
        self.orgs: list[dict[str, Any]] = []
        for index, (name, short, home, slug, extra) in enumerate(V.ORGANISATIONS):
            present = [c for c in (home, *extra) if c in self.ref.state_by_code]
            # A few more states in the region, chosen by the seed.
            others = [s.code for s in self.ref.states if s.code not in present]
            present += [self._choice(others) for _ in range(self._int(1, 3))]
            present = list(dict.fromkeys(present))
            org_id = existing.get(name)
            users: list[tuple[int, Role]] = []
            org = {
                "name": name,
                "short": short,
                "present": [self.ref.state_by_code[c].id for c in present],
                "users": users,
            }
            roles = [Role.COORDINATOR, Role.LITIGATOR, Role.LITIGATOR, Role.VIEWER]
            if index == 0:
                roles.insert(0, Role.ADMIN)
            people = [
                (self._choice(V.FIRST_NAMES), self._choice(V.LAST_NAMES)) for _ in range(len(roles))
            ]
            if org_id is None:
                org_id = self.ids.take(Organisation.__table__)
                home_state = self.ref.state_by_code.get(home)
                self._add(
                    Organisation.__table__,
                    {
                        "id": org_id,
                        "name": name,
                        "short_name": short,
                        "country_id": home_state.id if home_state else None,
                        "website": f"https://{slug}.example.org",
                        "is_active": True,
                        "created_at": self._at(created_on),
                    },
                )
                for jid in org["present"]:
                    self._add(
                        organisation_jurisdictions,
                        {"organisation_id": org_id, "jurisdiction_id": jid},
                    )
            org["id"] = org_id
            for role, (first, last) in zip(roles, people, strict=True):
                email = _ascii(f"{first}.{last}").lower() + f"@{slug}{DEMO_EMAIL_SUFFIX}"
                if email in taken_emails:
                    existing_id = self.session.scalar(select(User.id).where(User.email == email))
                    if existing_id is not None:
                        users.append((existing_id, role))
                        if password_hash:  # asked to make the demo accounts usable
                            self.session.execute(
                                update(User)
                                .where(User.id == existing_id)
                                .values(password_hash=password_hash)
                            )
                            self.users_created.append((email, role.value, name))
                    continue
                taken_emails.add(email)
                user_id = self.ids.take(User.__table__)
                self._add(
                    User.__table__,
                    {
                        "id": user_id,
                        "email": email,
                        "name": f"{first} {last}",
                        "organisation_id": org_id,
                        "role": role,
                        "password_hash": password_hash,
                        "password_changed_at": self._at(created_on) if password_hash else None,
                        "created_at": self._at(created_on),
                        "locale": None,
                    },
                )
                users.append((user_id, role))
                self.users_created.append((email, role.value, name))
            self.orgs.append(org)
        self.orgs_in_state: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for org in self.orgs:
            for jid in org["present"]:
                self.orgs_in_state[jid].append(org)
        self._flush()

    # -- forums
    def _first_instance(self, state: _State) -> _Forum:
        if state.first_instance is not None:
            return state.first_instance
        code = f"{state.code}-FI"
        forum = self.ref.forums.get(code) or self.new_forums.get(code)
        if forum is None:
            forum = _Forum(
                self.ids.take(Forum.__table__),
                code,
                f"First-instance courts ({state.name})",
                ForumLevel.FIRST_INSTANCE,
                None,
                None,
                None,
            )
            self.new_forums[code] = forum
            self._add(
                Forum.__table__,
                {
                    "id": forum.id,
                    "code": code,
                    "name": forum.name,
                    "jurisdiction_id": state.id,
                    "level": ForumLevel.FIRST_INSTANCE,
                    "note": GENERIC_FORUM_NOTE,
                },
            )
        state.first_instance = forum
        return forum

    def _chain(self, state: _State) -> list[_Forum]:
        r = self.rand()
        n = 1 if r < 0.5 else (2 if r < 0.83 else 3)
        first = self._first_instance(state)
        top = self._choice(state.domestic_top) if state.domestic_top else None
        intl = self._choice(state.international) if state.international else None
        if n == 1:
            r = self.rand()
            if r < 0.6 or (intl is None and top is None):
                return [first]
            if r < 0.8 and top is not None:
                return [top]
            return [intl or first]
        chain = [first]
        if top is not None and (n == 3 or self.rand() < 0.6):
            chain.append(top)
        if intl is not None and len(chain) < n:
            chain.append(intl)
            if intl.code == "IACHR" and len(chain) < 3 and "IACTHR" in self.ref.forums:
                chain.append(self.ref.forums["IACTHR"])
        return chain[:n]

    # -- cases
    def cases(self, n: int, documents: int, progress: Callable[[int], None] | None) -> None:
        # Exactly `documents` documents, spread evenly over the cases.
        self.documents, self.n_cases, self.case_index = documents, n, 0
        for start in range(0, n, CHUNK):
            for _ in range(min(CHUNK, n - start)):
                self._case()
            self._flush()
            self.session.commit()
            if progress:
                progress(min(start + CHUNK, n))

    def _case(self) -> None:
        rand = self.rand
        ref = self.ref
        state: _State = _pick(rand, self.state_table)
        case_id = self.ids.take(Case.__table__)
        # Lead organisation: one present in the state when there is one.
        local = self.orgs_in_state.get(state.id)
        lead = self._choice(local) if local and rand() < 0.85 else self._choice(self.orgs)
        litigators = [u for u, role in lead["users"] if role in (Role.LITIGATOR, Role.COORDINATOR)]
        author = self._choice(litigators) if litigators else None

        # Dates: the first filing, skewed towards recent years.
        days_ago = int(YEARS * 365 * rand() ** 1.6)
        start = self.today - timedelta(days=days_ago)
        chain = self._chain(state)
        planned = days_ago < 90 and rand() < 0.3

        # Rights and provisions.
        primary = _pick(rand, ref.right_table)
        prefer = next((f.instrument for f in chain if f.instrument), None)
        target_rights = self._int(1, 5) if rand() < 0.55 else self._int(1, 2)
        n_prov = _pick(rand, _PROVISION_COUNTS)
        provisions: list[int] = []
        candidates = ref.provisions_for(state, primary, prefer)
        for _ in range(n_prov):
            if not candidates:
                break
            p = self._choice(candidates)
            if p not in provisions:
                provisions.append(p)
            if rand() < 0.4:  # a second right argued through its own provision
                other = _pick(rand, ref.right_table)
                candidates = ref.provisions_for(state, other, prefer) or candidates
        rights = [primary]
        for p in provisions:
            for r in ref.provision_rights[p]:
                if r not in rights and len(rights) < 5:
                    rights.append(r)
        while len(rights) < target_rights:
            pool = ref.rights_by_parent[ref.right_parent[primary]]
            r = self._choice(pool) if rand() < 0.5 else _pick(rand, ref.right_table)
            if r not in rights:
                rights.append(r)
            elif rand() < 0.3:
                break
        for r in rights:
            self._add(case_rights, {"case_id": case_id, "right_id": r})
        # Every provision counts under at least one of the case's rights (the crosswalk).
        provisions = [p for p in provisions if any(r in rights for r in ref.provision_rights[p])]
        for p in provisions:
            self._add(case_provisions, {"case_id": case_id, "provision_id": p})

        # Proceedings along the chain.
        proceedings: list[dict[str, Any]] = []
        filed = start
        for position, forum in enumerate(chain):
            if position and filed >= self.today:
                break
            pid = self.ids.take(Proceeding.__table__)
            low, high = DURATION[forum.level]
            decided = filed + timedelta(days=self._int(low, high))
            last_in_chain = position == len(chain) - 1
            row = {
                "id": pid,
                "case_id": case_id,
                "forum_id": forum.id,
                "position": position,
                "reference": _docket(self, forum, filed),
                "filed_on": filed,
                "decided_on": None,
                "status": Status.PENDING,
                "outcome": Outcome.NONE_YET,
                "ecli": None,
                "notes": None,
            }
            if planned and position == 0:
                row.update(filed_on=None, status=Status.PLANNED, reference=None)
                proceedings.append(row)
                break
            if decided >= self.today:
                if (self.today - filed).days < 60:
                    row["status"] = Status.FILED
                proceedings.append(row)
                break
            if last_in_chain or decided + timedelta(days=20) >= self.today:
                outcome = _pick(rand, self.outcome_table)
                old = (self.today - decided).days > 730
                status = Status.CLOSED if old else Status.DECIDED
            else:
                outcome = _pick(rand, self.earlier_table)
                status = Status.CLOSED
            row.update(decided_on=decided, status=status, outcome=outcome)
            if forum.code == "ECTHR":
                row["ecli"] = f"ECLI:CE:ECHR:{decided.year}:{decided:%m%d}JUD{pid % 10**9:09d}"
            proceedings.append(row)
            if status == Status.CLOSED and outcome in (Outcome.SETTLED, Outcome.WITHDRAWN):
                break
            filed = decided + timedelta(days=self._int(20, 110))
        for row in proceedings:
            self._add(Proceeding.__table__, row)
        last = proceedings[-1]
        case_status = last["status"]
        if case_status == Status.PENDING and last["position"] > 0:
            case_status = Status.ON_APPEAL if rand() < 0.4 else Status.PENDING
        case_outcome = last["outcome"]
        if case_outcome in (Outcome.WIN, Outcome.PARTIAL_WIN):
            self.wins_by_right[primary].append(case_id)

        # Confidentiality, team, partners.
        confidentiality = _pick(rand, self.conf_table)
        team: list[int] = []
        if confidentiality == Confidentiality.RESTRICTED or rand() < 0.2:
            pool = [u for u, _role in lead["users"]]
            team = list(dict.fromkeys(self._choice(pool) for _ in range(self._int(1, 3))))
        for position, user_id in enumerate(team):
            self._add(
                CaseMember.__table__,
                {
                    "id": self.ids.take(CaseMember.__table__),
                    "case_id": case_id,
                    "user_id": user_id,
                    "role": TeamRole.LEAD if position == 0 else TeamRole.MEMBER,
                },
            )
        if rand() < 0.25:
            pool = [o for o in (local or self.orgs) if o is not lead] or [
                o for o in self.orgs if o is not lead
            ]
            for org in {self._choice(pool)["id"] for _ in range(self._int(1, 2))}:
                self._add(case_partners, {"case_id": case_id, "organisation_id": org})

        # The case row itself, its parties, events, links, implementations, documents.
        forum_types = {f.level for f in chain}
        case_type = _case_type(self, forum_types)
        title, claimant, full_name, respondent = _title(self, state, case_type)
        opened = (start if not planned else self.today) - timedelta(days=self._int(10, 200))
        language = state.language if rand() < 0.7 else "en"
        right_names = [ref.right_name[r] for r in rights]
        pool = self.sentences[language]
        summary = " ".join(
            (
                _sentence(self, language, state, chain[-1], right_names[0]),
                pool[int(rand() * len(pool))],
                pool[int(rand() * len(pool))],
            )
        )
        created_at = self._at(opened)
        events = self._events(case_id, state, chain, proceedings, lead, author, case_status)
        updated_at = max(created_at, self._at(max(e["occurred_on"] for e in events)))
        updated_at = min(updated_at, datetime.combine(self.today, datetime.min.time(), UTC))
        updated_at = max(updated_at, created_at)
        year = (proceedings[0]["filed_on"] or opened).year
        self._add(
            Case.__table__,
            {
                "id": case_id,
                "reference": f"{lead['short']}-{year}-{case_id:06d}",
                "title": title,
                "case_type": case_type,
                "summary": summary,
                "strategic_aim": self._choice(V.AIMS),
                "arguments": self._choice(V.ARGUMENTS),
                "jurisdiction_id": state.id,
                "lead_organisation_id": lead["id"],
                "confidentiality": confidentiality,
                "status": case_status,
                "outcome": case_outcome,
                "opened_on": opened,
                "created_by_id": author,
                "created_at": created_at,
                "updated_at": updated_at,
                "version": 1,
            },
        )
        self.cases_by_state[state.id].append(case_id)
        self._add(
            Party.__table__,
            {
                "id": self.ids.take(Party.__table__),
                "case_id": case_id,
                "role": PartyRole.CLAIMANT,
                "pseudonym": claimant,
                "full_name": full_name,
                "details": None,
            },
        )
        if respondent != state.title_name:  # a named authority rather than the State
            self._add(
                Party.__table__,
                {
                    "id": self.ids.take(Party.__table__),
                    "case_id": case_id,
                    "role": PartyRole.RESPONDENT,
                    "pseudonym": respondent,
                    "full_name": None,
                    "details": None,
                },
            )
        self._treatments(proceedings, provisions, rights)
        self._implementation(proceedings, chain)
        self._links(case_id, state, primary, case_status)
        i, n, m = self.case_index, self.n_cases, self.documents
        n_docs = (i + 1) * m // n - i * m // n
        self.case_index += 1
        for _ in range(n_docs):
            self._document(
                case_id, state, chain, proceedings, language, right_names, confidentiality, author
            )

    def _events(self, case_id, state, chain, proceedings, lead, author, case_status):
        events = []
        rand = self.rand

        def add(kind, day, title, proceeding_id=None, **extra):
            row = {
                "id": self.ids.take(Event.__table__),
                "case_id": case_id,
                "proceeding_id": proceeding_id,
                "kind": kind,
                "occurred_on": day,
                "title": title,
                "notes": None,
                "is_deadline": False,
                "remind_on": None,
                "confirmed": True,
                "computed_basis": None,
                "assigned_user_id": None,
                "completed_at": None,
                "created_by_id": author,
                "created_at": self._at(min(day, self.today)),
            }
            row.update(extra)
            events.append(self._add(Event.__table__, row))

        forums = {f.id: f for f in chain}
        for row in proceedings:
            forum = forums[row["forum_id"]]
            filed = row["filed_on"]
            if filed is None:
                add(
                    EventKind.OTHER,
                    self.today,
                    f"Application to {forum.name} in preparation",
                    row["id"],
                )
                continue
            add(EventKind.FILED, filed, f"Filed with {forum.name}", row["id"])
            if forum.level in INTERNATIONAL and rand() < 0.12:
                add(
                    EventKind.INTERIM_MEASURES,
                    filed + timedelta(days=self._int(2, 20)),
                    "Interim measures requested",
                    row["id"],
                )
            if forum.level in (ForumLevel.REGIONAL_COURT, ForumLevel.TREATY_BODY) and rand() < 0.5:
                day = filed + timedelta(days=self._int(60, 400))
                if day < self.today and (row["decided_on"] is None or day < row["decided_on"]):
                    add(EventKind.COMMUNICATED, day, "Communicated to the State", row["id"])
            if row["decided_on"] is not None:
                kind = (
                    EventKind.JUDGMENT
                    if forum.level not in (ForumLevel.TREATY_BODY, ForumLevel.REGIONAL_COMMISSION)
                    else EventKind.DECISION
                )
                label = row["outcome"].value.replace("_", " ")
                add(kind, row["decided_on"], f"{kind.value.capitalize()} ({label})", row["id"])
        last = proceedings[-1]
        litigators = [u for u, role in lead["users"] if role == Role.LITIGATOR] or [author]
        if case_status in (Status.PENDING, Status.FILED, Status.ON_APPEAL, Status.PLANNED):
            if rand() < 0.35:
                due = self.today + timedelta(days=self._int(3, 120))
                add(
                    EventKind.DEADLINE,
                    due,
                    self._choice(_DEADLINE_TITLES),
                    last["id"],
                    is_deadline=True,
                    remind_on=due - timedelta(days=7),
                    assigned_user_id=self._choice(litigators),
                )
        elif last["decided_on"] is not None and last["outcome"] not in (
            Outcome.WIN,
            Outcome.SETTLED,
            Outcome.WITHDRAWN,
        ):
            # A computed filing limit before the regional body, still to be confirmed.
            intl = [f for f in state.international if f.limit_months]
            if intl and forums[last["forum_id"]].level not in INTERNATIONAL:
                forum = intl[0]
                due = _add_months(last["decided_on"], forum.limit_months)
                if due > self.today:
                    add(
                        EventKind.DEADLINE,
                        due,
                        f"Filing limit before the {forum.name}",
                        last["id"],
                        is_deadline=True,
                        remind_on=due - timedelta(days=21),
                        confirmed=False,
                        computed_basis=forum.limit_basis,
                    )
        return events

    def _treatments(self, proceedings, provisions, rights) -> None:
        rand = self.rand
        for row in proceedings:
            if row["decided_on"] is None:
                continue
            outcome = row["outcome"]
            targets = [("provision_id", p) for p in provisions] or [("right_id", r) for r in rights]
            for column, value in targets:
                if outcome == Outcome.WIN:
                    t = Treatment.UPHELD if rand() < 0.85 else Treatment.NOT_REACHED
                elif outcome == Outcome.PARTIAL_WIN:
                    t = Treatment.UPHELD if rand() < 0.5 else Treatment.REJECTED
                elif outcome == Outcome.LOSS:
                    t = Treatment.REJECTED if rand() < 0.8 else Treatment.NOT_REACHED
                else:
                    t = Treatment.NOT_REACHED
                self._add(
                    ProceedingTreatment.__table__,
                    {
                        "id": self.ids.take(ProceedingTreatment.__table__),
                        "proceeding_id": row["id"],
                        "provision_id": value if column == "provision_id" else None,
                        "right_id": value if column == "right_id" else None,
                        "treatment": t,
                    },
                )

    def _implementation(self, proceedings, chain) -> None:
        last = proceedings[-1]
        if last["outcome"] not in (Outcome.WIN, Outcome.PARTIAL_WIN) or self.rand() >= 0.5:
            return
        level = next(f.level for f in chain if f.id == last["forum_id"])
        reported = last["decided_on"] + timedelta(days=self._int(180, 900))
        compliance = _pick(self.rand, _COMPLIANCE)
        self._add(
            Implementation.__table__,
            {
                "id": self.ids.take(Implementation.__table__),
                "proceeding_id": last["id"],
                "measures_ordered": self._choice(V.MEASURES),
                "compliance": compliance,
                "supervision_stage": self._choice(V.SUPERVISION_STAGES)
                if level in INTERNATIONAL
                else None,
                "laws_or_policies_changed": "Implementing regulation amended."
                if compliance == Compliance.FULL and self.rand() < 0.5
                else None,
                "follow_up_notes": None,
                "reported_on": reported if reported < self.today else None,
                "updated_at": self._at(min(reported, self.today)),
            },
        )

    def _links(self, case_id, state, primary, case_status) -> None:
        rand = self.rand
        r = rand()
        kind = target = None
        if r < 0.02:
            wins = self.wins_by_right.get(primary)
            if wins:
                target = wins[-1 - int(rand() * min(len(wins), 50))]
                kind = LinkKind.REPLICATES if rand() < 0.5 else LinkKind.CITES
        elif r < 0.035:
            same = self.cases_by_state.get(state.id)
            if same and len(same) > 1:
                target = same[-2 - int(rand() * min(len(same) - 1, 30))]
                kind = LinkKind.RELATED_TO
        if kind is None or target is None or target == case_id:
            return
        self._add(
            CaseLink.__table__,
            {
                "id": self.ids.take(CaseLink.__table__),
                "source_case_id": case_id,
                "target_case_id": target,
                "kind": kind,
                "note": None,
                "created_at": self._at(self.today - timedelta(days=self._int(0, 900))),
            },
        )

    def _document(
        self, case_id, state, chain, proceedings, language, right_names, confidentiality, author
    ) -> None:
        rand = self.rand
        row = self._choice(proceedings)
        forum = next(f for f in chain if f.id == row["forum_id"])
        if row["decided_on"] is not None and rand() < 0.4:
            kind = (
                DocumentKind.JUDGMENT
                if forum.level != ForumLevel.TREATY_BODY
                else (DocumentKind.DECISION)
            )
            day = row["decided_on"]
        else:
            kind = self._choice(_FILING_KINDS)
            day = row["filed_on"] or self.today
        pool = self.sentences[language]
        size = len(pool)
        paragraphs = [_sentence(self, language, state, forum, self._choice(right_names))]
        for _ in range(self._int(3, 7)):
            paragraphs.append(
                " ".join(pool[int(rand() * size)] for _ in range(2 + int(rand() * 3)))
            )
        body = "\n\n".join(paragraphs)
        data = body.encode()
        doc_id = self.ids.take(Document.__table__)
        self._add(
            Document.__table__,
            {
                "id": doc_id,
                "case_id": case_id,
                "pleading_id": None,
                "version": 1,
                "title": f"{V.DOCUMENT_TITLES[kind.value]}, {forum.name}",
                "kind": kind,
                "language": language,
                "filename": f"{kind.value}-{doc_id}.txt",
                "content_type": "text/plain",
                "size_bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "extracted_text": body,
                "confidentiality": confidentiality,
                "uploaded_by_id": author,
                "uploaded_at": self._at(min(day, self.today)),
                "note": None,
            },
        )


_PROVISION_COUNTS = _weighted(((0, 0.2), (1, 0.3), (2, 0.25), (3, 0.15), (4, 0.1)))
_COMPLIANCE = _weighted(
    (
        (Compliance.NOT_STARTED, 0.2),
        (Compliance.PARTIAL, 0.35),
        (Compliance.FULL, 0.25),
        (Compliance.NON_COMPLIANCE, 0.1),
        (Compliance.UNKNOWN, 0.1),
    )
)
_FILING_KINDS = (
    DocumentKind.COMPLAINT,
    DocumentKind.COMPLAINT,
    DocumentKind.BRIEF,
    DocumentKind.SUBMISSION,
    DocumentKind.AMICUS,
    DocumentKind.EVIDENCE,
)
_DEADLINE_TITLES = (
    "Observations in reply due",
    "Submit comments on the State's observations",
    "Hearing preparation: file skeleton argument",
    "Reply to request for information",
    "Just satisfaction claims due",
)


def _ascii(value: str) -> str:
    import unicodedata

    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded if ch.isalnum() or ch in ".-")


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _docket(gen: _Generator, forum: _Forum, filed: date) -> str:
    n = gen._int(100, 99999)
    yy = filed.year % 100
    if forum.code == "ECTHR":
        return f"{n}/{yy:02d}"
    if forum.code in ("IACHR", "IACTHR"):
        return f"P-{n}-{yy:02d}"
    if forum.level == ForumLevel.TREATY_BODY:
        return f"{forum.code.split('-')[0]}/{n}/{filed.year}"
    if forum.level == ForumLevel.UN_SPECIAL_PROCEDURE:
        return f"AL {n % 1000}/{filed.year}"
    return f"{n}/{filed.year}"


def _case_type(gen: _Generator, levels: set[ForumLevel]) -> CaseType:
    r = gen.rand()
    if ForumLevel.TREATY_BODY in levels and r < 0.7:
        return CaseType.TREATY_BODY_COMMUNICATION
    if ForumLevel.CONSTITUTIONAL in levels and r < 0.5:
        return CaseType.CONSTITUTIONAL_CHALLENGE
    if r < 0.62:
        return CaseType.INDIVIDUAL_COMPLAINT
    if r < 0.72:
        return CaseType.JUDICIAL_REVIEW
    if r < 0.82:
        return CaseType.CLASS_ACTION
    if r < 0.92:
        return CaseType.AMICUS_INTERVENTION
    if r < 0.95:
        return CaseType.ADVISORY_OPINION_REQUEST
    return CaseType.OTHER


def _initials(gen: _Generator) -> str:
    return f"{gen._choice(V.LETTERS)}.{gen._choice(V.LETTERS)}."


def _title(gen: _Generator, state: _State, case_type: CaseType) -> tuple[str, str, str | None, str]:
    """A realistic title, the claimant's pseudonym, an invented full name, the respondent."""
    r = gen.rand()
    respondent = state.title_name
    full = f"{gen._choice(V.FIRST_NAMES)} {gen._choice(V.LAST_NAMES)}"
    if case_type in (CaseType.CLASS_ACTION, CaseType.CONSTITUTIONAL_CHALLENGE) or r < 0.12:
        pattern = gen._choice(V.LOCAL_ASSOCIATIONS.get(state.language, V.LOCAL_ASSOCIATIONS["en"]))
        claimant = pattern.format(x=gen._choice(V.ASSOCIATION_WORDS))
        return f"{claimant} v. {respondent}", claimant, None, respondent
    if case_type == CaseType.ADVISORY_OPINION_REQUEST:
        right = "the rights of migrant children"
        return f"Request for an advisory opinion on {right}", respondent, None, respondent
    if r < 0.2 and state.language in V.RESPONDENT_BODIES:
        claimant = _initials(gen)
        body = gen._choice(V.RESPONDENT_BODIES[state.language])
        return f"{claimant} v. {body}", claimant, full, body
    claimant = _initials(gen)
    if r < 0.45:
        return f"{claimant} and Others v. {respondent}", claimant, full, respondent
    if r < 0.52:
        second = _initials(gen)
        return (
            f"{claimant} and {second} v. {respondent}",
            f"{claimant}, {second}",
            full,
            respondent,
        )
    return f"{claimant} v. {respondent}", claimant, full, respondent


def _sentence(gen: _Generator, language: str, state: _State, forum: _Forum, right: str) -> str:
    templates = V.SENTENCES.get(language) or V.SENTENCES["en"]
    return gen._choice(templates).format(
        origin=gen._choice(V.ORIGINS),
        days=gen._int(3, 540),
        right=right.lower(),
        country=state.name,
        forum=forum.name,
        year=gen._int(1995, gen.today.year),
    )


# --- Entry points --------------------------------------------------------------------------
def ensure_reference_data() -> bool:
    """Load the reference data when the jurisdictions table is empty. True if it loaded."""
    if db.session.scalar(select(func.count()).select_from(Jurisdiction)):
        return False
    try:
        from tracker.taxonomy.reference import load_reference
    except ModuleNotFoundError as exc:
        raise DemoError(
            "There is no reference data and the reference loader "
            "(tracker.taxonomy.reference) is not installed: load reference data first."
        ) from exc
    load_reference()
    db.session.commit()
    return True


def check_schema() -> None:
    missing = [t.name for t in TABLES if not inspect(db.engine).has_table(t.name)]
    if missing:
        raise DemoError(
            "The database has no tables yet (missing: "
            + ", ".join(missing[:4])
            + "). Run `tracker db upgrade` first."
        )


def reset_demo_data() -> dict[str, int]:
    """Delete every case (and what hangs off it) and the demo organisations and users.

    Reference data, and accounts outside the demo organisations, are kept.
    """
    from tracker.patterns.models import Notification, Opportunity, Watch
    from tracker.pleadings.models import PleadingUse

    deleted: dict[str, int] = {}
    session = db.session

    def run(name: str, stmt) -> None:
        deleted[name] = deleted.get(name, 0) + (session.execute(stmt).rowcount or 0)

    from tracker.patterns import facts

    facts.clear()  # derived from the cases deleted below (rebuilt after generating)
    run("opportunities", delete(Opportunity))
    run("notifications", delete(Notification).where(Notification.case_id.is_not(None)))
    run("pleading_uses", delete(PleadingUse))
    run("documents", delete(Document).where(Document.case_id.is_not(None)))
    for table in (
        CaseLink.__table__,
        Event.__table__,
        Implementation.__table__,
        ProceedingTreatment.__table__,
        Proceeding.__table__,
        Party.__table__,
        CaseMember.__table__,
        case_rights,
        case_provisions,
        case_partners,
    ):
        run(table.name, table.delete())
    run("cases", delete(Case))
    names = [o[0] for o in V.ORGANISATIONS]
    org_ids = list(session.scalars(select(Organisation.id).where(Organisation.name.in_(names))))
    if org_ids:
        demo_users = select(User.id).where(
            User.organisation_id.in_(org_ids), User.email.like(f"%{DEMO_EMAIL_SUFFIX}")
        )
        user_ids = list(session.scalars(demo_users))
        for model in (UserSession, ApiToken, Watch):
            run(model.__tablename__, delete(model).where(model.user_id.in_(user_ids)))
        run("users", delete(User).where(User.id.in_(user_ids)))
        still_used = set(
            session.scalars(select(User.organisation_id).where(User.organisation_id.in_(org_ids)))
        )
        removable = [o for o in org_ids if o not in still_used]
        run(
            "organisation_jurisdictions",
            organisation_jurisdictions.delete().where(
                organisation_jurisdictions.c.organisation_id.in_(removable)
            ),
        )
        try:
            with session.begin_nested():
                run("organisations", delete(Organisation).where(Organisation.id.in_(removable)))
        except Exception:  # kept when other records still point at them
            deleted["organisations"] = 0
    return deleted


def _sync_sequences() -> None:
    """PostgreSQL sequences do not advance on explicit ids: move them past the new rows."""
    if db.engine.dialect.name != "postgresql":
        return
    conn = db.session.connection()
    for table in TABLES:
        if "id" in table.c:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                    f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table.name}), false)"
                )
            )


@contextmanager
def _search_index_suspended(active: bool):
    """For big runs, drop the full-text objects and rebuild them once at the end.

    Indexing row by row through triggers (SQLite FTS5) or a GIN index (PostgreSQL) costs
    several times more than building the index once over the loaded rows.
    """
    try:
        from tracker.search.services import install_search, uninstall_search
    except ImportError:  # the search area is not installed: nothing to suspend
        active = False
    if not active:
        yield
        return
    uninstall_search(db.session.connection())
    db.session.commit()
    try:
        yield
    finally:
        db.session.rollback()
        install_search(db.session.connection())
        db.session.commit()


def generate_demo(
    *,
    cases: int,
    seed: int,
    documents: int | None = None,
    reset: bool = False,
    users_can_sign_in: bool = False,
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> DemoResult:
    """Generate `cases` cases (and organisations, users, documents ...) for a seed.

    Commits after every chunk of cases (see the module docstring).
    """
    if cases < 0 or (documents is not None and documents < 0):
        raise DemoError("The number of cases and documents cannot be negative.")
    check_schema()
    started = time.perf_counter()
    ensure_reference_data()
    if reset:
        reset_demo_data()
        db.session.commit()
    documents = cases // 10 if documents is None else documents
    gen = _Generator(
        db.session,
        seed=seed,
        today=today or date.today(),
        users_can_sign_in=users_can_sign_in,
    )
    gen.organisations()
    with _search_index_suspended(cases >= BULK_THRESHOLD):
        gen.cases(cases, documents, progress)
    _sync_sequences()
    db.session.commit()
    seconds = time.perf_counter() - started
    derived = _rebuild_patterns()
    first = gen.ids._next[Case.__tablename__] - cases
    return DemoResult(
        derived=derived,
        counts=dict(gen.counts),
        seconds=seconds,
        users=gen.users_created,
        password=DEMO_PASSWORD if users_can_sign_in and gen.users_created else None,
        case_ids=(first, first + cases - 1) if cases else None,
    )


def _rebuild_patterns() -> str:
    """The rows above were written in bulk, past the session hooks that keep the patterns
    page's facts and totals exact: rebuild them (set-based) so its numbers are right."""
    from tracker.patterns import facts

    started = time.perf_counter()
    db.session.info["patterns_refreshing"] = True
    try:
        counts = facts.rebuild()
        db.session.commit()
    finally:
        db.session.info.pop("patterns_refreshing", None)
    return (
        f"patterns facts ({counts['facts']:,} rows, {counts['totals']:,} totals) "
        f"in {time.perf_counter() - started:.1f} s"
    )


def data_digest() -> str:
    """SHA-256 over the rows of every table the generator writes (salted hashes left out)."""
    digest = hashlib.sha256()
    conn = db.session.connection()
    for table in TABLES:
        columns = [c for c in table.c if c.name not in _NOT_DIGESTED]
        order = list(table.primary_key.columns)
        digest.update(table.name.encode())
        for row in conn.execute(select(*columns).order_by(*order)):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


__all__ = [
    "DEMO_PASSWORD",
    "DemoError",
    "DemoResult",
    "data_digest",
    "ensure_reference_data",
    "generate_demo",
    "reset_demo_data",
]
