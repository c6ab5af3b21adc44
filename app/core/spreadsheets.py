"""Reading spreadsheets that people bring (.xlsx, .xls and .csv) safely, for any bulk import.

`read_table(path, headings=...)` sniffs the format from the content (not the file name),
refuses hostile or broken files with a translated `SpreadsheetError` (empty, not a
spreadsheet, password-protected, zip bombs, sheets with huge dimensions, too many rows or
columns), finds the table in the sheet (`app.core.sheet_layout`: the heading row, title rows,
two-row headings, hidden and blank rows and columns, totals and signatures) and returns the
headings and data rows as plain Python values. Helpers normalise what Excel users type:
full-width digits, stray spaces, headings with notes in brackets, Excel date serials and dates
in the usual Chinese formats.
"""

import csv
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from flask_babel import lazy_gettext as _l
from python_calamine import CalamineError, CalamineWorkbook

from app.core.problems import Problem
from app.core.sheet_layout import (
    COMMON_HEADINGS,
    SkippedRow,
    header_key,
    heading_score,
    lay_out,
    normalise_text,
)

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
# The stream name an encrypted (password-protected) Office file holds, as UTF-16 in its
# compound-file directory.
ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")
# Files people upload by mistake (a PDF or a photo of the roster, an archive, a Word file):
# recognised by their first bytes, so they are not read as text.
OTHER_FORMATS = (
    b"%PDF",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"Rar!",
    b"7z\xbc\xaf",
    b"\x1f\x8b",
    b"{\\rtf",
    b"<?xml",
    b"<!DOCTYPE",
    b"<html",
)
EXCEL_EPOCH = date(1899, 12, 30)
_CELL_REF = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3})(\d{1,7})"')
_ROW_TAG = re.compile(rb"<(?:\w+:)?row\b")
PREVIEW_ROWS = 15


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 10 * 1024 * 1024
    max_rows: int = 20_000  # data rows, after the header
    max_columns: int = 60
    max_uncompressed_bytes: int = 150 * 1024 * 1024
    max_compression_ratio: int = 200


@dataclass
class Table:
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    # Spreadsheet row number (1-based, as Excel shows it) of each data row.
    row_numbers: list[int] = field(default_factory=list)
    format: str = "xlsx"
    sheet: str = ""  # the sheet read
    sheets: list[str] = field(default_factory=list)  # every visible sheet holding data
    heading_rows: list[int] = field(default_factory=list)  # 1-based
    skipped: list[SkippedRow] = field(default_factory=list)  # not members, with the reason
    blank_rows: int = 0
    # The first rows of the sheet as text (number, cells), to let the user move the heading.
    preview: list[tuple[int, list[str]]] = field(default_factory=list)

    @property
    def sheet_choice_needed(self) -> bool:
        return len(self.sheets) > 1


class SpreadsheetError(Problem):
    """The file cannot be read as a table; `message` is translated for the user."""


NOT_A_SPREADSHEET = _l(
    "The file is not a spreadsheet. Upload the roster as an Excel workbook (.xlsx or .xls) or "
    "as a .csv file."
)
PASSWORD_PROTECTED = _l(
    "The workbook is protected by a password. Open it in Excel, remove the password (File › "
    "Info › Protect Workbook › Encrypt with Password, leave it empty), save it and upload it "
    "again."
)


def _too_many_rows(count: int | None, limits: Limits) -> SpreadsheetError:
    return SpreadsheetError(
        _l(
            "The sheet has more than %(max)d rows: at most %(max)d members can be imported at a "
            "time. Split the roster into several files (for example one per grid) and import "
            "them one after the other.",
            max=limits.max_rows,
        )
    )


def read_table(
    path: Path | str,
    *,
    limits: Limits = Limits(),
    headings: Iterable[str] = (),
    sheet: str | None = None,
    heading_row: int | None = None,
) -> Table:
    """The table in a spreadsheet file. `headings` are the heading words (as `header_key`
    makes them) of the caller's fields, to find the heading row; `sheet` and `heading_row`
    (1-based) are the user's choices, overriding the guesses."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise SpreadsheetError(_l("The file is empty (0 bytes)."))
    if size > limits.max_bytes:
        raise SpreadsheetError(
            _l("The file is too large (at most %(mb)d MB).", mb=limits.max_bytes // 1024 // 1024)
        )
    with path.open("rb") as handle:
        head = handle.read(8)
    words = frozenset(header_key(word) for word in headings) | COMMON_HEADINGS
    if head.startswith(ZIP_MAGIC):
        _check_xlsx_archive(path, limits)
        return _read_workbook(path, "xlsx", limits, words, sheet, heading_row)
    if head.startswith(OLE_MAGIC):
        if ENCRYPTED_MARK in path.read_bytes():
            raise SpreadsheetError(PASSWORD_PROTECTED)
        return _read_workbook(path, "xls", limits, words, sheet, heading_row)
    if head.startswith(OTHER_FORMATS) or head.lower().startswith((b"<html", b"<!doctype")):
        raise SpreadsheetError(NOT_A_SPREADSHEET)
    rows = _csv_rows(path.read_bytes())
    return _table_from_cells(rows, "csv", limits, words, heading_row=heading_row)


def _read_workbook(
    path: Path,
    kind: str,
    limits: Limits,
    words: frozenset[str],
    sheet: str | None,
    heading_row: int | None,
) -> Table:
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        names = [
            meta.name
            for meta in workbook.sheets_metadata
            if "Visible" in str(meta.visible)
            and "Hidden" not in str(meta.visible)
            and "WorkSheet" in str(meta.typ)
        ]
        if not names:
            raise SpreadsheetError(_l("The workbook has no sheets."))
        if sheet is not None and sheet not in names:
            raise SpreadsheetError(
                _l("The workbook has no sheet named “%(name)s”.", name=sheet[:40])
            )
        loaded = {}
        for name in names:
            worksheet = workbook.get_sheet_by_name(name)
            cells = worksheet.to_python(skip_empty_area=False)
            if len(cells) > limits.max_rows + 200:
                raise _too_many_rows(len(cells), limits)
            loaded[name] = (cells, worksheet.merged_cell_ranges or [])
    except SpreadsheetError:
        raise
    except (CalamineError, ValueError, OSError, KeyError, TypeError) as error:
        if "password" in str(error).lower() or "encrypt" in str(error).lower():
            raise SpreadsheetError(PASSWORD_PROTECTED) from None
        raise SpreadsheetError(
            _l(
                "The file could not be read as an Excel workbook. Is it damaged? Open it in "
                "Excel, save it again as .xlsx and upload that file."
            )
        ) from None
    with_data = [name for name, (cells, _) in loaded.items() if not _all_blank(cells)]
    if not with_data:
        raise _empty()
    # Several sheets with data: the caller asks which one; until then, the one that reads
    # most like a register.
    chosen = sheet or max(with_data, key=lambda name: _sheet_score(loaded[name][0], words))
    cells, merged = loaded[chosen]
    hidden_rows: set[int] = set()
    hidden_columns: set[int] = set()
    if kind == "xlsx":
        hidden_rows, hidden_columns = _hidden_rows_and_columns(path, chosen)
    table = _table_from_cells(
        cells,
        kind,
        limits,
        words,
        heading_row=heading_row,
        merged=merged,
        hidden_rows=hidden_rows,
        hidden_columns=hidden_columns,
    )
    table.sheet = chosen
    table.sheets = with_data
    return table


def _all_blank(cells: list[list]) -> bool:
    return all(is_blank(row) for row in cells)


def _sheet_score(cells: list[list], words: frozenset[str]) -> int:
    return max((heading_score(row, words) for row in cells[:30]), default=0)


def _empty() -> SpreadsheetError:
    return SpreadsheetError(
        _l(
            "The sheet is empty: there is nothing to import. Check that you saved the roster "
            "with its rows, or choose the sheet that holds them."
        )
    )


_SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\b[^>]*>")
_ATTRIBUTE = re.compile(rb'([\w:]+)="([^"]*)"')
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")
_ROW_START = re.compile(rb"<(?:\w+:)?row\b[^>]*>")
_COL_TAG = re.compile(rb"<(?:\w+:)?col\b[^>]*>")


def _attributes(tag: bytes) -> dict[str, str]:
    return {
        key.decode().split(":")[-1]: value.decode("utf-8", "replace")
        for key, value in _ATTRIBUTE.findall(tag)
    }


def _hidden_rows_and_columns(path: Path, sheet_name: str) -> tuple[set[int], set[int]]:
    """Rows (1-based) and columns (0-based) hidden in an .xlsx sheet; calamine does not say."""
    hidden_rows: set[int] = set()
    hidden_columns: set[int] = set()
    with zipfile.ZipFile(path) as archive:
        try:
            workbook = archive.read("xl/workbook.xml")
            relationships = archive.read("xl/_rels/workbook.xml.rels")
        except KeyError:
            return hidden_rows, hidden_columns
        target = None
        for tag in _SHEET_TAG.findall(workbook):
            attributes = _attributes(tag)
            if _xml_unescape(attributes.get("name", "")) == sheet_name:
                relationship_id = attributes.get("id")
                for relationship in _RELATIONSHIP.findall(relationships):
                    found = _attributes(relationship)
                    if found.get("Id") == relationship_id:
                        target = found.get("Target", "")
        if not target:
            return hidden_rows, hidden_columns
        member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        try:
            stream = archive.open(member)
        except KeyError:
            return hidden_rows, hidden_columns
        with stream:
            tail = b""
            while chunk := stream.read(1024 * 1024):
                data = tail + chunk
                cut = data.rfind(b"<")
                complete, tail = (data[:cut], data[cut:]) if cut > 0 else (data, b"")
                for tag in _ROW_START.findall(complete):
                    attributes = _attributes(tag)
                    if attributes.get("hidden") in ("1", "true") and attributes.get("r"):
                        hidden_rows.add(int(attributes["r"]))
                for tag in _COL_TAG.findall(complete):
                    attributes = _attributes(tag)
                    if attributes.get("hidden") in ("1", "true"):
                        first = int(attributes.get("min", "1"))
                        last = min(int(attributes.get("max", first)), first + 200)
                        hidden_columns.update(range(first - 1, last))
    return hidden_rows, hidden_columns


def _xml_unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&apos;", "'")
        .replace("&amp;", "&")
    )


def _check_xlsx_archive(path: Path, limits: Limits) -> None:
    """Refuse zip bombs and sheets whose cells reach far out before anything allocates them."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise SpreadsheetError(NOT_A_SPREADSHEET) from None
    with archive:
        members = archive.infolist()
        names = {member.filename for member in members}
        if "xl/workbook.xml" not in names:
            raise SpreadsheetError(NOT_A_SPREADSHEET)
        total = sum(member.file_size for member in members)
        if total > limits.max_uncompressed_bytes or any(
            member.compress_size
            and member.file_size > 1024 * 1024
            and member.file_size / member.compress_size > limits.max_compression_ratio
            for member in members
        ):
            raise SpreadsheetError(
                _l("The file unpacks to far more data than a register holds; it was refused.")
            )
        for member in members:
            if member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml"):
                _check_sheet_dimensions(archive, member, limits)


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + (letter - 64)
    return number


def _check_sheet_dimensions(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits) -> None:
    max_row = max_column = rows_seen = 0
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(1024 * 1024):
            data = tail + chunk
            for letters, digits in _CELL_REF.findall(data):
                max_row = max(max_row, int(digits))
                max_column = max(max_column, _column_number(letters))
            rows_seen += len(_ROW_TAG.findall(chunk))
            tail = data[-200:]
            if max_row > limits.max_rows + 200 or rows_seen > limits.max_rows + 200:
                break
            if max_column > limits.max_columns * 4:
                break
    if max(max_row, rows_seen) > limits.max_rows + 200:
        raise _too_many_rows(max(max_row, rows_seen), limits)
    if max_column > limits.max_columns * 4:
        raise _too_wide(limits)


def _too_wide(limits: Limits) -> SpreadsheetError:
    return SpreadsheetError(
        _l(
            "The sheet is too large: at most %(rows)d rows and %(columns)d columns.",
            rows=limits.max_rows,
            columns=limits.max_columns,
        )
    )


def decode_text(raw: bytes) -> str | None:
    """Text of a CSV file: UTF-8 (with or without BOM) first, then GB18030 (a superset of the
    GBK that Excel on Chinese Windows saves); None when neither reads it."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _csv_rows(raw: bytes) -> list[list]:
    if b"\x00" in raw[:4096]:
        raise SpreadsheetError(NOT_A_SPREADSHEET)
    text = decode_text(raw)
    if text is None or _looks_binary(text):
        raise SpreadsheetError(NOT_A_SPREADSHEET)
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;，")
    except csv.Error:
        dialect = csv.excel
    try:
        return list(csv.reader(io.StringIO(text), dialect))
    except csv.Error:
        raise SpreadsheetError(NOT_A_SPREADSHEET) from None


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t")
    return controls > len(sample) // 20


def _table_from_cells(
    cells: list[list],
    kind: str,
    limits: Limits,
    words: frozenset[str],
    *,
    heading_row: int | None = None,
    merged: list | None = None,
    hidden_rows: set[int] = frozenset(),
    hidden_columns: set[int] = frozenset(),
) -> Table:
    if len(cells) > limits.max_rows + 200:
        raise _too_many_rows(len(cells), limits)
    if _all_blank(cells):
        raise _empty()
    if max(len(row) for row in cells) > limits.max_columns and any(
        not is_blank(row[limits.max_columns :]) for row in cells[:200]
    ):
        raise _too_wide(limits)
    cells = [row[: limits.max_columns] for row in cells]
    layout = lay_out(
        cells,
        words=words,
        heading_row=heading_row,
        merged=merged,
        hidden_rows=hidden_rows,
        hidden_columns=hidden_columns,
    )
    if layout is None:
        if heading_row is not None:
            raise SpreadsheetError(
                _l("Row %(row)d is empty: choose the row that holds the headings.", row=heading_row)
            )
        raise SpreadsheetError(
            _l(
                "No heading row was found: none of the first rows holds headings such as 姓名, "
                "性别, 身份证号 or 联系电话. Add a row of headings above the data (one heading "
                "per column) and upload the file again."
            )
        )
    if len(layout.rows) > limits.max_rows:
        raise _too_many_rows(len(layout.rows), limits)
    if not layout.rows:
        raise SpreadsheetError(
            _l(
                "There are no rows below the headings (row %(row)d): there is nothing to "
                "import. If the headings are on another row, choose it.",
                row=layout.heading_rows[-1],
            )
        )
    preview = []
    for number, row in enumerate(cells, start=1):
        if len(preview) >= PREVIEW_ROWS:
            break
        if not is_blank(row):
            preview.append((number, [normalise_text(cell)[:30] for cell in row[:10]]))
    return Table(
        headers=layout.headers,
        rows=layout.rows,
        row_numbers=layout.row_numbers,
        format=kind,
        heading_rows=layout.heading_rows,
        skipped=layout.skipped,
        blank_rows=layout.blank_rows,
        preview=preview,
    )


def is_blank(row: Iterable) -> bool:
    return all(normalise_text(cell) == "" for cell in row)


def normalise_header(value) -> str:
    """A heading reduced for matching: no spaces, no notes in brackets, no '*' or ':'."""
    return header_key(value)


def to_date(value) -> date:
    """A date from a cell: a real date, an Excel serial (45292 or "45292"), or text as
    2024-01-15, 2024/1/15, 2024.1.15, 20240115 or 2024年1月15日; a year and month (2024年1月,
    2024.01) or a year alone (2024) is its first day. ValueError otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and not 1900 <= value < 2100:
        return _from_serial(float(value))
    # Serials 1900-2099 are days of 1905: such a number is a year (2020) or a year and month
    # typed as a number (2020.05).
    text = normalise_text(value)
    if re.fullmatch(r"(19|20)\d\d年?", text):  # a year alone (入会年份): its first day
        return date(int(text[:4]), 1, 1)
    month = re.fullmatch(r"((?:19|20)\d\d)\s*[-/.年]\s*(\d{1,2})\s*月?", text)
    if month:  # year and month (2020年5月, 2020.05): the first of the month
        return date(int(month[1]), int(month[2]), 1)
    if re.fullmatch(r"\d{1,5}(\.\d+)?", text) and len(text.split(".")[0]) <= 5:
        return _from_serial(float(text))
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
    if not match:
        match = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    if not match:
        match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})[T ][\d:.]+", text)
    if not match:
        raise ValueError(text)
    return date(int(match[1]), int(match[2]), int(match[3]))


def _from_serial(serial: float) -> date:
    if not 1 <= serial < 2_958_466:  # Excel's own range: 1900-01-01 … 9999-12-31
        raise ValueError(serial)
    return EXCEL_EPOCH + timedelta(days=int(serial))


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Text a spreadsheet would run as a formula is prefixed with a quote (formula/CSV
    injection); other values pass unchanged. For every export of text people typed."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def chosen_layout(form, *, current_sheet: str | None) -> tuple[str | None, int | None]:
    """The sheet and heading row (1-based) a user chose on an import page, from the posted
    form; choosing another sheet than the one shown drops the heading row, which is then
    found afresh on that sheet. Shared by every import that offers the choice."""
    sheet = (form.get("sheet") or "")[:100] or None
    heading_row = form.get("heading_row", type=int)
    if heading_row is not None and not 1 <= heading_row <= 1_000_000:
        heading_row = None
    if sheet and sheet != current_sheet:
        heading_row = None
    return sheet, heading_row
