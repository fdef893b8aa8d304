"""Forum finder, similar cases, watches, notifications and the e-mail digest (conftest world)."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from sqlalchemy import func, select

from tracker.cases.models import Outcome, Status
from tracker.extensions import db
from tracker.patterns.finder import forum_finder
from tracker.patterns.models import Notification, Opportunity, Watch, WatchKind
from tracker.patterns.services import notify_case_event, send_digests, watch
from tracker.patterns.similar import similar_cases
from tracker.taxonomy.models import Right


def _codes(items):
    return [a.forum.code for a in items]


def test_forum_finder_state_that_accepted_complaints(world):
    # FR: ECHR (ratification suffices), ICCPR + ICCPR-OP1, CAT + art. 22 declaration.
    result = forum_finder(world.j["FR"], world.r["liberty"])
    assert _codes(result.open) == ["ECTHR", "HRC"]
    # CAT is open to FR but has no article mapped to liberty.
    assert _codes(result.not_covering) == ["CAT-COMM"]
    assert result.closed == []
    ecthr = result.open[0]
    assert ecthr.forum.filing_limit_months == 4
    assert ecthr.provisions == ("ECHR:5",)
    hrc = result.open[1]
    assert hrc.reason == "Party to ICCPR and to ICCPR-OP1."
    torture = forum_finder(world.j["FR"], world.r["torture"])
    cat = next(a for a in torture.open if a.forum.code == "CAT-COMM")
    assert cat.accepted_on == date(1988, 6, 23)
    assert cat.reason == "Party to CAT and made the art. 22 declaration."


def test_forum_finder_state_that_has_not(world):
    # MA: ICCPR without the Optional Protocol, CAT without the art. 22 declaration, no ECHR.
    result = forum_finder(world.j["MA"], world.r["torture"])
    assert result.open == []
    why = {a.forum.code: a.reason for a in result.closed}
    assert why == {
        "ECTHR": "Not a party to ECHR.",
        "HRC": "Ratified ICCPR but not ICCPR-OP1, which opens individual complaints.",
        "CAT-COMM": "Ratified CAT but has not made the art. 22 declaration.",
    }
    # RU denounced the ECHR.
    ru = forum_finder(world.j["RU"])
    assert {a.forum.code: a.reason for a in ru.closed}["ECTHR"].startswith("Denounced ECHR")


def test_forum_finder_page(world, client, login):
    login(world.u["viewer"])
    page = client.get("/patterns/forum-finder?jurisdiction=MA&right=torture")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Ratified CAT but has not made the art. 22 declaration." in text
    page = client.get("/patterns/forum-finder?jurisdiction=FR&right=liberty").get_data(as_text=True)
    assert "four months from the final domestic decision" in page
    bad = client.get("/patterns/forum-finder?jurisdiction=ZZ&right=nope")
    assert bad.status_code == 400
    assert "Choose a state from the list." in bad.get_data(as_text=True)
    assert client.get("/patterns/forum-finder").status_code == 200


def test_similar_cases_other_jurisdictions_and_visible_only(world, factory):
    from tests.patterns.conftest import add_restricted_win

    add_restricted_win(factory, world)
    c1 = world.c["C1"]
    got = [s.case.title for s in similar_cases(world.u["outsider"], c1)]
    # Other jurisdictions only, sharing liberty; C2 (same jurisdiction FR) excluded; C5
    # restricted and invisible to the outsider.
    assert set(got) == {"Liberty DE lost", "Liberty DE pending", "Liberty ES won"}
    insider = [s.case.title for s in similar_cases(world.u["insider"], c1)]
    assert "Secret liberty ES" in insider
    # The restricted case invokes ECHR:5 like C1: the best match for the team.
    assert insider[0] == "Secret liberty ES"


def test_similar_cases_partial(world, app, client, login):
    login(world.u["viewer"])
    with app.test_request_context("/"):
        from flask_login import login_user

        login_user(world.u["viewer"])
        html = app.jinja_env.get_template("patterns/_similar_cases.html").render(case=world.c["C1"])
    assert "Liberty ES won" in html and "same rights: Liberty" in html


def test_watch_and_notifications_obey_confidentiality(world, factory, client, login):
    outsider, insider = world.u["outsider"], world.u["insider"]
    for user in (outsider, insider):
        watch(user=user, kind=WatchKind.JURISDICTION, target_id=world.j["ES"].id)
    db.session.commit()
    from tests.patterns.conftest import add_restricted_win

    add_restricted_win(factory, world)  # the hook creates its opportunities (targets FR, DE)
    c5 = world.c["C5"]
    notify_case_event(c5, "win", "A new win in Spain")
    db.session.commit()
    mine = lambda u: db.session.scalars(  # noqa: E731
        select(Notification.message).where(Notification.user_id == u.id)
    ).all()
    assert mine(outsider) == []
    assert "A new win in Spain" in mine(insider)
    assert any(m.startswith("New knock-on opportunity") for m in mine(insider))


def test_watch_buttons_and_notification_page(world, client, login):
    login(world.u["outsider"])
    response = client.post(
        "/patterns/watch",
        data={"kind": "right", "target": "liberty", "action": "watch", "next": "/patterns/"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/patterns/"
    assert db.session.scalar(select(func.count(Watch.id))) == 1
    assert (
        client.post(
            "/patterns/watch", data={"kind": "right", "target": "nope", "action": "watch"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/patterns/watch", data={"kind": "planet", "target": "x", "action": "watch"}
        ).status_code
        == 400
    )
    # A watched right's new win notifies (a decision on C7 in DE, on liberty).
    world.proc["P7"].outcome = Outcome.WIN
    world.proc["P7"].decided_on = date(2024, 5, 1)
    world.c["C7"].status = Status.DECIDED
    notify_case_event(world.c["C7"], "decision", "Decision in Liberty DE pending: win")
    db.session.commit()
    page = client.get("/patterns/").get_data(as_text=True)
    unread = db.session.scalar(
        select(func.count(Notification.id)).where(Notification.read_at.is_(None))
    )
    assert unread >= 1
    assert f"Notifications ({unread})" in page  # the header's count
    page = client.get("/patterns/notifications").get_data(as_text=True)
    assert "Decision in Liberty DE pending: win" in page
    client.post("/patterns/notifications/read", data={})
    assert "Notifications (" not in client.get("/patterns/").get_data(as_text=True)
    # Unwatch.
    client.post("/patterns/watch", data={"kind": "right", "target": "liberty", "action": "unwatch"})
    assert db.session.scalar(select(func.count(Watch.id))) == 0


def test_commit_hook_keeps_opportunities_current(world, factory):
    """A new win saved by any writer updates the opportunities at commit, no call needed.

    One row per (right, target): C7's win adds a row for FR and becomes the best source of the
    existing (liberty, ES) row (it was one row per win before).
    """
    before = db.session.scalar(select(func.count(Opportunity.id)))
    c7 = world.c["C7"]
    c7.provisions = [world.p["ECHR:5"]]
    world.proc["P7"].outcome = Outcome.WIN
    db.session.commit()
    # C7 (DE) won on liberty under the ECHR: FR and ES are targets, C7 their best source.
    targets = set(
        db.session.scalars(
            select(Opportunity.target_jurisdiction_id).where(Opportunity.source_case_id == c7.id)
        )
    )
    assert targets == {world.j["FR"].id, world.j["ES"].id}
    assert db.session.scalar(select(func.count(Opportunity.id))) == before + 1


def test_refresh_cli_and_digest(world, runner, app, caplog):
    result = runner.invoke(args=["opportunities", "refresh"])
    assert result.exit_code == 0, result.output
    assert "0 created" in result.output  # already current
    db.session.add(
        Notification(
            user_id=world.u["outsider"].id,
            kind="win",
            message="Hello win",
            case_id=world.c["C1"].id,
            url="/cases/1",
        )
    )
    db.session.add(
        Notification(user_id=world.u["viewer"].id, kind="win", message="Hidden", case_id=None)
    )
    db.session.commit()
    with caplog.at_level(logging.INFO, logger="tracker.patterns.services"):
        result = runner.invoke(args=["alerts", "digest"])
    assert result.exit_code == 0, result.output
    assert "written to the log: 2" in result.output
    assert "Hello win" in caplog.text and "outsider@example.org" in caplog.text
    # Sent once only.
    result = runner.invoke(args=["alerts", "digest"])
    assert "written to the log: 0" in result.output


def test_digest_over_smtp_uses_the_sender_and_skips_invisible(world, app, factory):
    from tests.patterns.conftest import add_restricted_win

    add_restricted_win(factory, world)
    # A notification about C5 to someone who cannot see it is never mailed with its words.
    db.session.add(
        Notification(
            user_id=world.u["outsider"].id, kind="win", message="SECRET", case_id=world.c["C5"].id
        )
    )
    db.session.add(
        Notification(
            user_id=world.u["insider"].id,
            kind="win",
            message="For the team",
            case_id=world.c["C5"].id,
        )
    )
    db.session.commit()
    sent = []
    counts = send_digests(sender=lambda to, subject, body: sent.append((to, subject, body)))
    db.session.commit()
    assert counts == {"sent": 1, "failed": 0}
    assert sent[0][0] == "insider@example.org"
    assert "For the team" in sent[0][2]
    assert all("SECRET" not in body for _, _, body in sent)


@pytest.mark.parametrize(
    "path", ["/patterns/", "/patterns/opportunities", "/patterns/notifications"]
)
def test_pages_need_login(client, db, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_unknown_right_in_matrix_filters_is_400_not_500(world, client, login):
    login(world.u["viewer"])
    response = client.get("/patterns/?right=nope&view=planets&filed_from=yesterday")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Unknown code: nope" in text and "Use a date like" in text
    assert db.session.scalar(select(func.count(Right.id))) == 6
