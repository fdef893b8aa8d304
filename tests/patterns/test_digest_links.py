"""Links in alert e-mails are absolute, on TRACKER_BASE_URL; a bad base URL stops start-up."""

from __future__ import annotations

import pytest

from tracker import create_app
from tracker.config import ConfigError
from tracker.patterns.models import WatchKind
from tracker.patterns.services import notify_case_event, send_digests, watch
from tracker.types import Role


def test_digest_links_start_with_the_base_url(app, db, factory, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKER_BASE_URL", "https://tracker.example.org/net")
    user = factory.user(role=Role.COORDINATOR, email="watcher@example.org")
    case = factory.case(title="M.S. v. Greece")
    watch(user=user, kind=WatchKind.CASE, target_id=case.id)
    assert notify_case_event(case, "decision", "M.S. v. Greece decided") == 1
    db.session.commit()
    sent = []
    assert send_digests(sender=lambda *message: sent.append(message))["sent"] == 1
    (to, _subject, body) = sent[0]
    assert to == "watcher@example.org"
    lines = body.splitlines()
    at = lines.index("- M.S. v. Greece decided")
    assert lines[at + 1].strip() == f"https://tracker.example.org/net/cases/{case.id}"


@pytest.mark.parametrize(
    "value",
    ["tracker.example.org", "/cases", "ftp://tracker.example.org", "https://", "https://x/?a=1"],
)
def test_a_base_url_that_cannot_make_links_is_refused(tmp_path, value):
    with pytest.raises(ConfigError, match="TRACKER_BASE_URL"):
        create_app({"ENV": "testing", "BASE_URL": value, "DATABASE_URL": f"sqlite:///{tmp_path}/x"})


def test_the_base_url_loses_its_trailing_slash(tmp_path):
    app = create_app(
        {
            "ENV": "testing",
            "BASE_URL": "https://tracker.example.org/",
            "DATABASE_URL": f"sqlite:///{tmp_path}/x",
        }
    )
    assert app.config["TRACKER_BASE_URL"] == "https://tracker.example.org"
