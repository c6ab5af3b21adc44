"""`flask members import FILE --association SLUG [--dry-run]`: the web import, for operators."""

import sys
from pathlib import Path

import click
from sqlalchemy import select

from app.core import audit
from app.core.sheet_layout import SKIP_REASONS
from app.core.spreadsheets import SpreadsheetError, read_table
from app.extensions import db
from app.members import importing
from app.members.labels import FIELD_LABELS
from app.members.services import RegisterError
from tenants.context import scope_for, tenant_context
from tenants.models import Association


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--association", "slug", required=True, help="Slug of the association.")
@click.option("--sheet", help="Name of the sheet to read, when the workbook has several.")
@click.option("--heading-row", type=int, help="Row number of the headings, if not found.")
@click.option("--dry-run", is_flag=True, help="Check and report only; write nothing.")
def import_command(
    file: Path, slug: str, sheet: str | None, heading_row: int | None, dry_run: bool
) -> None:
    """Import members from FILE (.xlsx, .xls or .csv) into an association's register."""
    association = db.session.scalar(select(Association).where(Association.slug == slug))
    if association is None:
        click.echo(f"No association with slug {slug!r}.", err=True)
        sys.exit(2)
    try:
        table = read_table(
            file, headings=importing.HEADING_WORDS, sheet=sheet, heading_row=heading_row
        )
    except SpreadsheetError as error:
        click.echo(f"{file}: {error.message}", err=True)
        sys.exit(1)
    if table.sheet_choice_needed and sheet is None:
        names = ", ".join(table.sheets)
        click.echo(f"{file}: the workbook has several sheets with data ({names}).", err=True)
        click.echo("Choose one with --sheet NAME.", err=True)
        sys.exit(1)
    with tenant_context(scope_for(association, writable=True)):
        mapping = importing.guess_mapping(table.headers, importing.saved_mapping())
        try:
            importing.check_mapping(mapping)
        except RegisterError as error:
            click.echo(f"{file}: {error.message}", err=True)
            sys.exit(1)
        headings = " and ".join(str(number) for number in table.heading_rows)
        click.echo(f"Sheet {table.sheet or '-'}: headings on row {headings}.")
        for skipped in table.skipped:
            reason = SKIP_REASONS[skipped.reason]
            click.echo(f"row {skipped.number} skipped ({reason}): {skipped.text}")
        records = importing.records_from_table(table, mapping)
        checked = importing.check_rows(records, importing.RegisterSnapshot.load())
        valid = sum(1 for row in checked if row.valid)
        click.echo(f"{association.name}: {valid} valid rows, {len(checked) - valid} rejected.")
        mapped = ", ".join(
            f"{table.headers[int(index)]}→{FIELD_LABELS[name]}"
            for index, name in sorted(mapping.items(), key=lambda item: int(item[0]))
        )
        click.echo(f"Columns: {mapped}")
        for row in checked:
            for problem in row.problems:
                column = importing.column_label(problem)
                click.echo(
                    f"row {row.number}"
                    + (f", {column}" if column else "")
                    + f": {importing.problem_message(problem)}"
                )
        if dry_run:
            click.echo("Dry run: nothing was written.")
            db.session.rollback()
            return
        result = importing.write_rows(checked)
        audit.record(
            "import",
            association_id=association.id,
            source="cli",
            imported=result.imported,
            rejected=result.rejected,
        )
        db.session.commit()
        click.echo(
            f"Imported {result.imported} members ({result.households_created} new households)."
        )
