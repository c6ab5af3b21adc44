"""Pages of a member's rights over their data: download it, ask for deletion; and the
secretary's list of deletion requests to carry out or refuse."""

from flask import abort, flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.clock import china_today
from app.core.views import private_download, render, require, secretary_only
from app.members import personal_data, services
from app.members.forms import DataRequestDecisionForm, DeletionRequestForm

has_own_role = require(lambda access: access.own_role is not None, "own role")


def _own_member_or_404():
    # Her data stays hers to see, download and have erased while a deletion by the secretary
    # can still be undone (PIPL arts. 44-47): the record and all hanging off it are still held.
    member = services.member_of_user(current_user.id, include_deleted=True)
    if member is None:
        abort(404)
    return member


@has_own_role
def my_data():
    """My data: every section the association holds about me, on screen."""
    member = _own_member_or_404()
    return render(
        "members/my_data.html",
        member=member,
        sections=personal_data.sections_for(member),
        open_request=personal_data.open_request_of(member),
        requests=personal_data.requests_of_user(current_user.id),
        form=DeletionRequestForm(),
    )


@has_own_role
def my_data_download():
    member = _own_member_or_404()
    data = personal_data.export_workbook(member)
    filename = f"my-data-{g.association.slug}-{china_today():%Y%m%d}.xlsx"
    return private_download(data, filename)


@has_own_role
def request_deletion():
    member = _own_member_or_404()
    form = DeletionRequestForm()
    error = None
    if form.validate_on_submit():
        try:
            personal_data.request_deletion(
                member, user_id=current_user.id, reason=form.reason.data or ""
            )
        except personal_data.DataRequestError as refused:
            error = str(refused)
        else:
            flash(_("Your request has been sent to the secretary."), "success")
            return redirect(url_for("members.my_data"), 303)
    return render(
        "members/my_data.html",
        member=member,
        sections=personal_data.sections_for(member),
        open_request=personal_data.open_request_of(member),
        requests=personal_data.requests_of_user(current_user.id),
        form=form,
        error=error,
        status=422,
    )


@secretary_only
def data_requests():
    return render(
        "members/data_requests.html",
        requests=personal_data.list_requests(),
        form=DataRequestDecisionForm(),
    )


@secretary_only
def decide_data_request(request_id: int):
    data_request = personal_data.load_request(request_id)
    if data_request is None:
        abort(404)
    form = DataRequestDecisionForm()
    if form.validate_on_submit():
        try:
            if form.action.data == "carry_out":
                personal_data.carry_out(data_request, by_id=current_user.id, note=form.note.data)
                flash(
                    _("%(name)s's record has been deleted.", name=data_request.member_name),
                    "success",
                )
            else:
                personal_data.refuse(data_request, by_id=current_user.id, note=form.note.data)
                flash(_("The request has been refused; the member is told why."), "success")
        except personal_data.DataRequestError as refused:
            error = str(refused)
        else:
            return redirect(url_for("members.data_requests"), 303)
    else:
        error = None
    return render(
        "members/data_requests.html",
        requests=personal_data.list_requests(),
        form=form,
        failed_id=data_request.id,
        error=error,
        status=422,
    )
