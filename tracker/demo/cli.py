"""`tracker demo`: realistic generated data for demos, screenshots and benchmarks."""

from __future__ import annotations

import importlib
import time

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import text

from tracker.extensions import db

# The search index follows the data by itself (triggers / generated columns); the patterns
# page's facts are rebuilt by the generator itself; opportunities are refreshed here (a full,
# set-based refresh: seconds at 100,000 cases).


def _analyze() -> None:
    """Bulk inserts leave the query planner's statistics behind until autovacuum catches up:
    on PostgreSQL, right after 20,000 generated cases, a litigator's opportunities list took
    1.2 s (a misestimated plan hashed 2.8 million rows) instead of 40 ms."""
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def _refresh_derived_data() -> list[str]:
    """Refresh what other areas derive from cases, when those areas are installed."""
    done: list[str] = []
    for module_name, function_name, label in (
        ("tracker.patterns.services", "refresh_opportunities", "knock-on opportunities"),
    ):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        function = getattr(module, function_name, None)
        if function is None:
            continue
        started = time.perf_counter()
        result = function()
        db.session.commit()
        detail = f" ({result})" if isinstance(result, int | dict) else ""
        done.append(f"{label}{detail} in {time.perf_counter() - started:.1f} s")
    return done


def _import_real() -> None:
    """Delegate to the reports area's ECHR-OD importer (501 real judgments) when installed."""
    try:
        from tracker.reports.echr import DEFAULT_ORGANISATION, EchrImportError, import_echr_od
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("tracker.reports"):
            raise
        raise click.ClickException(
            "The ECHR-OD importer (tracker.reports.echr) is not installed in this version, so "
            "--real cannot load real judgments. Use --cases N --seed S for generated data."
        ) from exc
    from tracker.demo.generator import ensure_reference_data

    ensure_reference_data()
    try:
        result = import_echr_od(organisation=DEFAULT_ORGANISATION)
        db.session.commit()
    except EchrImportError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"ECHR-OD: {result.created} real judgment(s) loaded, {result.unchanged} already there."
    )
    click.echo("Data: ECHR-OD (echr-opendata.eu), Open Database License; metadata from HUDOC.")


@click.command("demo")
@click.option("--cases", "n_cases", type=click.IntRange(min=0), default=1000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same data.")
@click.option(
    "--documents",
    type=click.IntRange(min=0),
    default=None,
    help="Documents with extracted text (default: one per ten cases).",
)
@click.option(
    "--reset",
    is_flag=True,
    help="First delete every case and the demo organisations and users (asks to confirm).",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation with --reset.")
@click.option(
    "--users",
    "sign_in",
    is_flag=True,
    help="Give the demo users a known password (printed once) so people can sign in.",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The date the data is generated around (default: today). Same seed and date, same data.",
)
@click.option(
    "--refresh-derived/--skip-derived",
    "refresh",
    default=True,
    show_default=True,
    help="Refresh knock-on opportunities afterwards (the patterns page's numbers are always "
    "rebuilt).",
)
@click.option("--real", is_flag=True, help="Load the real ECHR-OD judgments instead.")
@with_appcontext
def demo(n_cases, seed, documents, reset, yes, sign_in, today, refresh, real):
    """Fill the database with realistic generated cases (for demos and benchmarks)."""
    from tracker.demo.generator import DemoError, generate_demo

    if current_app.config.get("TRACKER_ENV") == "production":
        raise click.ClickException(
            "Refusing to generate demo data in production (TRACKER_ENV=production)."
        )
    if real:
        _import_real()
        return
    if reset and not yes:
        click.confirm(
            "This deletes EVERY case, document and opportunity, and the demo organisations "
            "and users. Continue?",
            abort=True,
        )

    def progress(done: int) -> None:
        if n_cases >= 20_000:
            click.echo(f"  {done:,} / {n_cases:,} cases", err=True)

    try:
        result = generate_demo(
            cases=n_cases,
            seed=seed,
            documents=documents,
            reset=reset,
            users_can_sign_in=sign_in,
            today=today.date() if today else None,
            progress=progress,
        )
    except DemoError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc

    rows = sum(result.counts.values())
    rate = n_cases / result.seconds if result.seconds else 0.0
    click.echo(
        f"Generated {n_cases:,} cases ({rows:,} rows) in {result.seconds:.1f} s "
        f"({rate:,.0f} cases/s), seed {seed}."
    )
    for table, count in result.counts.items():
        click.echo(f"  {table:>26}: {count:,}")
    if result.derived:
        click.echo(f"Rebuilt {result.derived}.")
    if refresh:
        for line in _refresh_derived_data():
            click.echo(f"Refreshed {line}.")
    else:
        click.echo(
            "Knock-on opportunities were not refreshed: run `tracker opportunities refresh` "
            "(or this command with --refresh-derived)."
        )
    _analyze()
    click.echo("Updated the database's statistics for the new rows (ANALYZE).")
    if result.users:
        if result.password:
            click.echo("\nDemo accounts (shown once). Password for all of them: " + result.password)
        else:
            click.echo("\nDemo accounts (no password: run again with --users to sign in as them):")
        for email, role, organisation in result.users:
            click.echo(f"  {role:<12} {email:<55} {organisation}")


commands = [demo]
