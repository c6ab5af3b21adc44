"""The uploaded file and the column step: stored outside the web root under a random name, the
table found in it (sheet, heading row), the samples shown masked, and the mapping chosen."""

import contextlib
import re
import secrets
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.core.clock import utcnow
from app.core.phones import mask_phone
from app.core.sheet_layout import SKIP_REASONS
from app.core.spreadsheets import (
    SpreadsheetError,
    Table,
    normalise_header,
    normalise_text,
    read_table,
)
from app.extensions import db
from app.members import services
from app.members.idnumbers import mask_id_number
from app.members.importing.columns import (
    HEADING_WORDS,
    check_mapping,
    guess_mapping,
    remember_mapping,
    saved_mapping,
)
from app.members.models import (
    ImportStatus,
    MemberImport,
)

ABANDONED_AFTER_SECONDS = 24 * 3600


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
    cutoff = utcnow().timestamp() - ABANDONED_AFTER_SECONDS
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


def read_upload(stored_name: str, layout: dict | None = None) -> Table:
    layout = layout or {}
    return read_table(
        _path(stored_name),
        headings=HEADING_WORDS,
        sheet=layout.get("sheet") if layout.get("sheet_chosen") else None,
        heading_row=layout.get("heading_row"),
    )


MAX_LISTED_SKIPS = 500


def layout_of(table: Table, *, sheet_chosen: bool, heading_row: int | None) -> dict:
    """What the pages show of the table found (sheet, heading row, skipped rows, the first
    rows), ID and mobile numbers masked; also used by the associations' bulk set-up."""
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
        table = read_upload(stored_name)
    except SpreadsheetError:
        _path(stored_name).unlink(missing_ok=True)
        raise
    member_import = MemberImport(
        filename=(filename or "upload")[-200:],
        stored_name=stored_name,
        created_by_id=created_by_id,
        status=ImportStatus.MAPPING,
    )
    _fill_from_table(member_import, table, layout_of(table, sheet_chosen=False, heading_row=None))
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
    table = read_upload(member_import.stored_name, layout)
    _fill_from_table(
        member_import,
        table,
        layout_of(table, sheet_chosen=layout.get("sheet_chosen", False), heading_row=heading_row),
    )
    db.session.flush()


def skipped_rows(member_import: MemberImport) -> list[tuple[int, str, str]]:
    """Rows of the file that are not members, with the reason, for the report."""
    return listed_skips(member_import.layout or {})


def listed_skips(layout: dict) -> list[tuple[int, str, str]]:
    """The skipped rows of a `layout_of` dict as (row, translated reason, start of the row)."""
    return [
        (number, str(SKIP_REASONS.get(reason, reason)), text)
        for number, reason, text in layout.get("skipped", [])
    ]


def set_mapping(member_import: MemberImport, mapping: dict[str, str]) -> None:
    mapping = {index: name for index, name in mapping.items() if name}
    check_mapping(mapping)
    member_import.mapping = mapping
    member_import.status = ImportStatus.VALIDATING
    member_import.processed_rows = 0
    remember_mapping(member_import.headers, mapping)
    db.session.flush()


def recent_imports(limit: int = 10) -> list[MemberImport]:
    return list(
        db.session.scalars(select(MemberImport).order_by(MemberImport.id.desc()).limit(limit))
    )
