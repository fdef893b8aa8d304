"""`tracker export cases`, `tracker import cases` and `tracker import echr-od`."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from tracker.extensions import db
from tracker.types import Confidentiality, Role


@dataclass(frozen=True)
class NetworkReader:
    """The command line's reader when no --as-user is given: any member of the network.

    It belongs to no organisation and no case team, so case_filter() gives it public and
    network records only, whatever the audience.
    """

    id: int = -1
    organisation_id: int = -1
    role: Role = Role.VIEWER
    is_authenticated: bool = True


def _user(email: str):
    from tracker.auth.models import User

    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None or not user.is_active:
        raise click.ClickException(f"No active user with the e-mail {email!r}.")
    return user


def _filters(**options):
    from tracker.cases.filters import FilterError, parse_filters

    args = {k: v for k, v in options.items() if v not in (None, (), "")}
    try:
        return parse_filters(args)
    except FilterError as exc:
        raise click.ClickException(f"Bad filter: {exc}") from exc


@contextmanager
def _read_only():
    """A read-only command: on SQLite its transaction must not take the write lock.

    Commands otherwise begin with BEGIN IMMEDIATE (tracker/extensions.py); a long export
    holding it would block every edit in the app until it ends. Ends in a rollback.
    """
    config = current_app.config
    before = config.get("SQLITE_IMMEDIATE_OUTSIDE_REQUESTS", True)
    db.session.rollback()  # a transaction begun with the lock (e.g. by a lookup) ends here
    config["SQLITE_IMMEDIATE_OUTSIDE_REQUESTS"] = False
    try:
        yield
    finally:
        db.session.rollback()
        config["SQLITE_IMMEDIATE_OUTSIDE_REQUESTS"] = before


export = click.Group("export", help="Export data.")


@export.command("cases")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "json"]), default="csv")
@click.option(
    "--audience",
    type=click.Choice(
        [
            a.value
            for a in (Confidentiality.PUBLIC, Confidentiality.NETWORK, Confidentiality.ORGANISATION)
        ]
    ),
    default="network",
    show_default=True,
    help="Who the export is for; it holds only what they may see.",
)
@click.option(
    "--kind",
    type=click.Choice(["cases", "proceedings"]),
    default="cases",
    help="CSV only: one row per case, or one row per proceeding.",
)
@click.option("--as-user", "as_user", help="Export what this person may see (e-mail).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="File (default: stdout).")
@click.option("--q", default=None, help="Search text.")
@click.option("--right", multiple=True)
@click.option("--provision", multiple=True)
@click.option("--instrument", multiple=True)
@click.option("--jurisdiction", multiple=True)
@click.option("--forum", multiple=True)
@click.option("--status", multiple=True)
@click.option("--outcome", multiple=True)
@click.option("--organisation", multiple=True, help="Organisation number.")
@click.option("--filed-from", "filed_from", default=None)
@click.option("--filed-to", "filed_to", default=None)
@with_appcontext
def export_cases(fmt, audience, kind, as_user, output, **filter_options):
    """Export the cases that match the filters, for an audience (see docs/csv-columns.md)."""
    from tracker.reports.exports import Export

    if fmt == "xlsx" and not output:
        raise click.ClickException("XLSX needs --output FILE.")
    with _read_only():
        user = _user(as_user) if as_user else NetworkReader()
        job = Export(
            user=user,
            audience=Confidentiality(audience),
            filters=_filters(**filter_options),
            kind=kind,
        )
        if fmt == "xlsx":
            job.write_xlsx(output)
        else:
            chunks = job.csv_chunks() if fmt == "csv" else job.json_chunks()
            if output:
                with open(output, "w", encoding="utf-8", newline="") as fh:
                    for chunk in chunks:
                        fh.write(chunk)
            else:
                for chunk in chunks:
                    sys.stdout.write(chunk)
    if output:
        click.echo(f"Wrote {output} ({audience} audience).", err=True)


import_group = click.Group("import", help="Import data.")


@import_group.command("cases")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--proceedings",
    "proceedings_file",
    type=click.Path(exists=True, dir_okay=False),
    help="A proceedings CSV (the export's kind=proceedings layout) imported with the cases.",
)
@click.option("--dry-run", is_flag=True, help="Check and show what would change; write nothing.")
@click.option(
    "--as-user",
    "as_user",
    default=None,
    help="E-mail of the person importing: their organisation is the default lead, their "
    "rights decide which organisations and cases they may write, they join new cases' teams. "
    "Without it the import runs as the server's operator: any organisation's cases, each row "
    "naming its lead_organisation (unless the network has only one), no restricted cases.",
)
@with_appcontext
def import_cases_command(file, proceedings_file, dry_run, as_user):
    """Import cases from FILE.csv (all or nothing; re-importing changes nothing)."""
    from tracker.reports.importer import CommandLineImporter, ImportNotAllowed, import_cases

    user = _user(as_user) if as_user else CommandLineImporter()
    try:
        result = import_cases(
            actor=user,
            cases_data=Path(file).read_bytes(),
            proceedings_data=Path(proceedings_file).read_bytes() if proceedings_file else None,
            dry_run=dry_run,
        )
    except ImportNotAllowed as exc:
        raise click.ClickException(str(exc)) from exc
    if not result.ok:
        db.session.rollback()
        names = {"cases": file, "proceedings": proceedings_file}
        for e in result.errors:
            where = f"{names[e.file]}:{e.line}" + (f": {e.column}" if e.column else "")
            click.echo(f"{where}: {e.reason}", err=True)
        raise click.ClickException(
            f"{len(result.errors)} problem(s); nothing was imported. Fix them and try again."
        )
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    verb = "Would create" if dry_run else "Created"
    click.echo(
        f"{verb} {len(result.created)} case(s), "
        f"{'would update' if dry_run else 'updated'} {len(result.updated)}, "
        f"{result.unchanged} unchanged; proceedings: {result.proceedings_created} new, "
        f"{result.proceedings_updated} updated, {result.proceedings_unchanged} unchanged."
    )
    if dry_run:
        for line, ref in result.created[:50]:
            click.echo(f"  line {line}: create {ref}")
        for line, ref in result.updated[:50]:
            click.echo(f"  line {line}: update {ref}")


@import_group.command("echr-od")
@click.option(
    "--organisation",
    default=None,
    help="Lead organisation of the imported judgments (created if new). "
    "Default: “ECHR-OD (public data)”.",
)
@with_appcontext
def import_echr_command(organisation):
    """Load the 501 ECtHR judgments of the shipped ECHR-OD sample (ODbL; idempotent)."""
    from tracker.reports.echr import DEFAULT_ORGANISATION, EchrImportError, import_echr_od

    # 500 wins at once: the per-commit opportunities refresh would recompute them one commit
    # at a time; the bulk refresh command does it in one pass afterwards.
    db.session.info["defer_opportunities"] = True
    try:
        result = import_echr_od(organisation=organisation or DEFAULT_ORGANISATION)
        db.session.commit()
    except EchrImportError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    finally:
        db.session.info.pop("defer_opportunities", None)
    click.echo(f"ECHR-OD: {result.created} judgment(s) loaded, {result.unchanged} already there.")
    if result.cases != result.created:
        click.echo(
            f"  {result.cases} case(s) created: a judgment against several states is one case "
            "per respondent state, linked as related."
        )
    for reason in result.skipped_rows:
        click.echo(f"  skipped {reason}")
    if result.skipped_articles:
        skipped = ", ".join(f"{a} ({n})" for a, n in sorted(result.skipped_articles.items()))
        click.echo(f"  articles without an ECHR provision in the reference data: {skipped}")
    click.echo("Data: ECHR-OD (echr-opendata.eu), Open Database License; metadata from HUDOC.")
    if result.created:
        click.echo("Run `tracker opportunities refresh` to compute knock-on opportunities.")


commands = [export, import_group]
