"""Watching a forum end to end: the ☆ controls, the list of watches, and the alerts a new
decision, a new win or a new knock-on opportunity before the forum creates (conftest world)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.patterns.conftest import add_restricted_win
from tracker.cases import services as case_svc
from tracker.cases.models import Outcome, Status
from tracker.extensions import db
from tracker.patterns.models import Notification, Watch, WatchKind
from tracker.patterns.services import watch


def _messages(user) -> list[str]:
    db.session.expire_all()
    return db.session.scalars(
        select(Notification.message).where(Notification.user_id == user.id)
    ).all()


def _watch_forum(client, code: str, action: str = "watch", next_url: str = "/patterns/"):
    return client.post(
        "/patterns/watch",
        data={"kind": "forum", "target": code, "action": action, "next": next_url},
    )


def _decide(actor, proc, outcome: Outcome, decided_on: str = "2024-02-01"):
    state = case_svc.proceeding_state(proc)
    data = {
        **state,
        "filed_on": proc.filed_on.isoformat() if proc.filed_on else "",
        "decided_on": decided_on,
        "status": Status.DECIDED.value,
        "outcome": outcome.value,
    }
    case_svc.update_proceeding(actor=actor, proceeding=proc, data=data)
    db.session.commit()


def test_forum_controls_on_patterns_finder_and_notifications(world, client, login):
    login(world.u["outsider"])
    page = client.get("/patterns/?view=forum").get_data(as_text=True)
    assert "Alert me about European Court of Human Rights" in page
    finder = client.get("/patterns/forum-finder?jurisdiction=FR").get_data(as_text=True)
    assert "Alert me about European Court of Human Rights" in finder
    assert "Nothing yet." in client.get("/patterns/notifications").get_data(as_text=True)

    response = _watch_forum(client, "ECTHR", next_url="/patterns/?view=forum")
    assert response.status_code == 302
    assert response.headers["Location"] == "/patterns/?view=forum"
    row = db.session.scalar(select(Watch))
    assert (row.kind, row.target_id) == (WatchKind.FORUM, world.f["ECTHR"].id)
    page = client.get("/patterns/?view=forum").get_data(as_text=True)
    assert "Stop alerts about European Court of Human Rights" in page
    assert 'aria-pressed="true"' in page
    finder = client.get("/patterns/forum-finder?jurisdiction=FR").get_data(as_text=True)
    assert "Stop alerts about European Court of Human Rights" in finder
    # The notifications page lists it, with its own stop button.
    notes = client.get("/patterns/notifications").get_data(as_text=True)
    section = notes[notes.index('id="watches-h"') :]
    assert re.search(r"Forum</span>\s*European Court of Human Rights", section)
    assert "Stop alerts about European Court of Human Rights" in section

    # Unknown forum: 404; unwatch removes it.
    assert _watch_forum(client, "NO-SUCH-COURT").status_code == 404
    _watch_forum(client, "ECTHR", action="unwatch")
    assert db.session.scalar(select(Watch)) is None


def test_pages_without_the_forum_view_show_no_forum_buttons(world, client, login):
    login(world.u["outsider"])
    page = client.get("/patterns/").get_data(as_text=True)
    assert "Alert me about European Court of Human Rights" not in page


def test_a_decision_before_the_forum_alerts_its_watchers_only(world, client, login):
    outsider, viewer = world.u["outsider"], world.u["viewer"]
    watch(user=outsider, kind=WatchKind.FORUM, target_id=world.f["DE-BVERFG"].id)
    watch(user=viewer, kind=WatchKind.FORUM, target_id=world.f["HRC"].id)
    db.session.commit()
    # C7's pending proceeding before the German Constitutional Court is won.
    _decide(outsider, world.proc["P7"], Outcome.WIN)
    assert _messages(outsider) == [
        "New win in “Liberty DE pending”: Constitutional Court, Win (2024-02-01)."
    ]
    assert _messages(viewer) == []  # watches another forum


def test_a_decision_elsewhere_in_the_same_case_does_not_alert_the_forum(world, factory):
    """C2 was before the ECtHR; a later domestic decision in C2 does not involve the ECtHR."""
    outsider = world.u["outsider"]
    watch(user=outsider, kind=WatchKind.FORUM, target_id=world.f["ECTHR"].id)
    db.session.commit()
    from datetime import date

    proc = factory.proceeding(world.c["C2"], world.f["FR-CE"], filed_on=date(2023, 6, 1))
    _decide(outsider, proc, Outcome.LOSS)
    assert _messages(outsider) == []
    _decide(outsider, world.proc["P2"], Outcome.PARTIAL_WIN, decided_on="2023-01-10")
    assert len(_messages(outsider)) == 1


def test_a_new_opportunity_from_a_win_before_the_forum_alerts_its_watchers(world, factory):
    """C7 (DE) wins before the Constitutional Court on liberty under the ECHR: a new knock-on
    opportunity for FR (liberty, FR had none); the forum's watcher hears of it."""
    outsider, viewer = world.u["outsider"], world.u["viewer"]
    watch(user=outsider, kind=WatchKind.FORUM, target_id=world.f["DE-BVERFG"].id)
    watch(user=viewer, kind=WatchKind.FORUM, target_id=world.f["HRC"].id)
    db.session.commit()
    world.c["C7"].provisions = [world.p["ECHR:5"]]
    db.session.commit()
    _decide(outsider, world.proc["P7"], Outcome.WIN)
    got = _messages(outsider)
    assert any(m.startswith("New knock-on opportunity: Liberty in France") for m in got), got
    assert _messages(viewer) == []


@pytest.mark.parametrize("watcher", ["outsider", "insider"])
def test_a_restricted_decision_reaches_only_watchers_on_its_team(world, factory, watcher):
    user = world.u[watcher]
    watch(user=user, kind=WatchKind.FORUM, target_id=world.f["ECTHR"].id)
    db.session.commit()
    add_restricted_win(factory, world)
    before = _messages(user)
    # The insider (on C5's team) records a new decision on the restricted case's ECtHR step.
    from datetime import date

    proc = factory.proceeding(world.c["C5"], world.f["ECTHR"], filed_on=date(2024, 3, 1))
    _decide(world.u["insider"], proc, Outcome.WIN, decided_on="2024-06-01")
    new = [m for m in _messages(user) if m not in before]
    if watcher == "insider":
        assert new == [
            "New win in “Secret liberty ES”: European Court of Human Rights, Win (2024-06-01)."
        ]
    else:
        assert new == []


@pytest.mark.browser
def test_watch_a_forum_from_the_finder_in_a_browser(world, page, browser_login, screenshot):
    browser_login(world.u["outsider"])
    page.goto("/patterns/forum-finder?jurisdiction=FR")
    star = page.get_by_role("button", name="Alert me about European Court of Human Rights")
    star.focus()
    page.keyboard.press("Enter")  # keyboard only
    page.wait_for_load_state("networkidle")
    assert "/patterns/forum-finder?jurisdiction=FR" in page.url
    pressed = page.get_by_role("button", name="Stop alerts about European Court of Human Rights")
    assert pressed.get_attribute("aria-pressed") == "true"
    screenshot("forum-finder-watching")
    page.goto("/patterns/notifications")
    assert page.get_by_role("heading", name="What you watch").is_visible()
    assert page.get_by_text("European Court of Human Rights").is_visible()
    screenshot("notifications-watches")
