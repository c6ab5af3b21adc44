"""Command-line entry points: demo data and the background job worker."""

from pathlib import Path

import click
import pyotp
from flask import Flask, current_app
from flask.cli import AppGroup

from app.associations.cli import associations_cli
from app.core.backup import BackupError, create_backup, restore_backup
from app.core.clock import utcnow
from app.core.jobs import PERIODIC, run_worker
from app.dashboards.cli import dashboards_cli
from app.demo import (
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    USERS,
    demo_second_factor_logins,
    load_demo_data,
)
from app.dues.cli import dues_cli
from app.extensions import db

jobs_cli = AppGroup("jobs", help="Background jobs.")
backup_cli = AppGroup("backup", help="Consistent backups of the database, and restoring them.")


def _owner_url() -> str:
    return (
        current_app.config.get("DATABASE_ADMIN_URL")
        or current_app.config["SQLALCHEMY_DATABASE_URI"]
    )


@backup_cli.command("create")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def backup_create_command(target: Path) -> None:
    """Write a consistent backup of the database to TARGET while the app runs."""
    try:
        create_backup(_owner_url(), target)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backup written to {target} ({target.stat().st_size:,} bytes).")


@backup_cli.command("restore")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.confirmation_option(prompt="This replaces every row in the database. Continue?")
def backup_restore_command(source: Path) -> None:
    """Replace the database with the backup in SOURCE (stop the app first)."""
    db.engine.dispose()
    try:
        restore_backup(_owner_url(), source)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Restored from {source}.")


@jobs_cli.command("worker")
@click.option("--workers", default=2, show_default=True, help="Worker threads.")
def worker_command(workers: int) -> None:
    """Run the job consumer (notifications, reminders, imports)."""
    run_worker(workers)


@jobs_cli.command("run")
@click.argument("name")
def run_job_command(name: str) -> None:
    """Run the scheduled job NAME now (e.g. the reminders), as the worker would."""
    if name not in PERIODIC:
        raise click.ClickException(f"Unknown job {name!r}; known: {', '.join(sorted(PERIODIC))}")
    PERIODIC[name]()
    db.session.commit()
    click.echo(f"{name}: done.")


@click.command("demo")
def demo_command() -> None:
    """Load the demo association tree and demo users (does nothing if they exist)."""
    created = load_demo_data()
    db.session.commit()
    click.echo("Demo data loaded." if created else "Demo data already present.")
    click.echo(
        f"Demo logins (password {DEMO_PASSWORD}): admin@demo.xiehui.cn, "
        + ", ".join(login for login, *_ in USERS)
    )
    click.echo(
        f"Second factor of {', '.join(demo_second_factor_logins())}: add the key "
        f"{DEMO_TOTP_SECRET} to an authenticator app (code now: "
        f"{pyotp.TOTP(DEMO_TOTP_SECRET).at(utcnow())})."
    )


def register_commands(app: Flask) -> None:
    app.cli.add_command(jobs_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(associations_cli)
    app.cli.add_command(dashboards_cli)
    app.cli.add_command(dues_cli)
