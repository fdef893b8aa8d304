"""Load test: a mix of reads and writes by signed-in litigators, against 127.0.0.1 only.

Run through bench/loadtest.sh, which starts gunicorn with several workers on PostgreSQL with
Redis-backed rate limits, generates data, runs this file headless for a bounded time, and
stops everything. Each simulated user signs in once, then browses and writes.
"""

from __future__ import annotations

import os
import random
import re

from locust import HttpUser, between, task

PASSWORD = os.environ["LOADTEST_PASSWORD"]
EMAILS = os.environ["LOADTEST_EMAILS"].split(",")
CASE_LINK = re.compile(r'href="/cases/(\d+)"')
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
FILTERS = ["status=pending", "outcome=win", "status=decided", "q=detention", "q=asylum"]


class Litigator(HttpUser):
    wait_time = between(0.5, 2.0)

    def on_start(self):
        self.email = random.choice(EMAILS)
        page = self.client.get("/login", name="/login [GET]")
        token = CSRF.search(page.text).group(1)
        response = self.client.post(
            "/login",
            data={"email": self.email, "password": PASSWORD, "csrf_token": token},
            name="/login [POST]",
        )
        response.raise_for_status()
        listing = self.client.get("/cases/?organisation=" + os.environ["LOADTEST_ORG_ID"])
        self.own_cases = [int(i) for i in CASE_LINK.findall(listing.text)] or [1]
        listing = self.client.get("/cases/", name="/cases/")
        self.all_cases = [int(i) for i in CASE_LINK.findall(listing.text)] or self.own_cases

    @task(6)
    def list_cases(self):
        self.client.get("/cases/?" + random.choice(FILTERS), name="/cases/?<filter>")

    @task(6)
    def case_page(self):
        case_id = random.choice(self.all_cases)
        self.client.get(f"/cases/{case_id}", name="/cases/<id>")

    @task(2)
    def patterns(self):
        self.client.get("/patterns/", name="/patterns/")

    @task(1)
    def opportunities(self):
        self.client.get("/patterns/opportunities", name="/patterns/opportunities")

    @task(2)
    def add_timeline_event(self):
        case_id = random.choice(self.own_cases)
        page = self.client.get(f"/cases/{case_id}", name="/cases/<id>")
        match = CSRF.search(page.text)
        if not match:
            return
        self.client.post(
            f"/cases/{case_id}/events",
            # The case page's event form is prefixed ("event-"), as the page renders it.
            data={
                "event-csrf_token": match.group(1),
                "event-kind": "other",
                "event-occurred_on": "2026-01-15",
                "event-title": "Load test note",
                "event-notes": "Written by the load test.",
                "event-proceeding_id": "0",
            },
            name="/cases/<id>/events [POST]",
        )
