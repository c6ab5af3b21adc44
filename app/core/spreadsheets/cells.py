"""Cell values as people type them (blank rows, headings with notes, dates in Excel serials and
the usual Chinese formats), and text made safe to write into an exported spreadsheet."""

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from app.core.sheet_layout import header_key, normalise_text

EXCEL_EPOCH = date(1899, 12, 30)


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
