"""Reading the table in a spreadsheet file: the format sniffed from the content, an .xlsx or
.xls workbook read with calamine (the sheet that reads most like a register, unless the user
chose one), a .csv file decoded and sniffed, and the heading row and data rows found in the
cells (app.core.sheet_layout)."""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import lazy_gettext as _l
from python_calamine import CalamineError, CalamineWorkbook

from app.core.sheet_layout import (
    COMMON_HEADINGS,
    SkippedRow,
    header_key,
    heading_score,
    lay_out,
    normalise_text,
)
from app.core.spreadsheets.cells import is_blank
from app.core.spreadsheets.limits import (
    DEFAULT_LIMITS,
    NOT_A_SPREADSHEET,
    PASSWORD_PROTECTED,
    Limits,
    SpreadsheetError,
    empty_sheet,
    too_many_rows,
    too_wide,
)
from app.core.spreadsheets.xlsx_archive import check_xlsx_archive, hidden_rows_and_columns

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
PREVIEW_ROWS = 15


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


def read_table(
    path: Path | str,
    *,
    limits: Limits = DEFAULT_LIMITS,
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
        check_xlsx_archive(path, limits)
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
                raise too_many_rows(len(cells), limits)
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
        raise empty_sheet()
    # Several sheets with data: the caller asks which one; until then, the one that reads
    # most like a register.
    chosen = sheet or max(with_data, key=lambda name: _sheet_score(loaded[name][0], words))
    cells, merged = loaded[chosen]
    hidden_rows: set[int] = set()
    hidden_columns: set[int] = set()
    if kind == "xlsx":
        hidden_rows, hidden_columns = hidden_rows_and_columns(path, chosen)
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
        raise too_many_rows(len(cells), limits)
    if _all_blank(cells):
        raise empty_sheet()
    if max(len(row) for row in cells) > limits.max_columns and any(
        not is_blank(row[limits.max_columns :]) for row in cells[:200]
    ):
        raise too_wide(limits)
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
        raise too_many_rows(len(layout.rows), limits)
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
