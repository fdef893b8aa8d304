"""The taxonomy picker endpoints: search as you type, 20 items at most, details in words."""

from __future__ import annotations

import pytest

from tracker.taxonomy.models import JurisdictionKind


@pytest.fixture()
def signed_in(login, litigator):
    login(litigator)
    return litigator


def test_pickers_need_sign_in(client, ref):
    response = client.get("/taxonomy/rights?q=lib")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_rights_picker_shows_place_in_taxonomy(client, ref, signed_in):
    items = client.get("/taxonomy/rights?q=refoul").get_json()["items"]
    assert items == [
        {
            "code": "non-refoulement",
            "label": "Non-refoulement",
            "detail": "Protection \u203a Non-refoulement",
        }
    ]


def test_provisions_picker(client, ref, signed_in):
    items = client.get("/taxonomy/provisions?q=ECHR 5").get_json()["items"]
    assert items[0]["code"] == "ECHR:5"
    assert items[0]["detail"] == "ECHR art. 5 — Right to liberty and security"
    only_iccpr = client.get("/taxonomy/provisions?instrument=ICCPR").get_json()["items"]
    assert [i["code"] for i in only_iccpr] == ["ICCPR:9"]
    bad = client.get("/taxonomy/provisions?instrument=NOPE")
    assert bad.status_code == 400 and "instrument" in bad.get_json()["errors"]


def test_jurisdictions_picker_and_limit(client, ref, signed_in, factory):
    for n in range(30):
        factory.jurisdiction(f"Q{n:02d}"[:2] + chr(65 + n % 26), name=f"Quarterland {n}")
    items = client.get("/taxonomy/jurisdictions?q=quarter").get_json()["items"]
    assert len(items) == 20
    fr = client.get("/taxonomy/jurisdictions?q=fr").get_json()["items"]
    assert fr[0]["code"] == "FR" and fr[0]["label"] == "France"


def test_forums_picker_follows_jurisdiction(client, ref, signed_in):
    codes = {i["code"] for i in client.get("/taxonomy/forums?jurisdiction=FR").get_json()["items"]}
    # France's own courts and the Council of Europe's court; not the Inter-American one.
    assert codes == {"FR-CE", "ECTHR"}
    ecthr = client.get("/taxonomy/forums?q=european").get_json()["items"][0]
    assert "filing limit 4 months" in ecthr["detail"]
    assert client.get("/taxonomy/forums?jurisdiction=ZZ").status_code == 400


def test_picker_escapes_like_wildcards(client, ref, signed_in):
    assert client.get("/taxonomy/rights?q=%25").get_json()["items"] == []
    assert client.get("/taxonomy/rights?q=_").get_json()["items"] == []


def test_systems_are_labelled(client, ref, signed_in):
    item = client.get("/taxonomy/jurisdictions?q=council").get_json()["items"][0]
    assert item["code"] == "COE" and "supranational" in item["detail"]
    assert ref.coe.kind == JurisdictionKind.SYSTEM
