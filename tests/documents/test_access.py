"""Who sees which document: document_filter(), its Python twin, pages and downloads."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from tests.documents import files
from tracker.access import can_see_document, document_filter
from tracker.documents.models import Document
from tracker.types import Confidentiality, Role

C = Confidentiality


@pytest.fixture()
def world(factory):
    """A lead organisation with a case team member, a partner, and an outsider."""
    lead = factory.organisation(name="Lead org")
    partner = factory.organisation(name="Partner org")
    team = factory.user(role=Role.LITIGATOR, organisation=lead, name="Team member")
    colleague = factory.user(role=Role.LITIGATOR, organisation=lead, name="Colleague")
    partner_user = factory.user(role=Role.VIEWER, organisation=partner, name="Partner user")
    outsider = factory.user(role=Role.COORDINATOR, name="Outsider")
    admin = factory.user(role=Role.ADMIN, name="Admin")
    return {
        "lead": lead,
        "partner": partner,
        "team": team,
        "colleague": colleague,
        "partner_user": partner_user,
        "outsider": outsider,
        "admin": admin,
    }


# (case level, document level) -> who sees the document
MATRIX = [
    (C.NETWORK, C.NETWORK, {"team", "colleague", "partner_user", "outsider", "admin"}),
    (C.PUBLIC, C.PUBLIC, {"team", "colleague", "partner_user", "outsider", "admin"}),
    (C.NETWORK, C.ORGANISATION, {"team", "colleague", "partner_user"}),
    (C.NETWORK, C.RESTRICTED, {"team"}),
    (C.ORGANISATION, C.ORGANISATION, {"team", "colleague", "partner_user"}),
    (C.ORGANISATION, C.RESTRICTED, {"team"}),
    (C.RESTRICTED, C.RESTRICTED, {"team"}),
    # Stored too open (e.g. before the case was made stricter): the case still wins.
    (C.RESTRICTED, C.NETWORK, {"team"}),
    (C.ORGANISATION, C.PUBLIC, {"team", "colleague", "partner_user"}),
]


@pytest.mark.parametrize(("case_level", "doc_level", "expected"), MATRIX)
def test_document_visibility_matrix(db, factory, world, case_level, doc_level, expected):
    case = factory.case(
        organisation=world["lead"],
        confidentiality=case_level,
        team=[world["team"]],
        partners=[world["partner"]],
    )
    document = factory.document(case, text="text", confidentiality=doc_level)
    for name in ("team", "colleague", "partner_user", "outsider", "admin"):
        user = world[name]
        in_sql = db.session.scalar(
            select(Document.id).where(Document.id == document.id, document_filter(user))
        )
        assert (in_sql is not None) == (name in expected), (name, "document_filter")
        assert can_see_document(user, document) == (name in expected), (name, "twin")


def test_audience_never_receives_more_than_its_level(db, factory, world):
    case = factory.case(organisation=world["lead"], confidentiality=C.PUBLIC)
    public = factory.document(case, confidentiality=C.PUBLIC)
    network = factory.document(case, confidentiality=C.NETWORK)
    ids = db.session.scalars(
        select(Document.id).where(document_filter(world["team"], C.PUBLIC))
    ).all()
    assert ids == [public.id]
    assert network.id not in ids


def test_anonymous_sees_no_document(db, factory, world):
    from flask_login import AnonymousUserMixin

    factory.document(factory.case(organisation=world["lead"]))
    assert db.session.scalars(select(Document).where(document_filter(None))).all() == []
    assert (
        db.session.scalars(select(Document).where(document_filter(AnonymousUserMixin()))).all()
        == []
    )


@pytest.mark.parametrize(
    ("pleading_level", "doc_level", "who", "sees"),
    [
        (C.NETWORK, C.NETWORK, "outsider", True),
        (C.ORGANISATION, C.NETWORK, "outsider", False),
        (C.ORGANISATION, C.NETWORK, "colleague", True),
        (C.NETWORK, C.RESTRICTED, "colleague", False),
        (C.NETWORK, C.RESTRICTED, "team", True),  # who added the pleading
        (C.RESTRICTED, C.RESTRICTED, "colleague", False),
        (C.RESTRICTED, C.RESTRICTED, "team", True),
    ],
)
def test_library_documents_follow_their_pleading(
    db, factory, world, pleading_level, doc_level, who, sees
):
    from tracker.documents.models import DocumentKind
    from tracker.pleadings.models import ModelPleading

    pleading = factory.commit(
        ModelPleading(
            title="Model complaint",
            kind=DocumentKind.COMPLAINT,
            language="en",
            organisation=world["lead"],
            confidentiality=pleading_level,
            created_by_id=world["team"].id,
        )
    )
    document = factory.document(
        None, pleading_id=pleading.id, confidentiality=doc_level, uploaded_by_id=world["team"].id
    )
    user = world[who]
    found = db.session.scalar(
        select(Document.id).where(Document.id == document.id, document_filter(user))
    )
    assert (found is not None) == sees
    assert can_see_document(user, document) == sees


def _upload(client, case, data=None, name="decision.pdf", level="network"):
    return client.post(
        f"/documents/cases/{case.id}/upload",
        data={
            "document-file": (io.BytesIO(data or files.pdf_bytes("words")), name),
            "document-kind": "judgment",
            "document-language": "fr",
            "document-confidentiality": level,
        },
        content_type="multipart/form-data",
    )


def test_download_is_an_attachment_with_safe_headers(db, client, login, factory, world):
    case = factory.case(organisation=world["lead"], team=[world["team"]])
    data = files.pdf_bytes("décision")
    login(world["team"])
    assert _upload(client, case, data, name="Décision; finale عربى.pdf").status_code == 302
    document = db.session.scalar(select(Document))
    response = client.get(f"/documents/{document.id}/download")
    body = response.get_data()
    response.close()
    assert response.status_code == 200
    assert body == data
    assert response.headers["Content-Type"] == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert 'filename="Decision_ finale .pdf";' in disposition
    assert (
        "filename*=UTF-8''D%C3%A9cision%3B%20finale%20%D8%B9%D8%B1%D8%A8%D9%89.pdf" in disposition
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert response.headers["Cache-Control"] == "no-store"


def test_text_downloads_keep_their_type_and_never_render(db, client, login, factory, world):
    case = factory.case(organisation=world["lead"])
    login(world["colleague"])
    html = b"<script>alert(1)</script> plain words"
    assert _upload(client, case, html, name="notes.txt").status_code == 302
    document = db.session.scalar(select(Document))
    response = client.get(f"/documents/{document.id}/download")
    response.close()
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Content-Security-Policy"] == "sandbox"


@pytest.mark.parametrize("path", ["/documents/{id}", "/documents/{id}/download"])
def test_invisible_documents_answer_404(db, client, login, factory, world, path):
    case = factory.case(organisation=world["lead"], team=[world["team"]])
    hidden = factory.document(case, title="Secret strategy memo", confidentiality=C.RESTRICTED)
    login(world["colleague"])  # sees the case, not the restricted document
    response = client.get(path.format(id=hidden.id))
    assert response.status_code == 404
    assert "Secret strategy memo" not in response.get_data(as_text=True)
    case_page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Secret strategy memo" not in case_page
    assert client.get(path.format(id=999999)).status_code == 404


def test_delete_needs_edit_rights_and_post(db, client, login, factory, world):
    case = factory.case(organisation=world["lead"])
    document = factory.document(case, title="Brief")
    login(world["outsider"])  # sees the network case, may not edit it
    assert client.get(f"/documents/{document.id}/delete").status_code == 403
    assert client.post(f"/documents/{document.id}/delete").status_code == 403
    assert db.session.get(Document, document.id) is not None
