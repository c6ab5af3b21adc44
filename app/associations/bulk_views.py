"""Bulk set-up of the associations below from a spreadsheet: upload → row-by-row report →
confirm (everything valid in one transaction) → the invitation links."""

from flask import flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.associations import bulk
from app.associations.forms import ConfirmImportForm, ImportForm
from app.core.notifications import mask_recipient
from app.core.spreadsheets import SpreadsheetError
from app.core.views import render, secretary_only


def _upload_page(form: ImportForm, *, status: int = 200):
    return render(
        "associations/bulk_upload.html",
        form=form,
        status=status,
        field_labels=bulk.FIELD_LABELS,
        aliases=bulk.ALIASES,
        can_have_children=not g.association.kind.is_grassroots,
    )


def _report_page(report: bulk.Report, token: str, *, status: int = 200):
    return render(
        "associations/bulk_report.html",
        report=report,
        form=ConfirmImportForm(formdata=None, token=token),
        field_labels=bulk.FIELD_LABELS,
        status=status,
    )


def _refuse(form: ImportForm, message) -> object:
    form.file.errors = [*form.file.errors, str(message)]
    return _upload_page(form, status=422)


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
    token = bulk.save_upload(form.file.data.stream, g.association)
    try:
        report = bulk.check_table(bulk.stored_table(token, g.association), g.association)
    except (SpreadsheetError, bulk.BulkImportError) as error:
        bulk.discard(token, g.association)
        return _refuse(form, error.message)
    if not report.valid_rows:
        bulk.discard(token, g.association)
    return _report_page(report, token)


@secretary_only
def bulk_confirm():
    """Check the kept file again against the tree as it is now and write every valid row."""
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        return _refuse(
            ImportForm(formdata=None),
            _("This import has expired or was cancelled: upload the file again."),
        )
    token = form.token.data
    try:
        report = bulk.check_table(bulk.stored_table(token, g.association), g.association)
    except (SpreadsheetError, bulk.BulkImportError) as error:
        return _refuse(ImportForm(formdata=None), error.message)
    if not report.valid_rows:
        bulk.discard(token, g.association)
        return _report_page(report, token, status=422)
    result = bulk.write(
        report, g.association, current_user._get_current_object(), inviter=current_user.name
    )
    bulk.discard(token, g.association)
    flash(_("%(count)d associations have been created.", count=len(result.created)), "success")
    return render("associations/bulk_done.html", result=result, mask=mask_recipient)


@secretary_only
def bulk_cancel():
    form = ConfirmImportForm()
    if form.validate_on_submit():
        bulk.discard(form.token.data, g.association)
    flash(_("The import was cancelled: nothing was written."), "success")
    return redirect(url_for("associations.children"), 303)
