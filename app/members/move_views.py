"""Pages of household moves: a member asks to move (from her own details page), and the
secretary or staff see the requests and approve or decline them."""

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.forms import options
from app.core.problems import show_problems
from app.core.views import can_write, render, require
from app.members import households, moves, services
from app.members.forms import MoveApprovalForm, MoveDeclineForm, MoveRequestForm
from app.members.views import my_details_page

has_own_role = require(lambda access: access.own_role is not None, "own role")


@has_own_role
def request_move():
    member = services.member_of_user(current_user.id)
    if member is None:
        abort(404)
    form = MoveRequestForm()
    if form.validate_on_submit():
        try:
            moves.request_move(
                member,
                user_id=current_user.id,
                new_address=form.new_address.data,
                note=form.note.data or "",
            )
        except moves.MoveRequestError as refused:
            show_problems(form, refused)
        else:
            flash(_("Your request has been sent to the secretary."), "success")
            return redirect(url_for("members.me"), 303)
    return my_details_page(member, move_form=form, status=422)


def _move_or_404(move_id: int):
    move = moves.load_move(move_id, for_update=True)
    if move is None:
        abort(404)
    return move


def _list_page(approval=None, decline=None, *, failed_id=None, status: int = 200):
    """Pending requests first, each with its approve and decline forms; the form that failed
    keeps its input and messages (`failed_id`)."""
    if approval is None:
        approval = MoveApprovalForm(formdata=None)
    approval.household_id.choices = options(
        [(0, _("A new household at this address"))] + (households.household_choices())
    )
    return render(
        "members/moves.html",
        rows=moves.list_moves(),
        approval=approval,
        decline=decline or MoveDeclineForm(formdata=None),
        failed_id=failed_id,
        status=status,
    )


@can_write
def list_moves():
    return _list_page()


@can_write
def approve_move(move_id: int):
    move = _move_or_404(move_id)
    form = MoveApprovalForm()
    if form.validate_on_submit():
        try:
            household = moves.approve_move(
                move,
                by_id=current_user.id,
                household_id=form.household_id.data,
                new_household_address=form.address.data or "",
            )
        except moves.MoveRequestError as refused:
            show_problems(form, refused)
        else:
            flash(_("Moved to %(address)s.", address=household.address), "success")
            return redirect(url_for("members.moves"), 303)
    return _list_page(approval=form, failed_id=("approve", move.id), status=422)


@can_write
def decline_move(move_id: int):
    move = _move_or_404(move_id)
    form = MoveDeclineForm()
    if form.validate_on_submit():
        try:
            moves.decline_move(move, by_id=current_user.id, reason=form.reason.data)
        except moves.MoveRequestError as refused:
            show_problems(form, refused)
        else:
            flash(_("The request has been declined; the member is told why."), "success")
            return redirect(url_for("members.moves"), 303)
    return _list_page(decline=form, failed_id=("decline", move.id), status=422)
