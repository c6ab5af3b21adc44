"""The uploaded file of an association import, kept outside the web root under a
server-generated name bound to the association until the user confirms or cancels, and read
again with the user's choice of sheet and heading row."""

import contextlib
import re
import secrets
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from app.associations.bulk.columns import HEADING_WORDS, BulkImportError
from app.core.clock import utcnow
from app.core.spreadsheets import Table, read_table
from tenants.models import Association

ABANDONED_AFTER_SECONDS = 24 * 3600


def import_directory() -> Path:
    """Outside the web root, under the instance folder unless configured."""
    configured = current_app.config.get("ASSOCIATION_IMPORT_DIR")
    directory = (
        Path(configured) if configured else Path(current_app.instance_path) / "association-imports"
    )
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


def save_upload(stream, association: Association) -> str:
    """Keep an uploaded file under a server-generated name bound to the association until the
    user confirms or cancels; returns the name (the token the confirm form sends back)."""
    directory = import_directory()
    _remove_abandoned(directory)
    name = secrets.token_hex(16)
    with stored_path(name, association).open("wb") as target:
        while chunk := stream.read(1024 * 1024):
            target.write(chunk)
    return name


def stored_path(name: str, association: Association) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}", name or ""):
        raise BulkImportError(
            _l("This import has expired or was cancelled: upload the file again.")
        )
    return import_directory() / f"{association.id}-{name}.upload"


def stored_table(
    name: str, association: Association, *, sheet: str | None = None, heading_row: int | None = None
) -> Table:
    """The kept file read again, with the user's choice of sheet and heading row (1-based)."""
    path = stored_path(name, association)
    if not path.exists():
        raise BulkImportError(
            _l("This import has expired or was cancelled: upload the file again.")
        )
    return read_table(path, headings=HEADING_WORDS, sheet=sheet, heading_row=heading_row)


def discard(name: str, association: Association) -> None:
    with contextlib.suppress(BulkImportError, OSError):
        stored_path(name, association).unlink(missing_ok=True)


def _remove_abandoned(directory: Path) -> None:
    cutoff = utcnow().timestamp() - ABANDONED_AFTER_SECONDS
    for path in directory.glob("*.upload"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < cutoff:
                path.unlink()
