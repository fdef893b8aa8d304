"""Uploading model pleadings: validation (400 with messages, nothing written) and versions."""

from __future__ import annotations

import io
import os

import pytest
from sqlalchemy import func, select

from tests.pleadings.conftest import make_docx, upload_data
from tracker.audit.models import AuditEntry
from tracker.documents.models import Document
from tracker.pleadings.models import ModelPleading

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def stored_files(app) -> set[str]:
    root = app.config["UPLOAD_DIR"]
    found = set()
    for folder, _dirs, files in os.walk(root):
        found.update(os.path.join(folder, f) for f in files)
    return found


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture()
def litigator(factory, login):
    factory.right("liberty", "Liberty")
    factory.provision("ECHR", "5")
    user = factory.user("litigator")
    login(user)
    return user


def test_upload_page_documents_the_placeholders(client, litigator):
    body = client.get("/pleadings/new").get_data(as_text=True)
    for name in ("case_title", "forum", "reference", "claimant_pseudonyms", "rights", "today"):
        assert "{{ " + name + " }}" in body


def test_upload_creates_pleading_and_first_version(client, db, litigator):
    response = client.post(
        "/pleadings/new",
        data=upload_data(rights=["liberty"], provisions="ECHR:5"),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    pleading = db.session.scalar(select(ModelPleading))
    assert pleading.title == "Detention brief"
    assert [r.code for r in pleading.rights] == ["liberty"]
    assert pleading.organisation_id == litigator.organisation_id
    (document,) = pleading.versions
    assert document.version == 1 and document.extracted_text.startswith("A model brief")
    assert document.confidentiality == pleading.confidentiality


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"file": (PNG, "brief.pdf")}, "This file is a PNG"),
        ({"file": (b"%PDF-1.4 fake", "brief.txt")}, "the file is a PDF"),
        ({"file": None}, "Choose the file to upload."),
        ({"title": ""}, "This field is required."),
        ({"summary": ""}, "This field is required."),
        ({"language": "xx"}, "Not a valid choice"),
        ({"provisions": "ECHR:999"}, "Unknown provision: ECHR:999."),
        ({"is_template": "y", "file": (b"plain text\n", "t.txt")}, "must be a Word document"),
        ({"kind": "template", "file": (make_docx("{{ secret_field }}"), "t.docx")}, "secret_field"),
    ],
)
def test_invalid_upload_is_400_with_a_message_and_writes_nothing(
    app, client, db, litigator, overrides, message
):
    files_before = stored_files(app)
    response = client.post(
        "/pleadings/new", data=upload_data(**overrides), content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(db, ModelPleading) == 0
    assert count(db, Document) == 0
    assert count(db, AuditEntry) == 0
    assert {f for f in stored_files(app) if "/tmp/" not in f} == {
        f for f in files_before if "/tmp/" not in f
    }


def test_errors_are_tied_to_their_fields(client, litigator):
    body = client.post(
        "/pleadings/new", data=upload_data(title=""), content_type="multipart/form-data"
    ).get_data(as_text=True)
    assert 'id="title-error"' in body
    assert 'aria-describedby="title-error"' in body


def test_viewers_cannot_upload(client, login, factory, db):
    login(factory.user("viewer"))
    assert client.get("/pleadings/new").status_code == 403
    response = client.post("/pleadings/new", data=upload_data(), content_type="multipart/form-data")
    assert response.status_code == 403
    assert count(db, ModelPleading) == 0


def test_a_new_version_keeps_the_old_ones(client, db, litigator):
    client.post("/pleadings/new", data=upload_data(), content_type="multipart/form-data")
    pleading = db.session.scalar(select(ModelPleading))
    response = client.post(
        f"/pleadings/{pleading.id}/versions",
        data={
            "file": (io.BytesIO(b"Second, better version.\n"), "brief-v2.txt"),
            "note": "Tighter",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    db.session.expire_all()
    versions = db.session.scalars(
        select(Document).where(Document.pleading_id == pleading.id).order_by(Document.version)
    ).all()
    assert [d.version for d in versions] == [1, 2]
    assert versions[0].extracted_text.startswith("A model brief")
    assert versions[1].extracted_text.startswith("Second, better")
    for document, content in zip(
        versions, (b"A model brief on detention.\n", b"Second, better version.\n"), strict=True
    ):
        with client.get(f"/pleadings/{pleading.id}/versions/{document.id}") as download:
            assert download.data == content
    body = client.get(f"/pleadings/{pleading.id}").get_data(as_text=True)
    assert "brief-v2.txt" in body and "brief.txt" in body and "Tighter" in body
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "pleading.version" in actions


def test_a_bad_new_version_is_refused_and_the_old_one_stays(client, db, litigator):
    client.post("/pleadings/new", data=upload_data(), content_type="multipart/form-data")
    pleading = db.session.scalar(select(ModelPleading))
    response = client.post(
        f"/pleadings/{pleading.id}/versions",
        data={"file": (io.BytesIO(PNG), "v2.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "This file is a PNG" in response.get_data(as_text=True)
    assert count(db, Document) == 1


def test_another_organisation_cannot_add_versions(client, login, factory, db, litigator):
    client.post("/pleadings/new", data=upload_data(), content_type="multipart/form-data")
    pleading = db.session.scalar(select(ModelPleading))
    client.post("/logout")
    login(factory.user("litigator"))
    response = client.post(
        f"/pleadings/{pleading.id}/versions",
        data={"file": (io.BytesIO(b"hijack\n"), "x.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert count(db, Document) == 1


def test_csrf_is_required(client, csrf_enabled, litigator, db):
    response = client.post("/pleadings/new", data=upload_data(), content_type="multipart/form-data")
    assert response.status_code == 400
    assert count(db, ModelPleading) == 0


def test_the_form_uses_the_type_ahead_pickers_and_checkboxes(client, litigator):
    body = client.get("/pleadings/new").get_data(as_text=True)
    for endpoint in ("/taxonomy/rights", "/taxonomy/provisions", "/taxonomy/forums"):
        assert f'data-picker="{endpoint}"' in body
    assert "js/picker.js" in body
    assert "Hold Ctrl" not in body and 'multiple size="' not in body


def test_codes_typed_or_picked_are_saved_with_their_labels_shown_on_edit(
    client, db, litigator, factory
):
    factory.right("non-refoulement", "Non-refoulement")
    factory.forum("ECTHR", name="European Court of Human Rights")
    coe = factory.jurisdiction("COE", "Council of Europe")
    response = client.post(
        "/pleadings/new",
        data=upload_data(
            rights="liberty; non-refoulement",
            provisions="ECHR:5",
            forums="ECTHR",
            systems=["COE"],
        ),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    pleading = db.session.scalar(select(ModelPleading))
    assert sorted(r.code for r in pleading.rights) == ["liberty", "non-refoulement"]
    assert [f.code for f in pleading.forums] == ["ECTHR"]
    assert [j.id for j in pleading.systems] == [coe.id]
    body = client.get(f"/pleadings/{pleading.id}/edit").get_data(as_text=True)
    assert "&#34;label&#34;: &#34;Non-refoulement&#34;" in body  # chips for the picker
    assert "European Court of Human Rights" in body
    assert 'checked id="systems-0" name="systems" type="checkbox" value="COE"' in body
    detail = client.get(f"/pleadings/{pleading.id}").get_data(as_text=True)
    assert "ECHR art. 5 — Article 5" in detail  # the provision with its title (factory's)


def test_several_values_of_a_code_field_are_joined(client, db, litigator, factory):
    factory.right("non-refoulement", "Non-refoulement")
    response = client.post(
        "/pleadings/new",
        data=upload_data(rights=["liberty", "non-refoulement"]),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    pleading = db.session.scalar(select(ModelPleading))
    assert sorted(r.code for r in pleading.rights) == ["liberty", "non-refoulement"]


def _oversized_post(client, app, url, field="file"):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    try:
        # A raw multipart body: the test client would spool a dict body to a temporary file
        # that nobody closes when the app refuses to read it.
        boundary = "xYzBoundary"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
                f'filename="big.txt"\r\nContent-Type: text/plain\r\n\r\n'
            ).encode()
            + b"a" * (1024 * 1024 + 10)
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 25 * 1024 * 1024


def test_an_oversized_upload_names_the_limit_and_leads_back_to_the_form(app, client, db, litigator):
    response = _oversized_post(client, app, "/pleadings/new")
    assert response.status_code == 413
    body = response.get_data(as_text=True)
    assert "at most 1 MB" in body
    assert 'href="/pleadings/new">Back to the upload form' in body
    assert count(db, ModelPleading) == 0


def test_an_oversized_new_version_leads_back_to_the_versions(app, client, db, litigator):
    client.post("/pleadings/new", data=upload_data(), content_type="multipart/form-data")
    pleading = db.session.scalar(select(ModelPleading))
    response = _oversized_post(client, app, f"/pleadings/{pleading.id}/versions")
    assert response.status_code == 413
    body = response.get_data(as_text=True)
    assert "at most 1 MB" in body
    assert f'href="/pleadings/{pleading.id}#versions"' in body
    assert count(db, Document) == 1
