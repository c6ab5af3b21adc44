"""Importing members from a spreadsheet: upload → column mapping → validate every row → row
report → confirm → all valid rows in one transaction. Used by the web pages (as background
jobs with progress) and by `flask members import`.

Rows are staged encrypted in member_import_rows (they hold ID numbers); the uploaded file is
kept outside the web root under a random name and deleted as soon as its rows are read.
"""

import contextlib
import contextvars
import io
import json
import logging
import re
import secrets
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from flask import current_app
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.core import audit, crypto
from app.core.clock import china_today
from app.core.dates import DATE_RANGE_MESSAGE, is_sensible_date
from app.core.jobs import huey, job
from app.core.models import utcnow
from app.core.sheet_layout import SKIP_REASONS
from app.core.spreadsheets import (
    SpreadsheetError,
    Table,
    normalise_header,
    normalise_text,
    read_table,
    safe_cell,
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
    ImportMapping,
    ImportStatus,
    Member,
    MemberImport,
    MemberImportRow,
    MemberStatus,
)
from tenants.context import current_scope, scope_for, tenant_context
from tenants.models import Association

log = logging.getLogger(__name__)
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
    "address": (
        "家庭住址",
        "现住址",
        "住址",
        "地址",
        "居住地址",
        "家庭地址",
        "现居住地址",
        "户籍地址",
        "户籍地",
        "address",
        "homeaddress",
    ),
    "grid": ("网格", "所属网格", "网格名称", "grid"),
    "building": ("楼栋", "楼号", "栋", "楼栋号", "building"),
    "unit": ("单元", "单元号", "unit"),
    "joined_on": (
        "入会时间",
        "入会日期",
        "加入时间",
        "入会年月",
        "入会年份",
        "joinedon",
        "joindate",
        "joined",
        "memberssince",
        "membersince",
    ),
    "status": ("状态", "会员状态", "status"),
    "tags": ("标签", "类别", "骨干类别", "五老", "会员类别", "tags"),
    "is_central": (
        "是否中心户",
        "中心户",
        "是否为中心户",
        "中心户(是/否)",
        "iscentral",
        "centralhousehold?",
        "central",
    ),
    "central_household": (
        "所属中心户",
        "联系中心户",
        "所联中心户",
        "中心户户主",
        "所属中心户户主",
        "联系户所属中心户",
        "对应中心户",
        "centralhouseholditbelongsto",
        "linkedto",
    ),
}
# Headings that contain an alias's word but hold something else (a landline is not the
# mobile number; 序号 numbers the rows): such columns are not guessed.
NOT_GUESSED = (
    "固话",
    "座机",
    "固定电话",
    "办公电话",
    "家庭电话",
    "landline",
    "序号",
    "备注",
    "remarks",
    "notes",
    "出生",
    "年龄",
)
# Every heading word the reader scores rows with, to find the heading row.
HEADING_WORDS = frozenset(
    normalise_header(alias) for aliases in ALIASES.values() for alias in aliases
)
MAX_LENGTHS = {"name": 60, "address": 200, "grid": 60, "building": 60, "unit": 60}
YES = {"是", "y", "yes", "1", "√", "✓", "true", "中心户", "是中心户"}
NO = {
    "否",
    "n",
    "no",
    "0",
    "false",
    "×",
    "不是",
    "非中心户",
    "联系户",
    "联户",
    "一般户",
    "普通户",
    "",
}
STATUS_WORDS = {
    MemberStatus.ACTIVE: {"", "正常", "在册", "有效", "在籍", "active"},
    MemberStatus.LAPSED: {"失效", "欠费", "暂停", "lapsed"},
    MemberStatus.LEFT: {"退会", "已退会", "退出", "已退出", "迁出", "left"},
    MemberStatus.DECEASED: {"去世", "已故", "死亡", "身故", "deceased"},
}
GENDER_WORDS = {
    Gender.MALE: {"男", "男性", "m", "male"},
    Gender.FEMALE: {"女", "女性", "f", "female"},
}
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
    "central_not_found": _l(
        "No central household “%(value)s” in the file or the register: write the address or "
        "the name of a central household, or mark its row 中心户."
    ),
    "central_row_problem": _l(
        "Its central household (中心户) on row %(row)d has a problem: correct that row first."
    ),
    "central_ambiguous_in_file": _l(
        "Several central households in the file are called “%(value)s” (rows %(rows)s): write "
        "the address of the one this household belongs to."
    ),
    "central_by_name_only": _l(
        "“%(value)s” is not a central household in this file. In the register, the central "
        "household of %(value)s is at %(addresses)s: write that address to link to it."
    ),
    "central_needs_address": _l("A central household (中心户) needs its address."),
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


def _label_aliases() -> dict[str, str]:
    """The field labels themselves, in both languages: a file downloaded from the problem
    report (headed with them) maps by itself when it comes back."""
    aliases = {}
    for locale in ("en", "zh_Hans_CN"):
        with force_locale(locale):
            for name, label in FIELD_LABELS.items():
                aliases.setdefault(normalise_header(str(label)), name)
    return aliases


def guess_mapping(headers: list[str], saved: dict[str, str] | None = None) -> dict[str, str]:
    """Column index (as text) → field. A heading the association mapped before keeps its
    field (`saved`, heading key → field or "" for ignored); others match a known alias: exact
    matches first (for a two-row heading, the lower heading, then both), then headings that
    contain an alias (longest alias first). Landline, 序号 and remark columns are not guessed."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    full = [normalise_header(header) for header in headers]
    lower = [normalise_header(header.rsplit(" / ", 1)[-1]) for header in headers]
    exact = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
    exact.update({alias: name for alias, name in _label_aliases().items() if alias})
    decided: set[int] = set()
    for index, key in enumerate(full):
        if saved and key and key in saved:
            decided.add(index)
            name = saved[key]
            if name in FIELD_LABELS and name not in taken:
                mapping[str(index)] = name
                taken.add(name)
    undecided = [
        index
        for index in range(len(headers))
        if index not in decided
        and full[index]
        and not any(word in full[index] for word in NOT_GUESSED)
    ]
    # Where two columns match one field exactly, the heading listed first in ALIASES wins
    # (家庭住址 over 户籍地址, 手机号码 over 联系电话), whatever their order in the file.
    rank = {
        alias: position for aliases in ALIASES.values() for position, alias in enumerate(aliases)
    }
    for keys in (lower, full):
        matches = sorted(
            (rank.get(keys[index], 99), index, exact[keys[index]])
            for index in undecided
            if keys[index] in exact
        )
        for _, index, name in matches:
            if str(index) not in mapping and name not in taken:
                mapping[str(index)] = name
                taken.add(name)
    by_length = sorted(exact.items(), key=lambda item: -len(item[0]))
    for keys in (lower, full):
        for index in undecided:
            if str(index) in mapping:
                continue
            for alias, name in by_length:
                if name not in taken and len(alias) > 1 and alias in keys[index]:
                    mapping[str(index)] = name
                    taken.add(name)
                    break
    return mapping


def saved_mapping() -> dict[str, str]:
    """The association's column choices from its last import (heading key → field)."""
    saved = db.session.scalar(select(ImportMapping).where(ImportMapping.kind == "members"))
    return dict(saved.fields) if saved else {}


def remember_mapping(headers: list[str], mapping: dict[str, str]) -> None:
    """Keep the user's choice of field for each heading, for the next import."""
    saved = db.session.scalar(select(ImportMapping).where(ImportMapping.kind == "members"))
    if saved is None:
        saved = ImportMapping(kind="members", fields={})
        db.session.add(saved)
    fields = dict(saved.fields or {})
    for index, header in enumerate(headers):
        key = normalise_header(header)
        if key:
            fields[key] = mapping.get(str(index), "")
    # The newest choices win; a register's headings are few, so the table stays small.
    saved.fields = dict(list(fields.items())[-300:])
    saved.updated_at = utcnow()


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


_ID_IN_TEXT = re.compile(r"(?<!\d)(\d{17}[\dXx]|\d{15})(?!\d)")
_PHONE_IN_TEXT = re.compile(r"(?<!\d)(1\d{10})(?!\d)")


def _masked_text(text: str) -> str:
    """ID and mobile numbers inside a line of text, masked (for previews and skipped rows)."""
    text = _ID_IN_TEXT.sub(lambda match: mask_id_number(match[1]), text)
    return _PHONE_IN_TEXT.sub(lambda match: mask_phone(match[1]), text)


def _read(stored_name: str, layout: dict | None = None) -> Table:
    layout = layout or {}
    return read_table(
        _path(stored_name),
        headings=HEADING_WORDS,
        sheet=layout.get("sheet") if layout.get("sheet_chosen") else None,
        heading_row=layout.get("heading_row"),
    )


MAX_LISTED_SKIPS = 500


def _layout_of(table: Table, *, sheet_chosen: bool, heading_row: int | None) -> dict:
    return {
        "format": table.format,
        "sheet": table.sheet,
        "sheets": table.sheets,
        "sheet_chosen": sheet_chosen or not table.sheet_choice_needed,
        "heading_row": heading_row,
        "heading_rows": table.heading_rows,
        "skipped": [
            [skipped.number, skipped.reason, _masked_text(skipped.text)]
            for skipped in table.skipped[:MAX_LISTED_SKIPS]
        ],
        "skipped_count": len(table.skipped),
        "blank_rows": table.blank_rows,
        "preview": [
            [number, [_masked_text(cell) for cell in cells]] for number, cells in table.preview
        ],
    }


def _samples(table: Table) -> list[list[str]]:
    """Two values of each column (the first non-empty ones), masked."""
    samples: list[list[str]] = [[] for _ in table.headers]
    for row in table.rows[:200]:
        for index, cell in enumerate(row):
            if len(samples[index]) < 2 and normalise_text(cell):
                samples[index].append(_masked_sample(cell))
    return samples


def _fill_from_table(member_import: MemberImport, table: Table, layout: dict) -> None:
    saved = saved_mapping()
    member_import.headers = table.headers
    member_import.samples = _samples(table)
    member_import.mapping = guess_mapping(table.headers, saved)
    member_import.total_rows = len(table.rows)
    layout["remembered"] = any(normalise_header(header) in saved for header in table.headers)
    member_import.layout = layout


def begin_import(*, filename: str, stored_name: str, created_by_id: int | None) -> MemberImport:
    """Find the table in the uploaded file and guess the mapping. SpreadsheetError (the file
    is deleted) when it cannot be read."""
    try:
        table = _read(stored_name)
    except SpreadsheetError:
        _path(stored_name).unlink(missing_ok=True)
        raise
    member_import = MemberImport(
        filename=(filename or "upload")[-200:],
        stored_name=stored_name,
        created_by_id=created_by_id,
        status=ImportStatus.MAPPING,
    )
    _fill_from_table(member_import, table, _layout_of(table, sheet_chosen=False, heading_row=None))
    db.session.add(member_import)
    db.session.flush()
    return member_import


def set_layout(member_import: MemberImport, *, sheet: str | None, heading_row: int | None) -> None:
    """The user chose the sheet and/or moved the heading row: read the file again with those
    choices. SpreadsheetError (the import stays as it was) when that finds no table."""
    if member_import.status != ImportStatus.MAPPING or not member_import.stored_name:
        raise services.RegisterError(_l("This import is past the column step."))
    layout = dict(member_import.layout or {})
    if sheet:
        layout["sheet"], layout["sheet_chosen"] = sheet, True
    layout["heading_row"] = heading_row
    table = _read(member_import.stored_name, layout)
    _fill_from_table(
        member_import,
        table,
        _layout_of(table, sheet_chosen=layout.get("sheet_chosen", False), heading_row=heading_row),
    )
    db.session.flush()


def skipped_rows(member_import: MemberImport) -> list[tuple[int, str, str]]:
    """Rows of the file that are not members, with the reason, for the report."""
    return [
        (number, str(SKIP_REASONS.get(reason, reason)), text)
        for number, reason, text in (member_import.layout or {}).get("skipped", [])
    ]


def set_mapping(member_import: MemberImport, mapping: dict[str, str]) -> None:
    mapping = {index: name for index, name in mapping.items() if name}
    check_mapping(mapping)
    member_import.mapping = mapping
    member_import.status = ImportStatus.VALIDATING
    member_import.processed_rows = 0
    remember_mapping(member_import.headers, mapping)
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
            text = normalise_text(cell)
            if name in ("id_number", "phone"):
                text = text.lstrip("'`‘’")  # Excel's text marker, kept by some exports
            values[name] = text
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
    central_by_member_name: dict[str, list[str]]  # member name -> central households' addresses
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
        central_names: dict[str, list[str]] = defaultdict(list)
        for row in db.session.execute(
            select(Member.name, Household.address)
            .join(Household, Household.id == Member.household_id)
            .where(Household.is_central.is_(True))
            .order_by(Household.id)
        ):
            if row.address not in central_names[row.name]:
                central_names[row.name].append(row.address)
        linked_counts: dict[int, int] = defaultdict(int)
        for household in households.values():
            if household.central_household_id:
                linked_counts[household.central_household_id] += 1
        return cls(
            by_id, by_phone, households, central_names, linked_counts, services.linkage_limit()
        )


# The spreadsheet row being worked on, for the log when a step fails unexpectedly.
current_row: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "member_import_row", default=None
)


def check_rows(records: list[tuple[int, dict]], snapshot: RegisterSnapshot) -> list[CheckedRow]:
    rows = []
    for number, values in records:
        current_row.set(number)
        rows.append(_check_row(number, values, snapshot))
    _check_duplicates_in_file(rows)
    _check_linkage(rows, snapshot)
    current_row.set(None)
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
    """Resolve 所属中心户 to a central household and apply the linkage rules. A reference is
    looked up in the file first (a row marked 中心户, by its address or its member's name),
    then in the register, where only an address is unambiguous: a name alone may be someone
    else's, so the row says which address to write. A row whose central household's own row
    has a problem is held back with it, never written half-linked."""
    register_central = {
        address for address, household in snapshot.households.items() if household.is_central
    }
    file_central: dict[str, CheckedRow] = {}
    file_central_by_name: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if not row.is_central:
            continue
        if not row.household_key:
            row.add("address", "central_needs_address")
            continue
        file_central.setdefault(row.household_key, row)
        name = row.member.name if row.member else ""
        if name and row.household_key not in file_central_by_name[name]:
            file_central_by_name[name].append(row.household_key)
        if row.values.get("central_household"):
            row.add("central_household", "central_and_linked")
    household_central: dict[str, tuple[str, int]] = {}
    new_links: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        reference = row.values.get("central_household", "")
        if not reference or row.is_central:
            continue
        current_row.set(row.number)
        if row.household_key in file_central or row.household_key in register_central:
            row.add("central_household", "central_and_linked")
            continue
        central_key = _resolve_central(
            row, reference, file_central, file_central_by_name, register_central, snapshot
        )
        if central_key is None:
            continue
        central_row = file_central.get(central_key)
        if central_row is not None and not central_row.valid:
            row.add("central_household", "central_row_problem", row=central_row.number)
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


def register_central_choices(row: MemberImportRow) -> list[str]:
    """Addresses of the register's central households a row named by a member's name only,
    for the user to pick one."""
    return [
        address
        for problem in row.problems
        if problem["code"] == "central_by_name_only"
        for address in problem["params"]["addresses"].split("、")
    ]


def _resolve_central(
    row: CheckedRow,
    reference: str,
    file_central: dict[str, CheckedRow],
    file_central_by_name: dict[str, list[str]],
    register_central: set[str],
    snapshot: RegisterSnapshot,
) -> str | None:
    """The address of the central household a reference names, or None with the problem
    added to the row. 张三户 and 张三家 name 张三's household."""
    if len(reference) > 2 and reference[-1] in "户家" and reference not in file_central:
        short = reference[:-1]
        if short in file_central_by_name or short in snapshot.central_by_member_name:
            reference = short
    if reference in file_central:
        return reference
    by_name = file_central_by_name.get(reference, [])
    if len(by_name) == 1:
        return by_name[0]
    if by_name:
        rows = "、".join(str(file_central[address].number) for address in by_name[:5])
        row.add("central_household", "central_ambiguous_in_file", value=reference[:40], rows=rows)
        return None
    if reference in register_central:
        return reference
    addresses = snapshot.central_by_member_name.get(reference, [])
    # "name address" (张三 幸福路1号, 张三(幸福路1号)) names one household unambiguously.
    for name, candidates in snapshot.central_by_member_name.items():
        if name and name in reference:
            for address in candidates:
                if address in reference and len(address) > 1:
                    return address
    if addresses:
        row.add(
            "central_household",
            "central_by_name_only",
            value=reference[:40],
            addresses="、".join(address[:40] for address in addresses[:3]),
        )
        return None
    row.add("central_household", "central_not_found", value=reference[:40])
    return None


# ---- the background steps --------------------------------------------------------------------


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
    table = _read(member_import.stored_name, member_import.layout)
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


# ---- running the steps in the background -----------------------------------------------------


def _load_for_job(import_id: int) -> MemberImport | None:
    return db.session.scalar(select(MemberImport).where(MemberImport.id == import_id))


@job
def run_import_step(import_id: int, association_id: int, actor_id: int | None, step: str) -> None:
    """The validate or apply step of an import, for the current association, in a job. Any
    failure rolls the step back (nothing is written), is logged with the row it happened at,
    and is shown on the import's page, which offers to retry or cancel."""
    association = db.session.get(Association, association_id)
    with tenant_context(scope_for(association, writable=True)):
        member_import = _load_for_job(import_id)
        if member_import is None or not member_import.in_progress:
            return
        current_row.set(None)
        try:
            if step == "validate":
                validate(member_import)
            else:
                apply(member_import, actor_id=actor_id)
            db.session.commit()
        except ImportCancelled:
            db.session.rollback()
        except Exception as error:  # noqa: BLE001 - every failure must reach the page
            row = current_row.get()
            db.session.rollback()
            # The type only: a database error's text can hold the row's personal data.
            log.error(
                "member import %s (association %s): the %s step failed at row %s: %s",
                import_id,
                association_id,
                step,
                row,
                type(error).__name__,
            )
            _fail(import_id, step, error, row)


def _fail(import_id: int, step: str, error: Exception, row: int | None) -> None:
    member_import = _load_for_job(import_id)
    if member_import is None or member_import.status == ImportStatus.CANCELLED:
        return
    if isinstance(error, IntegrityError) and step == "apply":
        member_import.error = gettext(
            "The register changed while importing (a duplicate appeared). Nothing was "
            "imported: check the rows again and confirm."
        )
        member_import.status = ImportStatus.VALIDATED
        db.session.commit()
        return
    if isinstance(error, SpreadsheetError):
        member_import.error = str(error.message)
    else:
        member_import.error = None
    member_import.layout = {**(member_import.layout or {}), "failed_at_row": row}
    member_import.failed_step = step
    member_import.status = ImportStatus.FAILED
    member_import.finished_at = utcnow()
    db.session.commit()


def can_retry(member_import: MemberImport) -> bool:
    if member_import.status != ImportStatus.FAILED or not member_import.failed_step:
        return False
    if member_import.failed_step == "validate" and not member_import.stored_name:
        return staged_row_count(member_import) > 0
    return True


def staged_row_count(member_import: MemberImport) -> int:
    return len(
        db.session.scalars(
            select(MemberImportRow.id).where(MemberImportRow.import_id == member_import.id)
        ).all()
    )


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
    member_import.failed_step = None
    member_import.layout = {
        key: value for key, value in (member_import.layout or {}).items() if key != "failed_at_row"
    }
    db.session.flush()


CANCELLABLE = (
    ImportStatus.MAPPING,
    ImportStatus.VALIDATING,
    ImportStatus.VALIDATED,
    ImportStatus.IMPORTING,
    ImportStatus.FAILED,
)


def cancel(member_import: MemberImport) -> bool:
    """Cancel at any step before the end, also a step that hangs; False when it had just
    finished (the update waits for a running import to end, then finds it done)."""
    cancelled = db.session.execute(
        update(MemberImport)
        .where(MemberImport.id == member_import.id, MemberImport.status.in_(CANCELLABLE))
        .values(status=ImportStatus.CANCELLED, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(member_import)
    if not cancelled:
        return False
    discard_file(member_import)
    db.session.execute(delete(MemberImportRow).where(MemberImportRow.import_id == member_import.id))
    db.session.flush()
    return True


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


def recent_imports(limit: int = 10) -> list[MemberImport]:
    return list(
        db.session.scalars(select(MemberImport).order_by(MemberImport.id.desc()).limit(limit))
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
