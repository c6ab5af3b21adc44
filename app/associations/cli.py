"""`flask associations import FILE --under SLUG [--dry-run]`: the bulk set-up, for operators."""

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.associations import onboarding
from app.associations.bulk import writing
from app.associations.bulk.checking import check_table
from app.associations.bulk.columns import HEADING_WORDS, BulkImportError
from app.core.notifications import mask_recipient
from app.core.spreadsheets import SpreadsheetError, read_table
from app.extensions import db
from tenants.context import scope_for, tenant_context
from tenants.models import Association

associations_cli = AppGroup("associations", help="Setting up associations.")


@associations_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--under", "slug", required=True, help="Slug of the association above them.")
@click.option("--dry-run", is_flag=True, help="Check and report only; write nothing.")
@click.option(
    "--base-url",
    envvar="XIEHUI_BASE_URL",
    help="Public address of the site, for the invitation links (e.g. https://xiehui.example.cn).",
)
def import_command(file: Path, slug: str, dry_run: bool, base_url: str | None) -> None:
    """Create the associations listed in FILE (.xlsx or .csv) below an association."""
    root = db.session.scalar(select(Association).where(Association.slug == slug))
    if root is None:
        click.echo(f"No association with slug {slug!r}.", err=True)
        sys.exit(2)
    try:
        table = read_table(file, headings=HEADING_WORDS)
        with tenant_context(scope_for(root, writable=True)):
            report = check_table(table, root)
    except FileNotFoundError:
        click.echo(f"{file}: no such file.", err=True)
        sys.exit(1)
    except (SpreadsheetError, BulkImportError) as error:
        click.echo(f"{file}: {error.message}", err=True)
        sys.exit(1)
    click.echo(
        f"{root.name}: {len(report.valid_rows)} valid rows, {len(report.rejected_rows)} rejected."
    )
    for number, problem in report.problems:
        column = problem.column_label
        click.echo(f"row {number}" + (f", {column}" if column else "") + f": {problem.message}")
    if dry_run:
        click.echo("Dry run: nothing was written.")
        db.session.rollback()
        return
    if not report.valid_rows:
        click.echo("Nothing to import.")
        return
    if not base_url and any(row.spec.secretary_login for row in report.valid_rows):
        click.echo(
            "Give --base-url (or XIEHUI_BASE_URL): the invitation links need the site's address.",
            err=True,
        )
        sys.exit(2)
    with (
        current_app.test_request_context(base_url=base_url or "http://localhost"),
        tenant_context(scope_for(root, writable=True)),
    ):
        result = writing.write(report, root, onboarding.OPERATOR, inviter=onboarding.OPERATOR.name)
    db.session.commit()
    click.echo(f"Created {len(result.created)} associations in {result.seconds:.1f} s.")
    for entry in result.created:
        if entry.invited:
            # The link went to the secretary's own address; printing it would hand it to
            # whoever runs the command.
            click.echo(
                f"{entry.association.name}: {entry.secretary_name} invited at "
                f"{mask_recipient(entry.secretary_login)}"
            )
