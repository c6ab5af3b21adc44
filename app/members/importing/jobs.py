"""Running the validate and apply steps as background jobs: failures shown on the page (with the
row they happened at), retried or cancelled; nothing half-written."""

import logging
import threading

from flask import current_app
from flask_babel import gettext
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from app.core.clock import utcnow
from app.core.jobs import huey, job
from app.core.spreadsheets import (
    SpreadsheetError,
)
from app.extensions import db
from app.members.importing.checking import current_row
from app.members.importing.staging import ImportCancelled, apply, validate
from app.members.importing.upload import discard_file
from app.members.models import (
    ImportStatus,
    MemberImport,
    MemberImportRow,
)
from tenants.context import scope_for, tenant_context
from tenants.models import Association

log = logging.getLogger(__name__)


def _load_for_job(import_id: int) -> MemberImport | None:
    return db.session.scalar(select(MemberImport).where(MemberImport.id == import_id))


@job
def run_import_step(import_id: int, association_id: int, actor_id: int | None, step: str) -> None:
    """The validate or apply step of an import, for the current association, in a job. Any
    failure rolls the step back (nothing is written), is logged with the row it happened at,
    and is shown on the import's page, which offers to retry or cancel."""
    association = db.session.get(Association, association_id)
    with tenant_context(scope_for(association, writable=True)):
        member_import = _load_for_job(import_id)
        if member_import is None or not member_import.in_progress:
            return
        current_row.set(None)
        try:
            if step == "validate":
                validate(member_import)
            else:
                apply(member_import, actor_id=actor_id)
            db.session.commit()
        except ImportCancelled:
            db.session.rollback()
        except Exception as error:  # noqa: BLE001 - every failure must reach the page
            row = current_row.get()
            db.session.rollback()
            # The type only: a database error's text can hold the row's personal data.
            log.error(
                "member import %s (association %s): the %s step failed at row %s: %s",
                import_id,
                association_id,
                step,
                row,
                type(error).__name__,
            )
            _fail(import_id, step, error, row)


def _fail(import_id: int, step: str, error: Exception, row: int | None) -> None:
    member_import = _load_for_job(import_id)
    if member_import is None or member_import.status == ImportStatus.CANCELLED:
        return
    if isinstance(error, IntegrityError) and step == "apply":
        member_import.error = gettext(
            "The register changed while importing (a duplicate appeared). Nothing was "
            "imported: check the rows again and confirm."
        )
        member_import.status = ImportStatus.VALIDATED
        db.session.commit()
        return
    if isinstance(error, SpreadsheetError):
        member_import.error = str(error.message)
    else:
        member_import.error = None
    member_import.layout = {**(member_import.layout or {}), "failed_at_row": row}
    member_import.failed_step = step
    member_import.status = ImportStatus.FAILED
    member_import.finished_at = utcnow()
    db.session.commit()


def can_retry(member_import: MemberImport) -> bool:
    if member_import.status != ImportStatus.FAILED or not member_import.failed_step:
        return False
    if member_import.failed_step == "validate" and not member_import.stored_name:
        return staged_row_count(member_import) > 0
    return True


def staged_row_count(member_import: MemberImport) -> int:
    return len(
        db.session.scalars(
            select(MemberImportRow.id).where(MemberImportRow.import_id == member_import.id)
        ).all()
    )


def start_step(member_import: MemberImport, step: str, actor_id: int | None) -> None:
    """Hand a step to the job queue. The caller has committed the import row already. With
    no worker (local demo: jobs inline), a thread keeps the request from waiting; tests run
    it inline."""
    args = (member_import.id, member_import.association_id, actor_id, step)
    if huey.immediate and not current_app.testing:
        app = current_app._get_current_object()

        def run() -> None:
            with app.app_context():
                run_import_step.call_local(*args)

        threading.Thread(target=run, name=f"member-import-{member_import.id}", daemon=True).start()
        return
    run_import_step(*args)


def mark_step_started(member_import: MemberImport, step: str) -> None:
    member_import.status = ImportStatus.VALIDATING if step == "validate" else ImportStatus.IMPORTING
    member_import.processed_rows = 0
    member_import.error = None
    member_import.failed_step = None
    member_import.layout = {
        key: value for key, value in (member_import.layout or {}).items() if key != "failed_at_row"
    }
    db.session.flush()


CANCELLABLE = (
    ImportStatus.MAPPING,
    ImportStatus.VALIDATING,
    ImportStatus.VALIDATED,
    ImportStatus.IMPORTING,
    ImportStatus.FAILED,
)


def cancel(member_import: MemberImport) -> bool:
    """Cancel at any step before the end, also a step that hangs; False when it had just
    finished (the update waits for a running import to end, then finds it done)."""
    cancelled = db.session.execute(
        update(MemberImport)
        .where(MemberImport.id == member_import.id, MemberImport.status.in_(CANCELLABLE))
        .values(status=ImportStatus.CANCELLED, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(member_import)
    if not cancelled:
        return False
    discard_file(member_import)
    db.session.execute(delete(MemberImportRow).where(MemberImportRow.import_id == member_import.id))
    db.session.flush()
    return True
