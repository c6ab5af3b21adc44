"""The rows of an import between the file and the register: staged encrypted with their
problems, corrected one by one or in bulk and re-checked at once, downloaded for Excel, and
written in one transaction when the user confirms."""

import io
import json
from dataclasses import dataclass

from flask_babel import gettext
from openpyxl import Workbook
from sqlalchemy import delete, insert, select

from app.core import audit, crypto
from app.core.clock import utcnow
from app.core.spreadsheets import (
    normalise_text,
    safe_cell,
)
from app.extensions import db
from app.members import services
from app.members.idnumbers import (
    IdNumberProblem,
    gender_of,
    validate_id_number,
)
from app.members.importing.checking import (
    CheckedRow,
    RegisterSnapshot,
    check_rows,
    column_label,
    current_row,
    problem_message,
    records_from_table,
)
from app.members.importing.columns import FIELDS
from app.members.importing.upload import discard_file, read_upload
from app.members.labels import FIELD_LABELS
from app.members.models import (
    Gender,
    Household,
    ImportStatus,
    Member,
    MemberImport,
    MemberImportRow,
)
from tenants.context import current_scope

BATCH = 500


class ImportCancelled(Exception):
    """The user cancelled the import while a step ran: the step stops, writing nothing."""


def _cancelled(member_import: MemberImport) -> bool:
    status = db.session.execute(
        select(MemberImport.status).where(MemberImport.id == member_import.id)
    ).scalar()
    return status == ImportStatus.CANCELLED


def validate(member_import: MemberImport, *, progress: bool = True) -> None:
    """Check every row (from the file the first time, from the staged rows after a fix) and
    stage them with their problems; the file is deleted once its rows are staged (it stays
    while a failed step may be retried)."""
    if not member_import.stored_name:
        recheck(member_import)
        return
    table = read_upload(member_import.stored_name, member_import.layout)
    records = records_from_table(table, member_import.mapping)
    checked = check_rows(records, RegisterSnapshot.load())
    db.session.execute(delete(MemberImportRow).where(MemberImportRow.import_id == member_import.id))
    member_import.total_rows = len(checked)
    member_import.processed_rows = 0
    for start in range(0, len(checked), BATCH):
        batch = checked[start : start + BATCH]
        current_row.set(batch[0].number)
        # Staging rows are transient working data: inserted in bulk, outside the per-row
        # audit trail (the import itself is logged when applied). With RETURNING, SQLAlchemy
        # sends multi-row INSERTs ("insertmanyvalues"): PostgreSQL is spared a statement per
        # row, without compiling one huge statement in Python.
        db.session.execute(
            insert(MemberImportRow).returning(MemberImportRow.id),
            [
                {
                    "association_id": member_import.association_id,
                    "import_id": member_import.id,
                    "row_number": row.number,
                    "values_encrypted": crypto.encrypt(json.dumps(row.values, ensure_ascii=False)),
                    "problems": row.problems,
                    "valid": row.valid,
                }
                for row in batch
            ],
        )
        member_import.processed_rows = start + len(batch)
        db.session.flush()
        if progress:
            if _cancelled(member_import):
                raise ImportCancelled
            db.session.commit()
    current_row.set(None)
    _count(member_import, checked)
    if progress:
        if _cancelled(member_import):
            raise ImportCancelled
        # Every row is staged and counted before the file goes: a failure from here on
        # leaves a complete report, never a retry that re-checks half the rows.
        db.session.commit()
    discard_file(member_import)
    db.session.flush()


def _count(member_import: MemberImport, checked: list[CheckedRow]) -> None:
    member_import.total_rows = len(checked)
    member_import.processed_rows = len(checked)
    member_import.valid_rows = sum(1 for row in checked if row.valid)
    member_import.rejected_rows = len(checked) - member_import.valid_rows
    member_import.status = ImportStatus.VALIDATED
    member_import.error = None
    member_import.failed_step = None


def recheck(member_import: MemberImport) -> None:
    """Check the staged rows again at once (after a fix, a skipped row or a bulk fix): every
    row, since a fix can settle or raise another row's problem (a duplicate, a 中心户)."""
    staged = list(
        db.session.scalars(
            select(MemberImportRow)
            .where(MemberImportRow.import_id == member_import.id)
            .order_by(MemberImportRow.row_number)
        )
    )
    records = [(row.row_number, row_values(row)) for row in staged]
    checked = check_rows(records, RegisterSnapshot.load())
    for row, result in zip(staged, checked, strict=True):
        if row.problems != result.problems or row.valid != result.valid:
            row.problems = result.problems
            row.valid = result.valid
    _count(member_import, checked)
    db.session.flush()


def staged_records(member_import: MemberImport) -> list[tuple[int, dict]]:
    rows = db.session.execute(
        select(MemberImportRow.row_number, MemberImportRow.values_encrypted)
        .where(MemberImportRow.import_id == member_import.id)
        .order_by(MemberImportRow.row_number)
    )
    return [(row.row_number, json.loads(crypto.decrypt(row.values_encrypted))) for row in rows]


def staged_row(member_import: MemberImport, row_number: int) -> MemberImportRow | None:
    return db.session.scalar(
        select(MemberImportRow).where(
            MemberImportRow.import_id == member_import.id,
            MemberImportRow.row_number == row_number,
        )
    )


def row_values(row: MemberImportRow) -> dict:
    return json.loads(crypto.decrypt(row.values_encrypted))


def _store_values(row: MemberImportRow, values: dict) -> None:
    row.values_encrypted = crypto.encrypt(json.dumps(values, ensure_ascii=False))


def fix_row(member_import: MemberImport, row: MemberImportRow, values: dict) -> None:
    """The user corrected a flagged row: store the new values and check again at once."""
    cleaned = {
        name: normalise_text(values.get(name, "")) for name in member_import.mapping.values()
    }
    _store_values(row, cleaned)
    recheck(member_import)


def skip_row(member_import: MemberImport, row: MemberImportRow) -> None:
    db.session.delete(row)
    db.session.flush()
    recheck(member_import)


def take_gender_from_id_numbers(member_import: MemberImport) -> int:
    """Bulk fix: every row whose gender contradicts its ID number takes the ID number's.
    Returns how many rows changed."""
    changed = 0
    for row in problem_rows(member_import, limit=None):
        if not any(problem["code"] == "gender_mismatch" for problem in row.problems):
            continue
        values = row_values(row)
        try:
            id_number = validate_id_number(values.get("id_number", ""))
        except IdNumberProblem:
            continue
        values["gender"] = "男" if gender_of(id_number) == Gender.MALE.value else "女"
        _store_values(row, values)
        changed += 1
    recheck(member_import)
    return changed


def skip_rows_with_problems(member_import: MemberImport) -> int:
    """Bulk fix: leave out every row that has a problem. Returns how many."""
    result = db.session.execute(
        delete(MemberImportRow).where(
            MemberImportRow.import_id == member_import.id, MemberImportRow.valid.is_(False)
        )
    )
    db.session.expire_all()
    recheck(member_import)
    return result.rowcount or 0


class ImportFailure(RuntimeError):
    """A row could not be written although it was checked: a bug, reported with the row."""

    def __init__(self, row_number: int, reason: str):
        super().__init__(f"row {row_number}: {reason}")
        self.row_number = row_number


@dataclass
class ImportResult:
    imported: int
    rejected: int
    households_created: int


def apply(member_import: MemberImport, *, actor_id: int | None = None) -> ImportResult:
    """Check the staged rows again against the register as it is now, then write every valid
    row. Call inside one transaction: the caller commits, or rolls back on error."""
    # Hold the import row while writing: a cancel waits, then finds it done (PostgreSQL).
    db.session.refresh(member_import, with_for_update=True)
    if member_import.status != ImportStatus.IMPORTING:
        raise ImportCancelled
    checked = check_rows(staged_records(member_import), RegisterSnapshot.load())
    result = write_rows(checked)
    member_import.imported_rows = result.imported
    member_import.rejected_rows = result.rejected
    member_import.status = ImportStatus.DONE
    member_import.finished_at = utcnow()
    member_import.error = None
    member_import.failed_step = None
    db.session.execute(delete(MemberImportRow).where(MemberImportRow.import_id == member_import.id))
    audit.record(
        "import",
        association_id=member_import.association_id,
        target=member_import,
        user_id=actor_id,
        imported=result.imported,
        rejected=result.rejected,
    )
    db.session.flush()
    return result


def write_rows(checked: list[CheckedRow]) -> ImportResult:
    """Write the valid rows: households (central ones first, so linked ones can name them),
    then members. New rows go in bulk INSERTs (a 10,000-row file in seconds); the import is
    audit-logged as one entry by the caller. Changes to existing households go through the
    ORM, so they are checked and logged like any edit."""
    scope = current_scope()
    association_id = scope.association_id
    valid = [row for row in checked if row.valid]
    existing = RegisterSnapshot.load().households
    household_ids = {address: household.id for address, household in existing.items()}
    created = 0
    for central_pass in (True, False):
        new: dict[str, dict] = {}
        for row in valid:
            key = row.household_key
            if not key or row.is_central != central_pass:
                continue
            current_row.set(row.number)
            central_id = household_ids.get(row.central_key) if row.central_key else None
            if row.central_key and central_id is None:
                raise ImportFailure(row.number, "central household not written")
            household = existing.get(key)
            if household is not None:
                if central_pass and not household.is_central:
                    household.central_household_id = None
                    household.central_link = None
                    household.is_central = True
                elif central_id and household.central_household_id != central_id:
                    household.central_household_id = central_id
                    household.central_link = True
                continue
            if key not in new and key not in household_ids:
                new[key] = {
                    "association_id": association_id,
                    "address": key,
                    "grid": row.values.get("grid") or None,
                    "building": row.values.get("building") or None,
                    "unit": row.values.get("unit") or None,
                    "is_central": central_pass,
                    "central_household_id": central_id,
                    "central_link": True if central_id else None,
                    "created_at": utcnow(),
                }
        db.session.flush()
        if new:
            inserted = db.session.execute(
                insert(Household).returning(
                    Household.id, Household.address, sort_by_parameter_order=True
                ),
                list(new.values()),
            )
            household_ids.update({address: household_id for household_id, address in inserted})
            created += len(new)
    members = []
    for row in valid:
        data = row.member
        data.household_id = household_ids[row.household_key] if row.household_key else None
        members.append(
            {
                **services.member_columns(data),
                "association_id": association_id,
                "status": data.status,
                "status_on": None,
                "created_at": utcnow(),
            }
        )
    for start in range(0, len(members), 2000):
        db.session.execute(insert(Member).returning(Member.id), members[start : start + 2000])
    return ImportResult(
        imported=len(members), rejected=len(checked) - len(valid), households_created=created
    )


def problem_rows(member_import: MemberImport, *, limit: int | None = 200) -> list[MemberImportRow]:
    query = (
        select(MemberImportRow)
        .where(MemberImportRow.import_id == member_import.id, MemberImportRow.valid.is_(False))
        .order_by(MemberImportRow.row_number)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def gender_mismatches(member_import: MemberImport) -> int:
    return sum(
        1
        for row in problem_rows(member_import, limit=None)
        if any(problem["code"] == "gender_mismatch" for problem in row.problems)
    )


def problem_workbook(member_import: MemberImport) -> bytes:
    """The rows that still have problems as .xlsx: the mapped columns under their field names
    (so the file maps by itself when it comes back), the row in the original file and the
    problems. ID and phone numbers are as typed (the secretary corrects them), so the download
    is audit-logged like an export that reveals them."""
    columns = [name for name in FIELDS if name in member_import.mapping.values()]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = gettext("Rows to correct")[:31]
    sheet.append(
        [str(FIELD_LABELS[name]) for name in columns]
        + [gettext("Row in the file"), gettext("Problems")]
    )
    rows = problem_rows(member_import, limit=None)
    for row in rows:
        values = row_values(row)
        problems = "; ".join(
            (f"{column_label(problem)}: " if column_label(problem) else "")
            + problem_message(problem)
            for problem in row.problems
        )
        sheet.append(
            [safe_cell(values.get(name, "")) for name in columns] + [row.row_number, problems]
        )
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            cell.number_format = "@"  # ID and phone numbers stay text when edited in Excel
    buffer = io.BytesIO()
    workbook.save(buffer)
    audit.record(
        "export",
        association_id=member_import.association_id,
        target=member_import,
        what="import_problem_rows",
        rows=len(rows),
        id_numbers="revealed",
        phones="revealed",
    )
    return buffer.getvalue()
