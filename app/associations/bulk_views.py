"""Bulk set-up of the associations below from a spreadsheet: upload → row-by-row report →
confirm (everything valid in one transaction) → the invitation links.

The kept file is read with the member import's reader and choices: a workbook with several
sheets with data asks which sheet (nothing importable until chosen), the heading row can be
moved, and the rows skipped (totals, signatures, notes) are listed with their reasons. The
choices travel with the token in the forms and are applied again when the file is re-read on
confirm."""

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.associations.bulk import upload, writing
from app.associations.bulk.checking import Report, check_table
from app.associations.bulk.columns import ALIASES, FIELD_LABELS, BulkImportError
from app.associations.forms import ConfirmImportForm, ImportForm
from app.core.notifications import mask_recipient
from app.core.spreadsheets import SpreadsheetError, chosen_layout
from app.core.views import render, secretary_only
from app.members.importing.upload import layout_of, listed_skips


def _upload_page(form: ImportForm, *, status: int = 200):
    return render(
        "associations/bulk_upload.html",
        form=form,
        status=status,
        field_labels=FIELD_LABELS,
        aliases=ALIASES,
        can_have_children=not g.association.kind.is_grassroots,
    )


class _Checked:
    """The kept file read with the user's choices, and the report when there can be one."""

    def __init__(self, token: str, sheet: str | None, heading_row: int | None):
        self.token, self.heading_row = token, heading_row
        self.table = upload.stored_table(token, g.association, sheet=sheet, heading_row=heading_row)
        self.sheet = sheet if self.table.sheet_choice_needed else None
        self.layout = layout_of(self.table, sheet_chosen=bool(sheet), heading_row=heading_row)
        self.report: Report | None = None
        self.error = None
        if self.layout["sheet_chosen"]:
            try:
                self.report = check_table(self.table, g.association)
            except BulkImportError as error:  # columns missing: the heading row moved?
                self.error = error.message
                self.layout["open_heading_mover"] = True


def _report_page(checked: _Checked, *, status: int = 200, error=None):
    return render(
        "associations/bulk_report.html",
        report=checked.report,
        layout=checked.layout,
        skipped=listed_skips(checked.layout),
        token=checked.token,
        error=error or checked.error,
        form=ConfirmImportForm(
            formdata=None,
            token=checked.token,
            sheet=checked.sheet,
            heading_row=checked.heading_row,
        ),
        field_labels=FIELD_LABELS,
        status=422 if status == 200 and (error or checked.error) else status,
    )


def _refuse(form: ImportForm, message) -> object:
    form.file.errors = [*form.file.errors, str(message)]
    return _upload_page(form, status=422)


def _expired():
    return _refuse(
        ImportForm(formdata=None),
        _("This import has expired or was cancelled: upload the file again."),
    )


@secretary_only
def bulk_upload():
    return _upload_page(ImportForm())


@secretary_only
def bulk_check():
    """Keep the file, check every row, show the report; nothing is written."""
    form = ImportForm()
    if g.association.kind.is_grassroots:
        form.form_errors.append(_("A grassroots association cannot have associations under it."))
        return _upload_page(form, status=422)
    if not form.validate_on_submit():
        return _upload_page(form, status=422)
    token = upload.save_upload(form.file.data.stream, g.association)
    try:
        checked = _Checked(token, None, None)
    except (SpreadsheetError, BulkImportError) as error:
        upload.discard(token, g.association)
        return _refuse(form, error.message)
    return _report_page(checked)


@secretary_only
def bulk_layout():
    """The user chose the sheet or moved the heading row: read the kept file again with it."""
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        return _expired()
    sheet, heading_row = chosen_layout(request.form, current_sheet=request.form.get("shown_sheet"))
    try:
        return _report_page(_Checked(form.token.data, sheet, heading_row))
    except SpreadsheetError as error:  # e.g. an empty row chosen: show the sheet as it was
        try:
            checked = _Checked(form.token.data, sheet, None)
        except (SpreadsheetError, BulkImportError):
            return _refuse(ImportForm(formdata=None), error.message)
        return _report_page(checked, status=422, error=error.message)
    except BulkImportError as error:
        return _refuse(ImportForm(formdata=None), error.message)


@secretary_only
def bulk_confirm():
    """Check the kept file again, with the same sheet and heading row, against the tree as it
    is now and write every valid row."""
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        return _expired()
    token = form.token.data
    try:
        checked = _Checked(token, form.sheet.data or None, form.heading_row.data)
    except (SpreadsheetError, BulkImportError) as error:
        return _refuse(ImportForm(formdata=None), error.message)
    if not checked.layout["sheet_chosen"]:
        return _report_page(
            checked, status=422, error=_("Choose the sheet that holds the associations first.")
        )
    report = checked.report
    if report is None or not report.valid_rows:
        return _report_page(checked, status=422)
    result = writing.write(
        report, g.association, current_user._get_current_object(), inviter=current_user.name
    )
    upload.discard(token, g.association)
    flash(_("%(count)d associations have been created.", count=len(result.created)), "success")
    return render("associations/bulk_done.html", result=result, mask=mask_recipient)


@secretary_only
def bulk_cancel():
    form = ConfirmImportForm()
    if form.validate_on_submit():
        upload.discard(form.token.data, g.association)
    flash(_("The import was cancelled: nothing was written."), "success")
    return redirect(url_for("associations.children"), 303)
