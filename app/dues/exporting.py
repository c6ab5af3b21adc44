"""The dues arrears as an .xlsx workbook: one row per open charge, amounts in yuan."""

import io

from flask_babel import gettext as _
from openpyxl import Workbook

from app.core.money import yuan_number
from app.core.spreadsheets import safe_cell


def arrears_workbook(year: int, rows, status_labels: dict) -> bytes:
    """`rows` are `app.dues.figures.arrears(year)`'s (charge, member row, household) triples;
    names and addresses go through `safe_cell`, so a cell never starts a formula."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Arrears %(year)d", year=year)[:31]
    sheet.append(
        [
            _("Member name"),
            _("Household address"),
            _("Dues year"),
            _("Due (yuan)"),
            _("Paid (yuan)"),
            _("Open (yuan)"),
            _("Payment status"),
        ]
    )
    for charge, member_row, household in rows:
        sheet.append(
            [
                safe_cell(member_row.name),
                safe_cell(household.address if household else ""),
                charge.year,
                yuan_number(charge.amount_due_fen),
                yuan_number(charge.paid_fen),
                yuan_number(charge.open_fen),
                str(status_labels[charge.status]),
            ]
        )
    for column in ("D", "E", "F"):
        for cell in sheet[column][1:]:
            cell.number_format = "0.00"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
