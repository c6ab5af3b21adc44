"""A form's accepted reports of a whole subtree as one .xlsx: one row per grassroots
association, the figures and the manual fields as columns, the total at the bottom."""

import io

from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from app.core.labels import KIND_LABELS
from app.core.spreadsheets import safe_cell
from app.reports.catalogue import FIGURES, STATE_LABELS
from app.reports.services import GrassrootsRow, period_text


def workbook(form, association, rows: list[GrassrootsRow], totals: dict, count: int) -> bytes:
    with force_locale("zh_Hans_CN"):
        # Write-only: rows stream out (a province's sheet has 20,000 rows).
        book = Workbook(write_only=True)
        sheet = book.create_sheet(_("Reports")[:31])
        sheet.freeze_panes = "C2"
        sheet.column_dimensions["A"].width = 20
        sheet.column_dimensions["B"].width = 28
        kinds = {kind: str(label) for kind, label in KIND_LABELS.items()}
        states = {state: str(label) for state, label in STATE_LABELS.items()}
        not_accepted = _("not accepted")
        figure_keys = [f"fig:{key}" for key in form.figures]
        manual = form.fields
        sheet.append(
            _bold(
                sheet,
                _("Under"),
                _("Association"),
                _("Kind"),
                _("State"),
                _("Version"),
                *(str(FIGURES[key].label) for key in form.figures),
                *(f["label"] for f in manual),
                _("Remarks"),
            )
        )
        for row in rows:
            report = row.report
            values = report.values if report else {}
            sheet.append(
                [
                    safe_cell(row.parent_name),
                    safe_cell(row.association.name),
                    kinds[row.association.kind],
                    states[report.state] if report else not_accepted,
                    report.version if report else None,
                    *(values.get(key) for key in figure_keys),
                    *(_manual_cell(f, values.get(f["key"])) for f in manual),
                    safe_cell(report.remarks) if report else "",
                ]
            )
        sheet.append(
            _bold(
                sheet,
                "",
                _("Total (%(n)d accepted)", n=count),
                "",
                "",
                None,
                *(totals.get(key) for key in figure_keys),
                *(totals.get(f["key"]) if f["kind"] == "number" else None for f in manual),
                "",
            )
        )
        book.properties.title = f"{association.name} · {form.name} · " + period_text(
            form.period_kind, form.year, form.period_number
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _bold(sheet, *values) -> list:
    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=value)
        cell.font = Font(bold=True)
        cells.append(cell)
    return cells


def _manual_cell(field: dict, value):
    if value is None:
        return None
    if field["kind"] == "file":
        return _("file attached")
    return value if field["kind"] == "number" else safe_cell(value)
