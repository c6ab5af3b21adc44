"""Exporting the registers to .xlsx and CSV (UTF-8 with BOM, so Excel shows Chinese).

ID numbers are masked unless the secretary asks for them on purpose; phones are masked for
higher levels. Each export is audit-logged by the caller's service call (`export_members`).
"""

import csv
import io
from collections.abc import Iterator
from datetime import date

from openpyxl import Workbook
from sqlalchemy import select

from app.core import audit, crypto
from app.core.spreadsheets import normalise_text, safe_cell
from app.extensions import db
from app.members.labels import FIELD_LABELS, GENDER_LABELS, STATUS_LABELS
from app.members.models import Household, Member

COLUMNS = (
    "name",
    "gender",
    "phone",
    "id_number",
    "address",
    "grid",
    "building",
    "unit",
    "joined_on",
    "status",
    "tags",
    "is_central",
    "central_household",
)


def headings() -> list[str]:
    return [str(FIELD_LABELS[column]) for column in COLUMNS]


def member_rows(*, reveal_id_numbers: bool, reveal_phones: bool) -> Iterator[list]:
    central = db.aliased(Household)
    query = (
        select(Member, Household, central.address)
        .outerjoin(Household, Household.id == Member.household_id)
        .outerjoin(central, central.id == Household.central_household_id)
        .order_by(Member.id)
        .execution_options(yield_per=1000)
    )
    yes, no = "是", "否"
    for member, household, central_address in db.session.execute(query):
        id_number = (
            crypto.decrypt(member.id_number_encrypted)
            if reveal_id_numbers
            else member.id_number_masked
        )
        phone = crypto.decrypt(member.phone_encrypted) if reveal_phones else member.phone_masked
        yield [
            member.name,
            str(GENDER_LABELS[member.gender]) if member.gender else "",
            phone or "",
            id_number or "",
            household.address if household else "",
            (household.grid or "") if household else "",
            (household.building or "") if household else "",
            (household.unit or "") if household else "",
            member.joined_on,
            str(STATUS_LABELS[member.status]),
            "、".join(member.tags),
            (yes if household.is_central else no) if household else "",
            central_address or "",
        ]


def to_csv(rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headings())
    for row in rows:
        writer.writerow(
            [value.isoformat() if isinstance(value, date) else safe_cell(value) for value in row]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows, sheet_title: str) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=normalise_text(sheet_title)[:31] or "members")
    sheet.append(headings())
    for row in rows:
        sheet.append([safe_cell(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_members(
    association_id: int,
    *,
    file_format: str,
    reveal_id_numbers: bool,
    reveal_phones: bool,
    sheet_title: str = "members",
) -> bytes:
    """The register as a file; the export (and whether anything was unmasked) is logged."""
    rows = member_rows(reveal_id_numbers=reveal_id_numbers, reveal_phones=reveal_phones)
    data = to_csv(rows) if file_format == "csv" else to_xlsx(rows, sheet_title)
    audit.record(
        "export",
        association_id=association_id,
        what="members",
        format=file_format,
        id_numbers="revealed" if reveal_id_numbers else "masked",
        phones="revealed" if reveal_phones else "masked",
    )
    return data
