"""The `tracker` command group (Flask's CLI). Thin: parses options, calls services, commits."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import func, select

from tracker.extensions import db
from tracker.types import Role


def _create_app(*_args, **_kwargs) -> Flask:
    from tracker import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """Litigation tracker command line."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


users = click.Group("users", help="Manage user accounts.")


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", default=None, help="Display name (defaults to the e-mail).")
@click.option("--organisation", required=True, help="Organisation name (created if new).")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.VIEWER.value,
    show_default=True,
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def users_create(email, name, organisation, role, password_stdin):
    """Create a user. The password is read from a prompt or stdin, never from an argument."""
    from tracker.auth.models import Organisation
    from tracker.auth.services import AccountError, create_organisation, create_user

    password = _read_password(password_stdin)
    try:
        org = db.session.scalar(
            select(Organisation).where(func.lower(Organisation.name) == organisation.lower())
        )
        new_organisation = org is None
        if new_organisation:
            org = create_organisation(name=organisation)
        user = create_user(
            email=email, name=name or email, organisation=org, role=Role(role), password=password
        )
        db.session.commit()
    except AccountError as exc:
        db.session.rollback()  # the new organisation too: nothing is created
        raise click.ClickException(str(exc)) from exc
    if new_organisation:
        click.echo(f"Created organisation {org.name!r}.")
    click.echo(f"Created {user.role.value} {user.email} in {org.name}.")


reference = click.Group("reference", help="Reference data: jurisdictions, treaties, rights.")


@reference.command("load")
@click.option("--data-dir", type=click.Path(exists=True, file_okay=False), default=None)
@with_appcontext
def reference_load(data_dir):
    """Load (or refresh) the reference data. Running it twice changes nothing."""
    from tracker.taxonomy.reference import ReferenceDataError, load_reference

    try:
        counts = load_reference(data_dir=data_dir)
        db.session.commit()
    except ReferenceDataError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    for name, (added, updated) in counts.items():
        click.echo(f"{name:>16}: {added} added, {updated} updated")
    if counts.kept_summary():
        click.echo(counts.kept_summary())


@click.command("first-run-hint")
@with_appcontext
def first_run_hint():
    """Tell the person how to create the first admin account, if there is none yet."""
    from tracker.auth.models import User

    has_admin = db.session.scalar(select(func.count()).where(User.role == Role.ADMIN))
    if not has_admin:
        click.echo(
            "\nNo administrator account exists yet. Create the first one with:\n\n"
            "    .venv/bin/tracker users create --email you@example.org "
            '--organisation "Your organisation" --role admin\n\n'
            "You will be asked for a password (12 characters or more).\n"
        )


# Areas that add commands expose `commands` (a list of click commands) in these modules.
AREA_COMMAND_MODULES = (
    "tracker.reports.cli",  # import cases, export cases
    "tracker.demo.cli",  # demo
    "tracker.patterns.cli",  # opportunities refresh, alert digests
)


def register_commands(app: Flask) -> None:
    import importlib

    app.cli.add_command(users)
    app.cli.add_command(reference)
    app.cli.add_command(first_run_hint)
    for name in AREA_COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # that area has not landed yet
        for command in module.commands:
            app.cli.add_command(command)
