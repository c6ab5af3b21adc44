"""What a spreadsheet people bring may hold, and the refusal of one that does not: a
`SpreadsheetError` whose message, translated, tells the user what to do."""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.core.problems import Problem


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 10 * 1024 * 1024
    max_rows: int = 20_000  # data rows, after the header
    max_columns: int = 60
    max_uncompressed_bytes: int = 150 * 1024 * 1024
    max_compression_ratio: int = 200


DEFAULT_LIMITS = Limits()


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


def too_many_rows(count: int | None, limits: Limits) -> SpreadsheetError:
    return SpreadsheetError(
        _l(
            "The sheet has more than %(max)d rows: at most %(max)d members can be imported at a "
            "time. Split the roster into several files (for example one per grid) and import "
            "them one after the other.",
            max=limits.max_rows,
        )
    )


def empty_sheet() -> SpreadsheetError:
    return SpreadsheetError(
        _l(
            "The sheet is empty: there is nothing to import. Check that you saved the roster "
            "with its rows, or choose the sheet that holds them."
        )
    )


def too_wide(limits: Limits) -> SpreadsheetError:
    return SpreadsheetError(
        _l(
            "The sheet is too large: at most %(rows)d rows and %(columns)d columns.",
            rows=limits.max_rows,
            columns=limits.max_columns,
        )
    )
