"""Handlers of the member import's pages: upload, sheet and columns, the rows to fix, confirm,
retry and cancel (the work itself is app.members.importing)."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from app.core.spreadsheets import SpreadsheetError, chosen_layout
from app.core.views import can_write, private_download, render
from app.extensions import db, htmx
from app.members import importing, services
from app.members.forms import ImportUploadForm
from app.members.labels import FIELD_LABELS
from app.members.models import ImportStatus, MemberImport


def _import_or_404(import_id: int) -> MemberImport:
    member_import = db.session.scalar(select(MemberImport).where(MemberImport.id == import_id))
    if member_import is None:
        abort(404)
    return member_import


@can_write
def import_upload():
    form = ImportUploadForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return _upload_page(form, status=422)
        upload = form.file.data
        stored = importing.save_upload(upload.stream)
        try:
            member_import = importing.begin_import(
                filename=upload.filename or "", stored_name=stored, created_by_id=current_user.id
            )
        except SpreadsheetError as error:
            form.file.errors = [error.message]
            return _upload_page(form, status=422)
        return redirect(url_for("members.import_show", import_id=member_import.id), 303)
    return _upload_page(form)


def _upload_page(form, status: int = 200):
    return render(
        "members/import_upload.html",
        form=form,
        imports=importing.recent_imports(),
        field_labels=FIELD_LABELS,
        aliases=importing.ALIASES,
        status=status,
    )


@can_write
def import_show(import_id: int):
    member_import = _import_or_404(import_id)
    return _import_page(member_import)


def _import_page(member_import: MemberImport, *, status: int = 200, errors=(), notice=None):
    problems = []
    mismatches = 0
    if member_import.status == ImportStatus.VALIDATED:
        problems = importing.problem_rows(member_import)
        mismatches = importing.gender_mismatches(member_import)
    return render(
        "members/import.html",
        fragment="members/_import_status.html",
        member_import=member_import,
        problems=problems,
        row_values=importing.row_values,
        gender_mismatches=mismatches,
        skipped=importing.skipped_rows(member_import),
        can_retry=importing.can_retry(member_import),
        field_labels=FIELD_LABELS,
        problem_message=importing.problem_message,
        column_label=importing.column_label,
        errors=errors,
        notice=notice,
        status=status,
    )


def _start(member_import: MemberImport, step: str):
    importing.mark_step_started(member_import, step)
    # The job reads the import row from another transaction: commit before handing off.
    db.session.commit()
    importing.start_step(member_import, step, current_user.id)
    return redirect(url_for("members.import_show", import_id=member_import.id), 303)


def _after_fix(member_import: MemberImport, notice: str | None = None):
    """A fix was re-checked at once: htmx gets the refreshed report, a plain form the page."""
    db.session.commit()
    if htmx:
        return _import_page(member_import, notice=notice)
    if notice:
        flash(notice, "success")
    return redirect(url_for("members.import_show", import_id=member_import.id), 303)


@can_write
def import_layout(import_id: int):
    member_import = _import_or_404(import_id)
    if member_import.status != ImportStatus.MAPPING or not member_import.stored_name:
        abort(409)
    sheet, heading_row = chosen_layout(
        request.form, current_sheet=(member_import.layout or {}).get("sheet")
    )
    try:
        importing.set_layout(member_import, sheet=sheet, heading_row=heading_row)
    except SpreadsheetError as error:  # raised before set_layout changes anything
        return _import_page(member_import, status=422, errors=[error.message])
    db.session.commit()
    return _import_page(member_import) if htmx else _redirect_to(member_import)


def _redirect_to(member_import: MemberImport):
    return redirect(url_for("members.import_show", import_id=member_import.id), 303)


@can_write
def import_mapping(import_id: int):
    member_import = _import_or_404(import_id)
    if member_import.status != ImportStatus.MAPPING:
        abort(409)
    mapping = {
        str(index): request.form.get(f"column_{index}", "")
        for index in range(len(member_import.headers))
    }
    mapping = {index: name for index, name in mapping.items() if name in FIELD_LABELS}
    layout = member_import.layout or {}
    if not layout.get("sheet_chosen", True):
        member_import.mapping = mapping
        return _import_page(
            member_import,
            status=422,
            errors=[_("Choose the sheet that holds the members first.")],
        )
    try:
        importing.check_mapping(mapping)
    except services.RegisterError as error:
        member_import.mapping = mapping
        return _import_page(member_import, status=422, errors=[error.message])
    importing.set_mapping(member_import, mapping)
    return _start(member_import, "validate")


@can_write
def import_row(import_id: int, row_number: int):
    member_import = _import_or_404(import_id)
    row = importing.staged_row(member_import, row_number)
    if row is None or member_import.status != ImportStatus.VALIDATED:
        abort(404)
    columns = [name for name in FIELD_LABELS if name in member_import.mapping.values()]
    if request.method == "POST":
        if request.form.get("action") == "skip":
            importing.skip_row(member_import, row)
            return _after_fix(member_import, _("Row %(row)d is left out.", row=row_number))
        values = {name: request.form.get(name, "")[:200] for name in columns}
        importing.fix_row(member_import, row, values)
        notice = (
            _("Row %(row)d is ready to import.", row=row_number)
            if row.valid
            else _("Row %(row)d still has a problem.", row=row_number)
        )
        return _after_fix(member_import, notice)
    return render(
        "members/import_row.html",
        fragment="members/_import_row_form.html",
        member_import=member_import,
        row=row,
        values=importing.row_values(row),
        columns=columns,
        register_choices=importing.register_central_choices(row),
        field_labels=FIELD_LABELS,
        problem_message=importing.problem_message,
    )


@can_write
def import_fix_genders(import_id: int):
    member_import = _import_or_404(import_id)
    if member_import.status != ImportStatus.VALIDATED:
        abort(409)
    changed = importing.take_gender_from_id_numbers(member_import)
    return _after_fix(
        member_import,
        ngettext(
            "%(num)d row took the gender from its ID number.",
            "%(num)d rows took the gender from their ID numbers.",
            changed,
        ),
    )


@can_write
def import_skip_problems(import_id: int):
    member_import = _import_or_404(import_id)
    if member_import.status != ImportStatus.VALIDATED:
        abort(409)
    skipped = importing.skip_rows_with_problems(member_import)
    return _after_fix(
        member_import,
        ngettext(
            "%(num)d row with problems is left out.",
            "%(num)d rows with problems are left out.",
            skipped,
        ),
    )


@can_write
def import_problems(import_id: int):
    member_import = _import_or_404(import_id)
    if member_import.status != ImportStatus.VALIDATED:
        abort(409)
    data = importing.problem_workbook(member_import)
    db.session.commit()
    return private_download(data, f"import-{member_import.id}-rows-to-correct.xlsx")


@can_write
def import_confirm(import_id: int):
    member_import = _import_or_404(import_id)
    if member_import.status != ImportStatus.VALIDATED:
        abort(409)
    return _start(member_import, "apply")


@can_write
def import_retry(import_id: int):
    member_import = _import_or_404(import_id)
    if not importing.can_retry(member_import):
        abort(409)
    return _start(member_import, member_import.failed_step)


@can_write
def import_cancel(import_id: int):
    member_import = _import_or_404(import_id)
    if importing.cancel(member_import):
        flash(_("The import was cancelled; nothing was imported."), "success")
        return redirect(url_for("members.import_upload"), 303)
    if member_import.status == ImportStatus.DONE:
        flash(_("Too late to cancel: the import had just finished."), "error")
    return _redirect_to(member_import)
