"""Factories for test data: small, explicit, and committed so that views see them."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from tracker.auth.models import Organisation, User
from tracker.auth.services import hash_password
from tracker.cases.models import (
    Case,
    CaseMember,
    CaseType,
    Outcome,
    Proceeding,
    Status,
    TeamRole,
)
from tracker.taxonomy.models import (
    Forum,
    ForumLevel,
    Instrument,
    InstrumentKind,
    Jurisdiction,
    JurisdictionKind,
    Provision,
    Right,
)
from tracker.types import Confidentiality, Role

_counter = itertools.count(1)


class Factory:
    PASSWORD = "correct horse battery staple"
    _hash: str | None = None

    def __init__(self, db):
        self.db = db

    def _password_hash(self) -> str:
        # Hash once per test run: argon2 is deliberately slow.
        if Factory._hash is None:
            Factory._hash = hash_password(self.PASSWORD)
        return Factory._hash

    def commit(self, *objs: Any) -> Any:
        self.db.session.add_all(objs)
        self.db.session.commit()
        return objs[0] if len(objs) == 1 else objs

    def organisation(self, name: str | None = None, **kw) -> Organisation:
        n = next(_counter)
        return self.commit(Organisation(name=name or f"Organisation {n}", **kw))

    def user(
        self,
        role: Role | str = Role.LITIGATOR,
        organisation: Organisation | None = None,
        email: str | None = None,
        **kw,
    ) -> User:
        n = next(_counter)
        org = organisation or self.organisation()
        if Role(role) == Role.ADMIN and "totp_secret" not in kw:
            # Admins must use a second factor (tracker.security's gate); the `login` and
            # `browser_login` fixtures send the code. Pass totp_secret=None to go without.
            import pyotp

            from tracker.types import utcnow

            kw["totp_secret"] = pyotp.random_base32()
            kw.setdefault("totp_enabled_at", utcnow())
        user = User(
            email=email or f"user{n}@example.org",
            name=kw.pop("name", f"User {n}"),
            organisation=org,
            role=Role(role),
            password_hash=self._password_hash(),
            **kw,
        )
        return self.commit(user)

    def jurisdiction(self, code: str = "FR", name: str | None = None, **kw) -> Jurisdiction:
        existing = self.db.session.scalar(
            self.db.select(Jurisdiction).where(Jurisdiction.code == code)
        )
        if existing:
            return existing
        kind = kw.pop("kind", JurisdictionKind.STATE if len(code) == 2 else JurisdictionKind.SYSTEM)
        return self.commit(Jurisdiction(code=code, name=name or code, kind=kind, **kw))

    def forum(self, code: str = "FR-CE", jurisdiction: Jurisdiction | None = None, **kw) -> Forum:
        existing = self.db.session.scalar(self.db.select(Forum).where(Forum.code == code))
        if existing:
            return existing
        return self.commit(
            Forum(
                code=code,
                name=kw.pop("name", f"Forum {code}"),
                jurisdiction=jurisdiction or self.jurisdiction(),
                level=kw.pop("level", ForumLevel.APEX),
                **kw,
            )
        )

    def instrument(self, code: str = "ECHR", **kw) -> Instrument:
        existing = self.db.session.scalar(self.db.select(Instrument).where(Instrument.code == code))
        if existing:
            return existing
        return self.commit(
            Instrument(
                code=code,
                short_title=kw.pop("short_title", code),
                title=kw.pop("title", f"The {code}"),
                kind=kw.pop("kind", InstrumentKind.TREATY),
                **kw,
            )
        )

    def right(self, code: str = "liberty", name: str | None = None, **kw) -> Right:
        existing = self.db.session.scalar(self.db.select(Right).where(Right.code == code))
        if existing:
            return existing
        return self.commit(Right(code=code, name=name or code.replace("-", " ").title(), **kw))

    def provision(self, instrument: str = "ECHR", number: str = "5", **kw) -> Provision:
        inst = self.instrument(instrument)
        code = f"{inst.code}:{number}"
        existing = self.db.session.scalar(self.db.select(Provision).where(Provision.code == code))
        if existing:
            return existing
        rights = kw.pop("rights", [])
        prov = Provision(
            code=code, instrument=inst, number=number, title=kw.pop("title", f"Article {number}")
        )
        prov.rights = list(rights)
        return self.commit(prov)

    def case(
        self,
        organisation: Organisation | None = None,
        confidentiality: Confidentiality | str = Confidentiality.NETWORK,
        team: list[User] | None = None,
        partners: list[Organisation] | None = None,
        **kw,
    ) -> Case:
        n = next(_counter)
        org = organisation or self.organisation()
        case = Case(
            title=kw.pop("title", f"A.B. v. State {n}"),
            case_type=kw.pop("case_type", CaseType.INDIVIDUAL_COMPLAINT),
            jurisdiction=kw.pop("jurisdiction", None) or self.jurisdiction(),
            lead_organisation=org,
            confidentiality=Confidentiality(confidentiality),
            status=kw.pop("status", Status.PENDING),
            outcome=kw.pop("outcome", Outcome.NONE_YET),
            **kw,
        )
        case.partners = list(partners or [])
        for member in team or []:
            case.team.append(CaseMember(user=member, role=TeamRole.MEMBER))
        return self.commit(case)

    def proceeding(self, case: Case, forum: Forum | None = None, **kw) -> Proceeding:
        proc = Proceeding(
            case=case,
            forum=forum or self.forum(),
            status=kw.pop("status", Status.PENDING),
            outcome=kw.pop("outcome", Outcome.NONE_YET),
            filed_on=kw.pop("filed_on", date(2024, 1, 15)),
            **kw,
        )
        return self.commit(proc)

    def document(self, case: Case | None = None, text: str | None = "", **kw):
        """A Document row with its text (no file on disk; upload tests use the real route)."""
        import hashlib

        from tracker.documents.models import Document, DocumentKind

        n = next(_counter)
        data = (text or "").encode()
        return self.commit(
            Document(
                case=case,
                pleading_id=kw.pop("pleading_id", None),
                title=kw.pop("title", f"Document {n}"),
                kind=DocumentKind(kw.pop("kind", DocumentKind.BRIEF)),
                language=kw.pop("language", "en"),
                filename=kw.pop("filename", f"document-{n}.txt"),
                content_type=kw.pop("content_type", "text/plain; charset=utf-8"),
                size_bytes=len(data),
                sha256=kw.pop("sha256", hashlib.sha256(data + str(n).encode()).hexdigest()),
                extracted_text=text or None,
                confidentiality=Confidentiality(kw.pop("confidentiality", Confidentiality.NETWORK)),
                **kw,
            )
        )
