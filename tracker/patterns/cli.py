"""`tracker opportunities refresh`, `tracker patterns rebuild` and `tracker alerts digest`
(picked up by tracker/cli.py)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from tracker.extensions import db

opportunities = click.Group("opportunities", help="Knock-on opportunities.")


@opportunities.command("refresh")
@click.option(
    "--case", "case_ids", type=int, multiple=True, help="Only the wins of these case ids."
)
@with_appcontext
def opportunities_refresh(case_ids):
    """Recompute opportunities from every win (or the given cases' facts). Safe to run any
    time, and worth running nightly (recency points and organisations present change with
    time and admin edits): dismissed, assigned and converted opportunities keep their status."""
    import time

    from tracker.patterns.services import refresh_opportunities

    started = time.perf_counter()
    db.session.info["patterns_refreshing"] = True  # the commit hook has nothing to add
    try:
        counts = refresh_opportunities(list(case_ids) or None)
        db.session.commit()
    finally:
        db.session.info.pop("patterns_refreshing", None)
    if not case_ids:
        analyse(DERIVED_TABLES)
    click.echo(
        f"Opportunities: {counts['created']} created, {counts['updated']} updated, "
        f"{counts['removed']} removed ({time.perf_counter() - started:.1f} s)."
    )


DERIVED_TABLES = (
    "opportunities",
    "opportunity_wins",
    "opportunity_win_instruments",
    "opportunity_win_groups",
    "opportunity_pending",
)


def analyse(tables) -> None:
    """After a full rebuild: fresh planner statistics, and on PostgreSQL a vacuum so that the
    index-only scans of the incremental refresh need no heap fetches (a save that changes a
    win took 350 ms instead of 150 ms until autovacuum came by)."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        verb = "VACUUM (ANALYZE)" if conn.dialect.name == "postgresql" else "ANALYZE"
        for table in tables:
            conn.exec_driver_sql(f"{verb} {table}")


patterns = click.Group("patterns", help="The patterns page's derived data.")


@patterns.command("rebuild")
@with_appcontext
def patterns_rebuild():
    """Recompute the patterns page's facts and totals from every case (set-based). Not needed
    after ordinary edits, which keep them exact; run it after writing cases outside the app
    (SQL, a restore of some tables) or if in doubt."""
    import time

    from tracker.patterns import facts

    started = time.perf_counter()
    db.session.info["patterns_refreshing"] = True  # the commit hook has nothing to add
    try:
        counts = facts.rebuild()
        db.session.commit()
    finally:
        db.session.info.pop("patterns_refreshing", None)
    analyse(facts.DERIVED_TABLES)
    click.echo(
        f"Patterns: {counts['facts']:,} facts, {counts['provision_facts']:,} provision facts, "
        f"{counts['totals']:,} totals ({time.perf_counter() - started:.1f} s)."
    )


alerts = click.Group("alerts", help="Alerts on watched rights, jurisdictions, forums, cases.")


@alerts.command("digest")
@with_appcontext
def alerts_digest():
    """E-mail each user their new notifications (SMTP when MAIL_SERVER is set; else the log)."""
    from flask import current_app

    from tracker.patterns.services import send_digests

    counts = send_digests()
    db.session.commit()
    where = "sent" if current_app.config.get("MAIL_SERVER") else "written to the log"
    click.echo(f"Digests {where}: {counts['sent']}; failed: {counts['failed']}.")


commands = [opportunities, patterns, alerts]
