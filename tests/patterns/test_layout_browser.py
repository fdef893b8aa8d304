"""Layout of the patterns page in a real browser: no horizontal overflow, readable charts.

The world of conftest.py plus a wide one: many forums (a provision x forum table much wider
than a phone or a laptop) and many jurisdictions (crowded map), so the overflow and the
overlapping labels that only big data shows appear here too. Screenshots go to screenshots/.
"""

from __future__ import annotations

import os
from datetime import date

import pytest

from tests.conftest import SCREENSHOT_DIR
from tracker.cases.models import Outcome, ProceedingTreatment, Status, Treatment

pytestmark = pytest.mark.browser

# Twelve neighbouring European states: their labels collide at the map's scale.
CROWDED = ("BE", "NL", "LU", "CH", "AT", "CZ", "DK", "PL", "SK", "HU", "SI", "HR")


def _widen(factory, world) -> None:
    db = factory.db
    c2 = world.c["C2"]
    for n in range(30):
        forum = factory.forum(f"WIDE-FORUM-{n:02d}", world.j["COE"], name=f"Wide forum {n}")
        p = factory.proceeding(
            c2, forum, filed_on=date(2010 + n % 3, 5, 1), outcome=Outcome.WIN, status=Status.DECIDED
        )
        db.session.add(
            ProceedingTreatment(
                proceeding=p, provision=world.p["ECHR:8"], treatment=Treatment.UPHELD
            )
        )
    for k, code in enumerate(CROWDED):
        j = factory.jurisdiction(code, name=f"State {code}")
        for _ in range(1 + k % 4):
            c = factory.case(organisation=world.o["A"], jurisdiction=j, title=f"Case {code}")
            c.rights = [world.r["liberty"]]
    db.session.commit()


def _overflow(page) -> int:
    """How far the document scrolls sideways beyond the viewport, in CSS pixels."""
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


@pytest.mark.parametrize("width", [1280, 375])
@pytest.mark.parametrize(
    "path", ["/patterns/", "/patterns/?view=forum", "/patterns/opportunities", "/cases/"]
)
def test_no_horizontal_overflow(world, factory, page, browser_login, width, path):
    _widen(factory, world)
    browser_login(world.u["outsider"])
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(path)
    # The wide tables scroll inside their own box; the page itself does not.
    assert _overflow(page) == 0
    if path == "/patterns/":
        os.makedirs(SCREENSHOT_DIR, exist_ok=True)
        page.screenshot(
            path=os.path.join(SCREENSHOT_DIR, f"patterns-wide-{width}.png"), full_page=True
        )
        for section in ("time", "map"):
            page.locator(f"section[aria-labelledby={section}-h]").screenshot(
                path=os.path.join(SCREENSHOT_DIR, f"patterns-wide-{section}-{width}.png")
            )
