"""Reading spreadsheets that people bring (.xlsx and .csv) safely, for any bulk import.

`read_table(path)` sniffs the format from the content (not the file name), refuses hostile or
broken files with a translated `SpreadsheetError` (empty, not a spreadsheet, zip bombs, sheets
with huge dimensions, too many rows or columns), and returns the header row and data rows as
plain Python values. Helpers normalise what Excel users type: full-width digits, stray spaces,
headings with notes in brackets, Excel date serials and dates in the usual Chinese formats.
"""

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from flask_babel import lazy_gettext as _l
from python_calamine import CalamineError, CalamineWorkbook

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
EXCEL_EPOCH = date(1899, 12, 30)
_CELL_REF = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3})(\d{1,7})"')
_ROW_TAG = re.compile(rb"<(?:\w+:)?row\b")


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


class SpreadsheetError(ValueError):
    """The file cannot be read as a table; `message` is translated for the user."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def read_table(path: Path | str, *, limits: Limits = Limits()) -> Table:
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
    if head.startswith(ZIP_MAGIC):
        return _read_xlsx(path, limits)
    if head.startswith(OLE_MAGIC):
        raise SpreadsheetError(
            _l("Old .xls files are not accepted. Open the file in Excel and save it as .xlsx.")
        )
    return _read_csv(path.read_bytes(), limits)


def _read_xlsx(path: Path, limits: Limits) -> Table:
    _check_xlsx_archive(path, limits)
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        if not workbook.sheet_names:
            raise SpreadsheetError(_l("The workbook has no sheets."))
        sheet = workbook.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except SpreadsheetError:
        raise
    except (CalamineError, ValueError, OSError, KeyError):
        raise SpreadsheetError(
            _l("The file could not be read as an Excel workbook. Is it damaged?")
        ) from None
    return _table_from_rows(rows, limits, "xlsx")


def _check_xlsx_archive(path: Path, limits: Limits) -> None:
    """Refuse zip bombs and sheets whose cells reach far out before anything allocates them."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise SpreadsheetError(_l("The file is not a spreadsheet (.xlsx or .csv).")) from None
    with archive:
        members = archive.infolist()
        names = {member.filename for member in members}
        if "xl/workbook.xml" not in names:
            raise SpreadsheetError(_l("The file is not a spreadsheet (.xlsx or .csv)."))
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
            if max_row > limits.max_rows + 50 or rows_seen > limits.max_rows + 50:
                break
            if max_column > limits.max_columns * 4:
                break
    if max(max_row, rows_seen) > limits.max_rows + 50 or max_column > limits.max_columns * 4:
        raise SpreadsheetError(
            _l(
                "The sheet is too large: at most %(rows)d rows and %(columns)d columns.",
                rows=limits.max_rows,
                columns=limits.max_columns,
            )
        )


def _read_csv(raw: bytes, limits: Limits) -> Table:
    if b"\x00" in raw[:4096]:
        raise SpreadsheetError(_l("The file is not a spreadsheet (.xlsx or .csv)."))
    text = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None or _looks_binary(text):
        raise SpreadsheetError(_l("The file is not a spreadsheet (.xlsx or .csv)."))
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;，")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text), dialect))
    except csv.Error:
        raise SpreadsheetError(_l("The file is not a spreadsheet (.xlsx or .csv).")) from None
    return _table_from_rows(rows, limits, "csv")


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t")
    return controls > len(sample) // 20


def _table_from_rows(rows: list[list], limits: Limits, kind: str) -> Table:
    numbered = [(number, row) for number, row in enumerate(rows, start=1) if not is_blank(row)]
    if not numbered:
        raise SpreadsheetError(_l("The file has no rows: there is nothing to import."))
    header_number, header = numbered[0]
    width = max(len(row) for _, row in numbered)
    if width > limits.max_columns:
        raise SpreadsheetError(
            _l(
                "The sheet is too large: at most %(rows)d rows and %(columns)d columns.",
                rows=limits.max_rows,
                columns=limits.max_columns,
            )
        )
    data = numbered[1:]
    if len(data) > limits.max_rows:
        raise SpreadsheetError(
            _l(
                "The file has %(count)d rows; at most %(max)d at a time.",
                count=len(data),
                max=limits.max_rows,
            )
        )
    headers = [normalise_text(cell) for cell in header] + [""] * (width - len(header))
    return Table(
        headers=headers,
        rows=[list(row) + [""] * (width - len(row)) for _, row in data],
        row_numbers=[number for number, _ in data],
        format=kind,
    )


def is_blank(row: Iterable) -> bool:
    return all(normalise_text(cell) == "" for cell in row)


def normalise_text(value) -> str:
    """Text as the user meant it: NFKC (full-width digits and letters become ASCII, the
    ideographic space a space), runs of spaces collapsed, ends trimmed; numbers without '.0'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()[:10] if isinstance(value, datetime) else value.isoformat()
    text = unicodedata.normalize("NFKC", str(value))
    text = text.replace("\u200b", "").replace("\ufeff", "")
    return re.sub(r"\s+", " ", text).strip()


def normalise_header(value) -> str:
    """A heading reduced for matching: no spaces, no notes in brackets, no '*' or ':'."""
    text = normalise_text(value).lower()
    text = re.sub(r"[(\[【][^)\]】]*[)\]】]", "", text)
    return re.sub(r"[\s*:_\-./]", "", text)


def to_date(value) -> date:
    """A date from a cell: a real date, an Excel serial (45292 or "45292"), or text as
    2024-01-15, 2024/1/15, 2024.1.15, 20240115 or 2024年1月15日. ValueError otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_serial(float(value))
    text = normalise_text(value)
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
