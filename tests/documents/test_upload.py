"""Uploading documents to a case: real files of each type, disguised files, bombs, limits."""

from __future__ import annotations

import hashlib
import io
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.documents import files
from tracker.audit.models import AuditEntry
from tracker.documents.models import Document
from tracker.documents.services import file_path
from tracker.search.services import search
from tracker.types import Confidentiality, Role


@pytest.fixture()
def owner(factory):
    return factory.user(role=Role.LITIGATOR, name="Owner")


@pytest.fixture()
def case(factory, owner):
    return factory.case(organisation=owner.organisation, title="M.K. v. Greece")


def _stored_files(app) -> list[Path]:
    root = Path(app.config["UPLOAD_DIR"])
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.fixture(autouse=True)
def _clean_upload_dir(app):
    for path in _stored_files(app):
        path.unlink()
    yield


def upload(client, case, data: bytes, filename: str, **fields):
    form = {
        "file": (io.BytesIO(data), filename),
        "title": fields.pop("title", ""),
        "kind": fields.pop("kind", "judgment"),
        "language": fields.pop("language", "en"),
        "confidentiality": fields.pop("confidentiality", "network"),
    }
    form.update(fields)
    form = {f"document-{name}": value for name, value in form.items()}
    return client.post(
        f"/documents/cases/{case.id}/upload", data=form, content_type="multipart/form-data"
    )


def _count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Document))


ALLOWED = [
    pytest.param(files.pdf_bytes, "decision.pdf", "application/pdf", id="pdf"),
    pytest.param(
        files.docx_bytes,
        "brief.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        id="docx",
    ),
    pytest.param(
        files.odt_bytes, "amicus.odt", "application/vnd.oasis.opendocument.text", id="odt"
    ),
    pytest.param(
        lambda text: text.encode("utf-8"), "notes.txt", "text/plain; charset=utf-8", id="txt"
    ),
]


@pytest.mark.parametrize(("build", "filename", "content_type"), ALLOWED)
def test_upload_each_allowed_type_is_stored_extracted_and_searchable(
    app, db, client, login, owner, case, build, filename, content_type
):
    data = build("The tribunal ordered the release of the zqxjkdetainee immediately")
    login(owner)
    response = upload(client, case, data, filename, title="Key decision")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cases/{case.id}#documents")

    document = db.session.scalar(select(Document))
    assert document.case_id == case.id
    assert document.title == "Key decision"
    assert document.filename == filename
    assert document.content_type == content_type
    assert document.sha256 == hashlib.sha256(data).hexdigest()
    assert document.size_bytes == len(data)
    assert document.uploaded_by_id == owner.id
    assert "zqxjkdetainee" in document.extracted_text

    path = file_path(document.sha256)
    assert path.read_bytes() == data
    assert path.relative_to(app.config["UPLOAD_DIR"]).parts[:2] == (
        document.sha256[:2],
        document.sha256[2:4],
    )
    assert not os.stat(path).st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)

    hits = search(owner, "zqxjkdetainee", scope="documents")
    assert hits.ids == [document.id]
    assert "<mark>zqxjkdetainee</mark>" in hits.hits[0].snippet

    audit = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "document.create")
    ).all()
    assert [a.entity_id for a in audit] == [str(document.id)]


def test_the_case_page_lists_the_document_with_a_download_link(db, client, login, owner, case):
    login(owner)
    upload(client, case, files.pdf_bytes("hello"), "Décision finale.pdf", title="Final decision")
    document = db.session.scalar(select(Document))
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Final decision" in page
    assert f"/documents/{document.id}/download" in page
    assert 'enctype="multipart/form-data"' in page


def test_a_file_without_extension_gets_the_detected_one(db, client, login, owner, case):
    login(owner)
    assert upload(client, case, files.docx_bytes("x"), "brief").status_code == 302
    assert db.session.scalar(select(Document.filename)) == "brief.docx"


DISGUISED = [
    pytest.param(files.PNG_BYTES, "judgment.pdf", "This file is a PNG", id="png-as-pdf"),
    pytest.param(files.EXE_BYTES, "brief.docx", "This file is a EXE", id="exe-as-docx"),
    pytest.param(
        files.pdf_bytes("x"), "brief.docx", "ends in .docx but the file is a PDF", id="pdf-as-docx"
    ),
    pytest.param(b"plain\x00binary", "notes.txt", "contains binary data", id="nul-in-txt"),
    pytest.param("café".encode("latin-1"), "notes.txt", "must be encoded as UTF-8", id="latin1"),
    pytest.param(b"", "empty.pdf", "The file is empty", id="empty"),
    pytest.param(b"PK\x03\x04 not really a zip", "x.docx", "damaged", id="broken-zip"),
]


@pytest.mark.parametrize(("data", "filename", "message"), DISGUISED)
def test_disguised_files_are_refused_by_content_and_nothing_is_stored(
    app, db, client, login, owner, case, data, filename, message
):
    login(owner)
    response = upload(client, case, data, filename)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert 'id="document-file-error"' in page  # tied to the file field
    assert _count(db) == 0
    assert _stored_files(app) == []


@pytest.fixture()
def no_parsers(monkeypatch):
    """Call it to fail the test if python-docx or odfpy is then asked to open a file."""
    import docx
    import odf.opendocument

    def refuse(*_a, **_k):
        raise AssertionError("a parser was called on a refused archive")

    def activate():
        monkeypatch.setattr(docx, "Document", refuse)
        monkeypatch.setattr(odf.opendocument, "load", refuse)

    return activate


ARCHIVES = [
    pytest.param(files.zip_bomb_docx, "compressed suspiciously well", id="zip-bomb-200mb"),
    pytest.param(files.many_entries_docx, "too many parts", id="too-many-entries"),
    pytest.param(files.xxe_docx, "DOCTYPE/ENTITY", id="xxe"),
    # The main part under another name (found through the relationships, as Word does).
    pytest.param(files.xxe_main_part_docx, "DOCTYPE/ENTITY", id="xxe-main-part-not-xml"),
    pytest.param(files.xxe_utf16_part_docx, "DOCTYPE/ENTITY", id="xxe-utf16-part"),
    pytest.param(files.xxe_declared_encoding_docx, "DOCTYPE/ENTITY", id="xxe-ebcdic-part"),
    pytest.param(files.traversal_docx, "unsafe file path", id="dot-dot-path"),
    pytest.param(
        lambda: files.traversal_docx("/etc/cron.d/evil"), "unsafe file path", id="absolute-path"
    ),
]


@pytest.mark.parametrize(("build", "message"), ARCHIVES)
def test_dangerous_archives_are_refused_before_parsing(
    app, db, client, login, owner, case, no_parsers, build, message
):
    data = build()
    no_parsers()
    login(owner)
    response = upload(client, case, data, "brief.docx")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _count(db) == 0
    assert _stored_files(app) == []


def test_the_disguised_main_part_would_be_parsed_as_the_document():
    """Why every entry is scanned: python-docx opens word/main.dat as the main document."""
    import docx

    document = docx.Document(io.BytesIO(files.xxe_main_part_docx()))
    assert document.part.partname == "/word/main.dat"


def test_an_unknown_declared_encoding_is_refused(app, db, client, login, owner, case):
    data = files._docx_with(
        {}, {"customXml/item3.dat": b'<?xml version="1.0" encoding="x-nonsense"?><a/>'}
    )
    login(owner)
    response = upload(client, case, data, "brief.docx")
    assert response.status_code == 400
    assert "unknown text encoding (x-nonsense)" in response.get_data(as_text=True)
    assert _count(db) == 0


def test_total_unpacked_size_is_limited(
    app, db, client, login, owner, case, no_parsers, monkeypatch
):
    from tracker.documents import services

    # With the ratio check out of the way, the total unpacked size still stops the bomb.
    monkeypatch.setattr(services, "MAX_ZIP_RATIO", 10**9)
    data = files.zip_bomb_docx(120)
    no_parsers()
    login(owner)
    response = upload(client, case, data, "brief.docx")
    assert response.status_code == 400
    assert "unpacks to more than 100 MB" in response.get_data(as_text=True)


def test_oversize_upload_gets_413_with_the_limit_in_mb(app, db, client, login, owner, case):
    login(owner)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    try:
        # A raw multipart body: the test client would spool a dict body to a temporary file
        # that nobody closes when the app refuses to read it.
        boundary = "xYzBoundary"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="document-file"; '
                f'filename="big.txt"\r\nContent-Type: text/plain\r\n\r\n'
            ).encode()
            + b"a" * (1024 * 1024 + 10)
            + f"\r\n--{boundary}--\r\n".encode()
        )
        response = client.post(
            f"/documents/cases/{case.id}/upload",
            data=body,
            content_type=f"multipart/form-data; boundary={boundary}",
        )
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 25 * 1024 * 1024
    assert response.status_code == 413
    assert "at most 1 MB" in response.get_data(as_text=True)
    assert _count(db) == 0


def test_default_limit_is_from_config(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 25 * 1024 * 1024


def test_encrypted_pdf_is_kept_without_text_and_with_a_note(db, client, login, owner, case):
    login(owner)
    response = upload(client, case, files.encrypted_pdf_bytes("secret words"), "locked.pdf")
    assert response.status_code == 302
    document = db.session.scalar(select(Document))
    assert document.extracted_text is None
    assert "encrypted" in document.note
    follow = client.get(response.headers["Location"])
    assert "encrypted" in follow.get_data(as_text=True)


def test_broken_pdf_is_kept_without_text_not_a_500(db, client, login, owner, case):
    login(owner)
    response = upload(client, case, b"%PDF-1.4\n this is not a real pdf", "broken.pdf")
    assert response.status_code == 302
    document = db.session.scalar(select(Document))
    assert document.extracted_text is None
    assert document.note


def test_identical_files_are_stored_once_and_kept_while_used(
    app, db, client, login, factory, owner, case
):
    other_case = factory.case(organisation=owner.organisation)
    data = files.pdf_bytes("shared evidence")
    login(owner)
    assert upload(client, case, data, "a.pdf").status_code == 302
    assert upload(client, other_case, data, "b.pdf").status_code == 302
    assert len(_stored_files(app)) == 1
    first, second = db.session.scalars(select(Document).order_by(Document.id)).all()
    assert first.sha256 == second.sha256

    page = client.get(f"/documents/{first.id}/delete")
    assert page.status_code == 200
    assert "Delete the document" in page.get_data(as_text=True)
    assert client.post(f"/documents/{first.id}/delete").status_code == 302
    assert file_path(second.sha256).exists()  # still used by the other document
    assert client.post(f"/documents/{second.id}/delete").status_code == 302
    assert not file_path(second.sha256).exists()
    assert _count(db) == 0
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_type == "documents")
    ).all()
    assert sorted(actions) == ["document.create"] * 2 + ["document.delete"] * 2


FIELD_ERRORS = [
    pytest.param({"language": "xx"}, "language", "Choose a language from the list", id="lang"),
    pytest.param({"kind": "poem"}, "kind", "Choose a kind of document", id="kind"),
    pytest.param({"title": "t" * 301}, "title", "under 300 characters", id="title"),
    pytest.param(
        {"confidentiality": "secret"}, "confidentiality", "Choose a confidentiality", id="conf"
    ),
]


@pytest.mark.parametrize(("fields", "name", "message"), FIELD_ERRORS)
def test_each_field_is_validated_with_its_own_message(
    app, db, client, login, owner, case, fields, name, message
):
    login(owner)
    response = upload(client, case, files.pdf_bytes("x"), "a.pdf", **fields)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="document-{name}-error"' in page
    assert message in page
    assert _count(db) == 0
    assert _stored_files(app) == []


def test_missing_file_is_reported_on_the_file_field(db, client, login, owner, case):
    login(owner)
    response = client.post(
        f"/documents/cases/{case.id}/upload",
        data={
            "document-kind": "brief",
            "document-language": "en",
            "document-confidentiality": "network",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "Choose a file to upload." in response.get_data(as_text=True)


def test_a_document_cannot_be_less_restricted_than_its_case(db, client, login, factory, owner):
    case = factory.case(organisation=owner.organisation, confidentiality="organisation")
    login(owner)
    form = client.get(f"/documents/cases/{case.id}/upload").get_data(as_text=True)
    assert 'value="network"' not in form and 'value="restricted"' in form
    response = upload(client, case, files.pdf_bytes("x"), "a.pdf", confidentiality="network")
    assert response.status_code == 400
    assert "cannot be less restricted than its case" in response.get_data(as_text=True)
    assert _count(db) == 0
    response = upload(client, case, files.pdf_bytes("x"), "a.pdf", confidentiality="restricted")
    assert response.status_code == 302
    assert db.session.scalar(select(Document.confidentiality)) == Confidentiality.RESTRICTED


@pytest.mark.parametrize(
    ("who", "status"),
    [
        pytest.param("viewer_same_org", 403, id="viewer"),
        pytest.param("litigator_other_org", 403, id="other-org-litigator"),
        pytest.param("litigator_other_org_restricted", 404, id="cannot-see-case"),
    ],
)
def test_who_may_not_upload(app, db, client, login, factory, owner, who, status):
    if who == "viewer_same_org":
        user = factory.user(role=Role.VIEWER, organisation=owner.organisation)
        case = factory.case(organisation=owner.organisation)
    elif who == "litigator_other_org":
        user = factory.user(role=Role.LITIGATOR)
        case = factory.case(organisation=owner.organisation)
    else:
        user = factory.user(role=Role.LITIGATOR)
        case = factory.case(organisation=owner.organisation, confidentiality="restricted")
    login(user)
    assert client.get(f"/documents/cases/{case.id}/upload").status_code == status
    assert upload(client, case, files.pdf_bytes("x"), "a.pdf").status_code == status
    assert _count(db) == 0
    assert _stored_files(app) == []
    page = client.get(f"/cases/{case.id}")
    assert "Upload a document" not in page.get_data(as_text=True)


def test_upload_needs_a_csrf_token(app, db, client, login, owner, case):
    login(owner)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = upload(client, case, files.pdf_bytes("x"), "a.pdf")
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    assert _count(db) == 0
    assert _stored_files(app) == []


def test_a_bad_file_is_reported_with_the_other_field_errors(app, db, client, login, owner, case):
    login(owner)
    response = upload(client, case, files.PNG_BYTES, "scan.pdf", title="t" * 301)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="document-title-error"' in page and 'id="document-file-error"' in page
    assert "This file is a PNG" in page
    assert _count(db) == 0
    assert _stored_files(app) == []
