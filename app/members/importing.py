"""Importing members from a spreadsheet: upload → column mapping → validate every row → row
report → confirm → all valid rows in one transaction. Used by the web pages (as background
jobs with progress) and by `flask members import`.

Rows are staged encrypted in member_import_rows (they hold ID numbers); the uploaded file is
kept outside the web root under a random name and deleted as soon as its rows are read.
"""

import contextlib
import json
import re
import secrets
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from app.core import audit, crypto
from app.core.clock import china_today
from app.core.dates import DATE_RANGE_MESSAGE, is_sensible_date
from app.core.jobs import huey, job
from app.core.models import utcnow
from app.core.spreadsheets import (
    SpreadsheetError,
    Table,
    normalise_header,
    normalise_text,
    read_table,
    to_date,
)
from app.extensions import db
from app.members import services
from app.members.idnumbers import (
    IdNumberProblem,
    gender_of,
    mask_id_number,
    mask_phone,
    validate_id_number,
    validate_phone,
)
from app.members.labels import FIELD_LABELS, ID_NUMBER_PROBLEMS, PHONE_PROBLEM
from app.members.models import (
    Gender,
    Household,
    ImportStatus,
    Member,
    MemberImport,
    MemberImportRow,
    MemberStatus,
)
from tenants.context import current_scope, scope_for, tenant_context
from tenants.models import Association

FIELDS = tuple(FIELD_LABELS)
# Headings people use for each field (compared after normalise_header).
ALIASES = {
    "name": ("姓名", "名字", "会员姓名", "会员名称", "name", "fullname"),
    "gender": ("性别", "gender", "sex"),
    "phone": (
        "手机",
        "手机号",
        "手机号码",
        "电话",
        "联系电话",
        "电话号码",
        "联系方式",
        "移动电话",
        "phone",
        "mobile",
    ),
    "id_number": (
        "身份证号",
        "身份证号码",
        "身份证",
        "公民身份号码",
        "证件号码",
        "身份证件号码",
        "idnumber",
        "idcard",
    ),
    "address": ("住址", "地址", "家庭住址", "现住址", "居住地址", "家庭地址", "address"),
    "grid": ("网格", "所属网格", "网格名称", "grid"),
    "building": ("楼栋", "楼号", "栋", "楼栋号", "building"),
    "unit": ("单元", "单元号", "unit"),
    "joined_on": ("入会时间", "入会日期", "加入时间", "入会年月", "joinedon", "joindate"),
    "status": ("状态", "会员状态", "status"),
    "tags": ("标签", "类别", "骨干类别", "五老", "会员类别", "tags"),
    "is_central": ("是否中心户", "中心户", "iscentral", "centralhousehold?"),
    "central_household": (
        "所属中心户",
        "联系中心户",
        "所联中心户",
        "中心户户主",
        "所属中心户户主",
        "centralhouseholditbelongsto",
    ),
}
MAX_LENGTHS = {"name": 60, "address": 200, "grid": 60, "building": 60, "unit": 60}
YES = {"是", "y", "yes", "1", "√", "✓", "true", "中心户", "是中心户"}
NO = {"否", "n", "no", "0", "false", "×", "不是", "非中心户", ""}
STATUS_WORDS = {
    MemberStatus.ACTIVE: {"", "正常", "在册", "有效", "在籍", "active"},
    MemberStatus.LAPSED: {"失效", "欠费", "暂停", "lapsed"},
    MemberStatus.LEFT: {"退会", "已退会", "退出", "已退出", "迁出", "left"},
    MemberStatus.DECEASED: {"去世", "已故", "死亡", "身故", "deceased"},
}
GENDER_WORDS = {Gender.MALE: {"男", "m", "male"}, Gender.FEMALE: {"女", "f", "female"}}
BATCH = 500
ABANDONED_AFTER_SECONDS = 24 * 3600

PROBLEM_MESSAGES = {
    "required": _l("This column is required."),
    "too_long": _l("Too long: at most %(max)d characters."),
    "phone": PHONE_PROBLEM,
    "gender": _l("Write 男 or 女 (male or female)."),
    "gender_mismatch": _l("The gender does not match the ID number."),
    "date": _l("Not a date: write it as 2024-01-15, 2024/1/15 or 2024年1月15日."),
    "date_future": _l("The date is in the future."),
    "date_range": DATE_RANGE_MESSAGE,
    "status": _l("Unknown status: write 正常, 失效, 退会 or 去世."),
    "yes_no": _l("Write 是 or 否 (yes or no)."),
    "duplicate_row": _l("The same as row %(row)d."),
    "duplicate_in_file": _l("Row %(row)d has the same value."),
    "id_registered": _l(
        "This ID number is already registered for %(name)s (member no. %(number)d)."
    ),
    "phone_registered": _l(
        "This phone number is already registered for %(name)s (member no. %(number)d)."
    ),
    "central_not_found": _l("No central household “%(value)s” in the file or the register."),
    "central_and_linked": _l("A central household cannot belong to another central household."),
    "central_conflict": _l("Row %(row)d links the same household to another central household."),
    "central_full": _l("%(central)s would have more than %(limit)d linked households."),
    **{f"id_{code}": message for code, message in ID_NUMBER_PROBLEMS.items()},
}


def problem_message(problem: dict) -> str:
    # The lazy string translates without formatting; the parameters are filled in here.
    template = str(PROBLEM_MESSAGES[problem["code"]])
    params = problem.get("params") or {}
    return template % params if params else template


def column_label(problem: dict) -> str:
    column = problem.get("column")
    return str(FIELD_LABELS[column]) if column in FIELD_LABELS else ""


# ---- the file -----------------------------------------------------------------------------


def import_directory() -> Path:
    """Outside the web root (static/), under the instance folder unless configured."""
    configured = current_app.config.get("MEMBER_IMPORT_DIR")
    directory = Path(configured) if configured else Path(current_app.instance_path) / "imports"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


def save_upload(stream) -> str:
    """Store an uploaded file under a server-generated name; returns that name."""
    directory = import_directory()
    _remove_abandoned(directory)
    name = secrets.token_hex(16) + ".upload"
    with (directory / name).open("wb") as target:
        while chunk := stream.read(1024 * 1024):
            target.write(chunk)
    return name


def _remove_abandoned(directory: Path) -> None:
    """Files of imports left at the mapping step for over a day are deleted."""
    cutoff = time.time() - ABANDONED_AFTER_SECONDS
    for path in directory.glob("*.upload"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < cutoff:
                path.unlink()


def _path(stored_name: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}\.upload", stored_name):
        raise ValueError("unexpected stored file name")
    return import_directory() / stored_name


def discard_file(member_import: MemberImport) -> None:
    if member_import.stored_name:
        _path(member_import.stored_name).unlink(missing_ok=True)
        member_import.stored_name = None


def guess_mapping(headers: list[str]) -> dict[str, str]:
    """Column index (as text) → field, for headings that match a known alias; exact matches
    first, then headings that contain an alias (longest alias first)."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    normalised = [normalise_header(header) for header in headers]
    exact = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
    for index, header in enumerate(normalised):
        name = exact.get(header)
        if name and name not in taken:
            mapping[str(index)] = name
            taken.add(name)
    by_length = sorted(exact.items(), key=lambda item: -len(item[0]))
    for index, header in enumerate(normalised):
        if str(index) in mapping or not header:
            continue
        for alias, name in by_length:
            if name not in taken and len(alias) > 1 and alias in header:
                mapping[str(index)] = name
                taken.add(name)
                break
    return mapping


def check_mapping(mapping: dict[str, str]) -> None:
    fields = [name for name in mapping.values() if name]
    if "name" not in fields:
        raise services.RegisterError(_l("Choose which column holds the name."))
    duplicates = {name for name in fields if fields.count(name) > 1}
    if duplicates:
        raise services.RegisterError(
            _l(
                "Each field can come from one column only: %(fields)s.",
                fields="、".join(str(FIELD_LABELS[name]) for name in sorted(duplicates)),
            )
        )
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise services.RegisterError(_l("Unknown field in the mapping."))


def _masked_sample(value) -> str:
    text = normalise_text(value)
    if re.fullmatch(r"\d{17}[\dXx]|\d{15}", text):
        return mask_id_number(text)
    if re.fullmatch(r"1\d{10}", text):
        return mask_phone(text)
    return text[:40]


def begin_import(*, filename: str, stored_name: str, created_by_id: int | None) -> MemberImport:
    """Read the uploaded file's headings and guess the mapping. SpreadsheetError (the file is
    deleted) when it cannot be read."""
    try:
        table = read_table(_path(stored_name))
    except SpreadsheetError:
        _path(stored_name).unlink(missing_ok=True)
        raise
    member_import = MemberImport(
        filename=(filename or "upload")[-200:],
        stored_name=stored_name,
        created_by_id=created_by_id,
        status=ImportStatus.MAPPING,
        headers=table.headers,
        samples=[[_masked_sample(cell) for cell in row] for row in table.rows[:3]],
        mapping=guess_mapping(table.headers),
        total_rows=len(table.rows),
    )
    db.session.add(member_import)
    db.session.flush()
    return member_import


def set_mapping(member_import: MemberImport, mapping: dict[str, str]) -> None:
    mapping = {index: name for index, name in mapping.items() if name}
    check_mapping(mapping)
    member_import.mapping = mapping
    member_import.status = ImportStatus.VALIDATING
    member_import.processed_rows = 0
    db.session.flush()


# ---- turning cells into values, and checking them -------------------------------------------


def records_from_table(table: Table, mapping: dict[str, str]) -> list[tuple[int, dict]]:
    records = []
    columns = [(int(index), name) for index, name in mapping.items()]
    for number, row in zip(table.row_numbers, table.rows, strict=True):
        values: dict = {}
        for index, name in columns:
            cell = row[index] if index < len(row) else ""
            if name == "id_number" and isinstance(cell, float) and cell >= 1e14:
                values["_id_numeric"] = True
            values[name] = normalise_text(cell)
        records.append((number, values))
    return records


@dataclass
class CheckedRow:
    number: int
    values: dict
    problems: list[dict] = field(default_factory=list)
    member: services.MemberInput | None = None
    household_key: str | None = None
    is_central: bool = False
    central_key: str | None = None  # the address of the central household it belongs to

    @property
    def valid(self) -> bool:
        return not self.problems

    def add(self, column: str | None, code: str, **params) -> None:
        self.problems.append({"column": column, "code": code, "params": params})


@dataclass
class RegisterSnapshot:
    """What the register already holds, loaded once per validation."""

    by_id_hash: dict[str, tuple[int, str]]
    by_phone_hash: dict[str, tuple[int, str]]
    households: dict[str, Household]  # by address
    central_by_member_name: dict[str, str]  # member name -> central household address
    linked_counts: dict[int, int]
    limit: int

    @classmethod
    def load(cls) -> "RegisterSnapshot":
        by_id, by_phone = {}, {}
        for row in db.session.execute(
            select(Member.id, Member.name, Member.id_number_hash, Member.phone_hash)
        ):
            if row.id_number_hash:
                by_id[row.id_number_hash] = (row.id, row.name)
            if row.phone_hash:
                by_phone[row.phone_hash] = (row.id, row.name)
        households: dict[str, Household] = {}
        for household in db.session.scalars(select(Household).order_by(Household.id)):
            households.setdefault(household.address, household)
        central_names = {
            row.name: row.address
            for row in db.session.execute(
                select(Member.name, Household.address)
                .join(Household, Household.id == Member.household_id)
                .where(Household.is_central.is_(True))
            )
        }
        linked_counts: dict[int, int] = defaultdict(int)
        for household in households.values():
            if household.central_household_id:
                linked_counts[household.central_household_id] += 1
        return cls(
            by_id, by_phone, households, central_names, linked_counts, services.linkage_limit()
        )


def check_rows(records: list[tuple[int, dict]], snapshot: RegisterSnapshot) -> list[CheckedRow]:
    rows = [_check_row(number, values, snapshot) for number, values in records]
    _check_duplicates_in_file(rows)
    _check_linkage(rows, snapshot)
    return rows


def _check_row(number: int, values: dict, snapshot: RegisterSnapshot) -> CheckedRow:
    row = CheckedRow(number=number, values=values)
    name = values.get("name", "")
    if not name:
        row.add("name", "required")
    for column, limit in MAX_LENGTHS.items():
        if len(values.get(column, "")) > limit:
            row.add(column, "too_long", max=limit)
    id_number = None
    if values.get("_id_numeric"):
        row.add("id_number", "id_numeric_cell")
    elif values.get("id_number"):
        try:
            id_number = validate_id_number(values["id_number"])
        except IdNumberProblem as problem:
            row.add("id_number", f"id_{problem.code}")
    phone = None
    if values.get("phone"):
        try:
            phone = validate_phone(values["phone"])
        except ValueError:
            row.add("phone", "phone")
    gender = _gender(values.get("gender", ""), row)
    if gender and id_number and gender_of(id_number) != gender.value:
        row.add("gender", "gender_mismatch")
    joined_on = _date(values.get("joined_on", ""), "joined_on", row)
    status = _status(values.get("status", ""), row)
    row.is_central = _yes_no(values.get("is_central", ""), row)
    if id_number and (hit := snapshot.by_id_hash.get(crypto.lookup_hash(id_number))):
        row.add("id_number", "id_registered", name=hit[1], number=hit[0])
    if phone and (hit := snapshot.by_phone_hash.get(crypto.lookup_hash(phone))):
        row.add("phone", "phone_registered", name=hit[1], number=hit[0])
    row.household_key = values.get("address") or None
    tags = re.split(r"[,，、;；/\s]+", values.get("tags", ""))
    row.member = services.MemberInput(
        name=name,
        gender=gender,
        phone=phone,
        id_number=id_number,
        joined_on=joined_on,
        status=status or MemberStatus.ACTIVE,
        tags=[tag[:30] for tag in tags if tag],
    )
    return row


def _gender(text: str, row: CheckedRow) -> Gender | None:
    word = text.lower()
    for gender, words in GENDER_WORDS.items():
        if word in words:
            return gender
    if word:
        row.add("gender", "gender")
    return None


def _date(text: str, column: str, row: CheckedRow) -> date | None:
    if not text:
        return None
    try:
        value = to_date(text)
    except ValueError:
        row.add(column, "date")
        return None
    if not is_sensible_date(value):
        row.add(column, "date_range")
        return None
    if value > china_today():
        row.add(column, "date_future")
    return value


def _status(text: str, row: CheckedRow) -> MemberStatus | None:
    word = text.lower()
    for status, words in STATUS_WORDS.items():
        if word in words:
            return status
    row.add("status", "status")
    return None


def _yes_no(text: str, row: CheckedRow) -> bool:
    word = text.lower()
    if word in YES:
        return True
    if word not in NO:
        row.add("is_central", "yes_no")
    return False


def _check_duplicates_in_file(rows: list[CheckedRow]) -> None:
    seen_rows: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    seen_phones: dict[str, int] = {}
    for row in rows:
        fingerprint = json.dumps(row.values, sort_keys=True, ensure_ascii=False)
        if fingerprint in seen_rows:
            row.add(None, "duplicate_row", row=seen_rows[fingerprint])
            continue
        seen_rows[fingerprint] = row.number
        member = row.member
        if member.id_number:
            if member.id_number in seen_ids:
                row.add("id_number", "duplicate_in_file", row=seen_ids[member.id_number])
            else:
                seen_ids[member.id_number] = row.number
        if member.phone:
            if member.phone in seen_phones:
                row.add("phone", "duplicate_in_file", row=seen_phones[member.phone])
            else:
                seen_phones[member.phone] = row.number


def _check_linkage(rows: list[CheckedRow], snapshot: RegisterSnapshot) -> None:
    """Resolve 所属中心户 to a central household (by its address, or by the name of a member
    living there) from the file or the register, and apply the linkage rules."""
    central_addresses = {
        address for address, household in snapshot.households.items() if household.is_central
    }
    central_by_name = dict(snapshot.central_by_member_name)
    for row in rows:
        if row.is_central and row.household_key:
            central_addresses.add(row.household_key)
            if row.member.name:
                central_by_name.setdefault(row.member.name, row.household_key)
    household_central: dict[str, tuple[str, int]] = {}
    new_links: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        reference = row.values.get("central_household", "")
        if not reference:
            continue
        if row.is_central or row.household_key in central_addresses:
            row.add("central_household", "central_and_linked")
            continue
        central_key = (
            reference if reference in central_addresses else central_by_name.get(reference)
        )
        if central_key is None:
            row.add("central_household", "central_not_found", value=reference[:40])
            continue
        if row.household_key is None:
            row.add("address", "required")
            continue
        earlier = household_central.get(row.household_key)
        if earlier and earlier[0] != central_key:
            row.add("central_household", "central_conflict", row=earlier[1])
            continue
        household_central[row.household_key] = (central_key, row.number)
        row.central_key = central_key
        existing = snapshot.households.get(row.household_key)
        central = snapshot.households.get(central_key)
        already = (
            existing is not None
            and central is not None
            and existing.central_household_id == central.id
        )
        if not already:
            new_links[central_key].add(row.household_key)
        current = snapshot.linked_counts.get(central.id, 0) if central is not None else 0
        if current + len(new_links[central_key]) > snapshot.limit:
            row.add(
                "central_household", "central_full", central=central_key[:40], limit=snapshot.limit
            )
            new_links[central_key].discard(row.household_key)
            row.central_key = None


# ---- the background steps --------------------------------------------------------------------


def validate(member_import: MemberImport, *, progress: bool = True) -> None:
    """Check every row (from the file the first time, from the staged rows after a fix) and
    stage them with their problems; the file is deleted once read."""
    if member_import.stored_name:
        try:
            table = read_table(_path(member_import.stored_name))
        finally:
            discard_file(member_import)
        records = records_from_table(table, member_import.mapping)
    else:
        records = staged_records(member_import)
    checked = check_rows(records, RegisterSnapshot.load())
    db.session.execute(delete(MemberImportRow).where(MemberImportRow.import_id == member_import.id))
    member_import.total_rows = len(checked)
    member_import.processed_rows = 0
    for start in range(0, len(checked), BATCH):
        batch = checked[start : start + BATCH]
        # Staging rows are transient working data: inserted in bulk, outside the per-row
        # audit trail (the import itself is logged when applied).
        db.session.execute(
            insert(MemberImportRow),
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
            db.session.commit()
    member_import.valid_rows = sum(1 for row in checked if row.valid)
    member_import.rejected_rows = len(checked) - member_import.valid_rows
    member_import.status = ImportStatus.VALIDATED
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


def fix_row(member_import: MemberImport, row: MemberImportRow, values: dict) -> None:
    """The user corrected a flagged row: store the new values; the import is checked again."""
    cleaned = {
        name: normalise_text(values.get(name, "")) for name in member_import.mapping.values()
    }
    row.values_encrypted = crypto.encrypt(json.dumps(cleaned, ensure_ascii=False))
    member_import.status = ImportStatus.VALIDATING
    member_import.processed_rows = 0
    db.session.flush()


def skip_row(member_import: MemberImport, row: MemberImportRow) -> None:
    db.session.delete(row)
    member_import.status = ImportStatus.VALIDATING
    member_import.processed_rows = 0
    db.session.flush()


@dataclass
class ImportResult:
    imported: int
    rejected: int
    households_created: int


def apply(member_import: MemberImport, *, actor_id: int | None = None) -> ImportResult:
    """Check the staged rows again against the register as it is now, then write every valid
    row. Call inside one transaction: the caller commits, or rolls back on error."""
    checked = check_rows(staged_records(member_import), RegisterSnapshot.load())
    result = write_rows(checked)
    member_import.imported_rows = result.imported
    member_import.rejected_rows = result.rejected
    member_import.status = ImportStatus.DONE
    member_import.finished_at = utcnow()
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
            central_id = household_ids[row.central_key] if row.central_key else None
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
            if key not in new:
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
        db.session.execute(insert(Member), members[start : start + 2000])
    return ImportResult(
        imported=len(members), rejected=len(checked) - len(valid), households_created=created
    )


# ---- running the steps in the background -----------------------------------------------------


def _load_for_job(import_id: int) -> MemberImport | None:
    return db.session.scalar(select(MemberImport).where(MemberImport.id == import_id))


@job
def run_import_step(import_id: int, association_id: int, actor_id: int | None, step: str) -> None:
    """The validate or apply step of an import, for the current association, in a job."""
    association = db.session.get(Association, association_id)
    with tenant_context(scope_for(association, writable=True)):
        member_import = _load_for_job(import_id)
        if member_import is None:
            return
        try:
            if step == "validate":
                validate(member_import)
            else:
                apply(member_import, actor_id=actor_id)
            db.session.commit()
        except (SpreadsheetError, IntegrityError, ValueError) as error:
            db.session.rollback()
            _fail(import_id, error)


def _fail(import_id: int, error: Exception) -> None:
    member_import = _load_for_job(import_id)
    if member_import is None:
        return
    if isinstance(error, SpreadsheetError):
        member_import.error = str(error.message)
    elif isinstance(error, IntegrityError):
        member_import.error = gettext(
            "The register changed while importing (a duplicate appeared). Nothing was "
            "imported: check the rows again and confirm."
        )
        member_import.status = ImportStatus.VALIDATED
        db.session.commit()
        return
    else:
        member_import.error = gettext("The import failed: nothing was imported.")
    discard_file(member_import)
    member_import.status = ImportStatus.FAILED
    member_import.finished_at = utcnow()
    db.session.commit()


def start_step(member_import: MemberImport, step: str, actor_id: int | None) -> None:
    """Hand a step to the job queue. The caller has committed the import row already. With
    no worker (local demo: jobs inline), a thread keeps the request from waiting; tests run
    it inline."""
    args = (member_import.id, member_import.association_id, actor_id, step)
    if huey.immediate and not current_app.testing:
        app = current_app._get_current_object()

        def run() -> None:
            with app.app_context():
                run_import_step.call_local(*args)

        threading.Thread(target=run, name=f"member-import-{member_import.id}", daemon=True).start()
        return
    run_import_step(*args)


def mark_step_started(member_import: MemberImport, step: str) -> None:
    member_import.status = ImportStatus.VALIDATING if step == "validate" else ImportStatus.IMPORTING
    member_import.processed_rows = 0
    member_import.error = None
    db.session.flush()


def cancel(member_import: MemberImport) -> None:
    discard_file(member_import)
    db.session.execute(delete(MemberImportRow).where(MemberImportRow.import_id == member_import.id))
    member_import.status = ImportStatus.CANCELLED
    member_import.finished_at = utcnow()
    db.session.flush()


def problem_rows(member_import: MemberImport, *, limit: int = 200) -> list[MemberImportRow]:
    return list(
        db.session.scalars(
            select(MemberImportRow)
            .where(MemberImportRow.import_id == member_import.id, MemberImportRow.valid.is_(False))
            .order_by(MemberImportRow.row_number)
            .limit(limit)
        )
    )


def recent_imports(limit: int = 10) -> list[MemberImport]:
    return list(
        db.session.scalars(select(MemberImport).order_by(MemberImport.id.desc()).limit(limit))
    )
