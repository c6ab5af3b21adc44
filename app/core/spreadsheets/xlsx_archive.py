"""An .xlsx file is a zip archive of XML: refusing zip bombs and sheets whose cells reach far
out before anything allocates them, and finding the rows and columns a sheet hides (calamine
does not say)."""

import re
import zipfile
from pathlib import Path

from flask_babel import lazy_gettext as _l

from app.core.spreadsheets.limits import (
    NOT_A_SPREADSHEET,
    Limits,
    SpreadsheetError,
    too_many_rows,
    too_wide,
)

_CELL_REF = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3})(\d{1,7})"')
_ROW_TAG = re.compile(rb"<(?:\w+:)?row\b")
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


def hidden_rows_and_columns(path: Path, sheet_name: str) -> tuple[set[int], set[int]]:
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


def check_xlsx_archive(path: Path, limits: Limits) -> None:
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
        raise too_many_rows(max(max_row, rows_seen), limits)
    if max_column > limits.max_columns * 4:
        raise too_wide(limits)
