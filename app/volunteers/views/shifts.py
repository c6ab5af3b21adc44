"""Volunteer pages: shifts."""

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.audit import record_denial
from app.core.clock import utcnow
from app.core.forms import options
from app.core.problems import show_problems
from app.core.views import can_read, can_write, render
from app.volunteers import services
from app.volunteers.forms import (
    AssignForm,
    HoursForm,
    ShiftForm,
)
from app.volunteers.views.common import _my_volunteer, has_role


def _shift_or_404(shift_id: int):
    shift = services.load_shift(shift_id)
    if shift is None:
        abort(404)
    return shift


def _shift_form_page(form, *, shift=None, status=200):
    form.team_id.choices = options(
        [(0, _("No team"))] + [(t.id, t.name) for t in services.all_teams()]
    )
    form.event_id.choices = options([(0, _("No event"))] + services.event_choices(now=utcnow()))
    return render("volunteers/shift_form.html", status=status, form=form, shift=shift)


@can_write
def new_shift():
    form = ShiftForm()
    if request.method == "GET":
        form.event_id.data = request.args.get("event_id", type=int)
        return _shift_form_page(form)
    if not form.validate():
        return _shift_form_page(form, status=422)
    try:
        shifts = services.create_shifts(
            form.to_input(), created_by_id=current_user.id, now=utcnow()
        )
    except services.VolunteerInvalid as invalid:
        show_problems(form, invalid)
        return _shift_form_page(form, status=422)
    flash(
        _("%(n)d shifts saved.", n=len(shifts)) if len(shifts) > 1 else _("Shift saved."), "success"
    )
    return redirect(url_for("volunteers.shift", shift_id=shifts[0].id), 303)


@can_write
def edit_shift(shift_id: int):
    shift = _shift_or_404(shift_id)
    form = ShiftForm()
    if request.method == "GET":
        form.fill_from(shift)
        return _shift_form_page(form, shift=shift)
    if not form.validate():
        return _shift_form_page(form, shift=shift, status=422)
    try:
        services.update_shift(shift, form.to_input(), now=utcnow())
    except services.VolunteerInvalid as invalid:
        show_problems(form, invalid)
        return _shift_form_page(form, shift=shift, status=422)
    flash(_("Shift saved."), "success")
    return redirect(url_for("volunteers.shift", shift_id=shift.id), 303)


def _manages(shift) -> bool:
    """Staff, or the leader of the shift's team: assigns people and confirms hours."""
    return g.access.own_role is not None and services.may_confirm_hours(
        can_write=g.access.can_write, user_id=current_user.id, shift=shift
    )


def _shift_page(shift, *, status=200, assign_form=None, hours_form=None, hours_for=None):
    current = utcnow()
    people = services.shift_people(shift)
    on_shift = [(a, v) for a, v in people if a.status.value == "signed_up"]
    volunteer = _my_volunteer()
    mine = next((a for a, v in on_shift if volunteer and v.id == volunteer.id), None)
    manage = _manages(shift)
    form = assign_form or AssignForm()
    if manage:
        taken = {v.id for _, v in on_shift}
        form.volunteer_id.choices = options(
            [(0, "—")]
            + services.volunteer_choices(
                [v for v in services.active_volunteers() if v.id not in taken]
            )
        )
    team = services.load_team(shift.team_id) if shift.team_id else None
    return render(
        "volunteers/shift.html",
        status=status,
        shift=shift,
        team=team,
        on_shift=on_shift,
        missing=max(shift.people_needed - len(on_shift), 0),
        volunteer=volunteer,
        mine=mine,
        manage=manage,
        assign_form=form,
        hours_form=hours_form or HoursForm(),
        hours_for=hours_for,
        default_hours=services.hours_text(shift.minutes),
        started=current >= shift.starts_at,
        now=current,
    )


@can_read
def shift(shift_id: int):
    return _shift_page(_shift_or_404(shift_id))


@has_role
def signup(shift_id: int):
    shift = _shift_or_404(shift_id)
    try:
        services.sign_up(shift, volunteer=_my_volunteer(), association=g.association, now=utcnow())
    except services.VolunteerRefused as refused:
        flash(str(refused.message), "error")
        return _shift_page(shift, status=422)
    flash(_("You are on this shift. Thank you!"), "success")
    return redirect(url_for("volunteers.shift", shift_id=shift.id), 303)


@has_role
def cancel(shift_id: int):
    shift = _shift_or_404(shift_id)
    try:
        services.cancel(shift, volunteer=_my_volunteer(), association=g.association, now=utcnow())
    except services.VolunteerRefused as refused:
        flash(str(refused.message), "error")
        return _shift_page(shift, status=422)
    flash(_("You are off this shift."), "success")
    return redirect(url_for("volunteers.shift", shift_id=shift.id), 303)


def _require_manager(shift) -> None:
    if not _manages(shift):
        record_denial(association_id=g.association.id, reason="manage a volunteer shift")
        abort(403)


@has_role
def assign(shift_id: int):
    shift = _shift_or_404(shift_id)
    _require_manager(shift)
    form = AssignForm()
    if not form.validate():
        return _shift_page(shift, status=422, assign_form=form)
    try:
        services.assign(
            shift,
            form.volunteer_id.data,
            association=g.association,
            assigned_by_id=current_user.id,
            now=utcnow(),
        )
    except services.VolunteerRefused as refused:
        flash(str(refused.message), "error")
        return _shift_page(shift, status=422, assign_form=form)
    flash(_("Added to the shift."), "success")
    return redirect(url_for("volunteers.shift", shift_id=shift.id), 303)


@has_role
def remove_from_shift(shift_id: int, volunteer_id: int):
    shift = _shift_or_404(shift_id)
    _require_manager(shift)
    try:
        removed = services.remove_from_shift(shift, volunteer_id, association=g.association)
    except services.VolunteerRefused as refused:
        flash(str(refused.message), "error")
        return _shift_page(shift, status=422)
    if not removed:
        abort(404)
    flash(_("Taken off the shift."), "success")
    return redirect(url_for("volunteers.shift", shift_id=shift.id), 303)


@has_role
def confirm_hours(shift_id: int, volunteer_id: int):
    shift = _shift_or_404(shift_id)
    _require_manager(shift)
    form = HoursForm()
    if not form.validate():
        return _shift_page(shift, status=422, hours_form=form, hours_for=volunteer_id)
    try:
        assignment = services.confirm_hours(
            shift,
            volunteer_id,
            form.hours.data,
            association=g.association,
            confirmed_by_id=current_user.id,
            now=utcnow(),
        )
    except services.VolunteerInvalid as invalid:
        show_problems(form, invalid)
        return _shift_page(shift, status=422, hours_form=form, hours_for=volunteer_id)
    except services.VolunteerRefused as refused:
        flash(str(refused.message), "error")
        return _shift_page(shift, status=422)
    if assignment is None:
        abort(404)
    flash(_("Hours confirmed."), "success")
    return redirect(url_for("volunteers.shift", shift_id=shift.id), 303)
