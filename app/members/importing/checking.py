"""Checking the rows of an import: every value, duplicates in the file and the register, and the
中心户/联户 linkage (a 中心户 looked up in the file first, in the register only by its address)."""

import contextvars
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.core import crypto
from app.core.clock import china_today
from app.core.dates import DATE_RANGE_MESSAGE, is_sensible_date
from app.core.phones import PHONE_PROBLEM, validate_phone
from app.core.spreadsheets import (
    Table,
    normalise_text,
    to_date,
)
from app.extensions import db
from app.members import services
from app.members.households import linkage_limit
from app.members.idnumbers import (
    ID_NUMBER_PROBLEMS,
    IdNumberProblem,
    gender_of,
    validate_id_number,
)
from app.members.labels import FIELD_LABELS
from app.members.models import (
    Gender,
    Household,
    Member,
    MemberImportRow,
    MemberStatus,
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
        return cls(by_id, by_phone, households, central_names, linked_counts, linkage_limit())


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
