"""A form's accepted reports of a whole subtree as one .xlsx: one row per grassroots
association, the figures and the manual fields as columns, the total at the bottom.

Set-based and streamed: one query reads every grassroots association of the subtree with its
parent's name and its accepted report (plain rows, no ORM objects), the workbook is write-only,
and the total is summed from the same rows as they are written, so the number of queries does
not grow with the subtree (a province's sheet has 20,000 rows).
"""

import io
from collections.abc import Iterable

from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from app.core.labels import KIND_LABELS
from app.core.spreadsheets import safe_cell
from app.extensions import db
from app.reports.catalogue import FIGURES, STATE_LABELS
from app.reports.models import Report, ReportForm, ReportState
from app.reports.periods import period_text
from app.reports.subtree import GRASSROOTS_KINDS
from app.reports.values import summed_keys
from tenants.context import subtree_reads
from tenants.models import Association
from tenants.tree import subtree_bounds

ROWS_PER_FETCH = 2_000  # rows held at a time (a server-side cursor on PostgreSQL)


def export_rows(form: ReportForm, association: Association) -> Iterable[tuple]:
    """(parent's name, name, kind, state, version, values, remarks) of every grassroots
    association of the subtree, in tree order; the report columns are None where no report of
    the form is accepted. One query, fetched in batches. Call it in the association's scope."""
    low, high = subtree_bounds(association.path)
    parent = aliased(Association)
    query = (
        select(
            parent.name,
            Association.name,
            Association.kind,
            Report.state,
            Report.version,
            Report.values,
            Report.remarks,
        )
        .outerjoin(parent, parent.id == Association.parent_id)
        .outerjoin(
            Report,
            and_(
                Report.association_id == Association.id,
                Report.form_id == form.id,
                Report.state == ReportState.ACCEPTED,
            ),
        )
        .where(
            Association.path >= low,
            Association.path < high,
            Association.kind.in_(GRASSROOTS_KINDS),
        )
        .order_by(Association.path)
        .execution_options(yield_per=ROWS_PER_FETCH)
    )
    with subtree_reads():  # the scope is applied when the statement runs
        return db.session.execute(query)


def workbook(form: ReportForm, association: Association, rows: Iterable[tuple]) -> bytes:
    with force_locale("zh_Hans_CN"):
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
        totals = dict.fromkeys(summed_keys(form), 0)
        accepted = 0
        for parent_name, name, kind, state, version, values, remarks in rows:
            values = values or {}
            if state is not None:
                accepted += 1
                for key in totals:
                    if isinstance(values.get(key), int):
                        totals[key] += values[key]
            sheet.append(
                [
                    safe_cell(parent_name),
                    safe_cell(name),
                    kinds[kind],
                    states[state] if state is not None else not_accepted,
                    version,
                    *(values.get(key) for key in figure_keys),
                    *(_manual_cell(f, values.get(f["key"])) for f in manual),
                    safe_cell(remarks) if remarks else "",
                ]
            )
        sheet.append(
            _bold(
                sheet,
                "",
                _("Total (%(n)d accepted)", n=accepted),
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
