"""Reading spreadsheets that people bring (.xlsx, .xls and .csv) safely, for any bulk import.

`read_table(path, headings=...)` sniffs the format from the content (not the file name),
refuses hostile or broken files with a translated `SpreadsheetError` (empty, not a
spreadsheet, password-protected, zip bombs, sheets with huge dimensions, too many rows or
columns), finds the table in the sheet (`app.core.sheet_layout`: the heading row, title rows,
two-row headings, hidden and blank rows and columns, totals and signatures) and returns the
headings and data rows as plain Python values. Helpers normalise what Excel users type:
full-width digits, stray spaces, headings with notes in brackets, Excel date serials and dates
in the usual Chinese formats.

Parts: `reading` (read_table, the table found in the sheet, the user's choice of sheet and
heading row), `limits` (what a file may hold, and SpreadsheetError with its messages),
`xlsx_archive` (the checks made on an .xlsx archive before it is read, and its hidden rows and
columns) and `cells` (values as people type them, and cells safe to export).
"""

from app.core.sheet_layout import normalise_text
from app.core.spreadsheets.cells import is_blank, normalise_header, safe_cell, to_date
from app.core.spreadsheets.limits import Limits, SpreadsheetError
from app.core.spreadsheets.reading import Table, chosen_layout, decode_text, read_table

__all__ = [
    "Limits",
    "SpreadsheetError",
    "Table",
    "chosen_layout",
    "decode_text",
    "is_blank",
    "normalise_header",
    "normalise_text",
    "read_table",
    "safe_cell",
    "to_date",
]
