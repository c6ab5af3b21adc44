"""Volunteer pages: profiles."""

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.audit import record_denial
from app.core.clock import utcnow
from app.core.forms import options
from app.core.problems import show_problems
from app.core.views import can_read, can_read_registers, can_write, render
from app.volunteers import services
from app.volunteers.forms import (
    TIME_LABELS,
    WEEKDAY_LABELS,
    PastHoursForm,
    VolunteerForm,
)
from app.volunteers.views.common import _my_volunteer, _year


@can_read_registers
def people():
    year = _year()
    return render(
        "volunteers/people.html",
        rows=services.volunteer_list(year),
        year=year,
        weekday_labels=WEEKDAY_LABELS,
        time_labels=TIME_LABELS,
    )


def _volunteer_or_404(volunteer_id: int):
    volunteer = services.load_volunteer(volunteer_id)
    if volunteer is None:
        abort(404)
    return volunteer


def _volunteer_form_page(form, *, volunteer=None, status=200):
    if volunteer is None:
        form.member_id.choices = options([(0, _("— not a member —"))] + services.member_choices())
    return render("volunteers/volunteer_form.html", status=status, form=form, volunteer=volunteer)


@can_write
def new_volunteer():
    form = VolunteerForm()
    if request.method == "GET":
        form.member_id.data = request.args.get("member_id", type=int)
        return _volunteer_form_page(form)
    if not form.validate():
        return _volunteer_form_page(form, status=422)
    try:
        volunteer = services.create_volunteer(form.to_input())
    except services.VolunteerInvalid as invalid:
        show_problems(form, invalid)
        return _volunteer_form_page(form, status=422)
    flash(_("Volunteer profile saved."), "success")
    return redirect(url_for("volunteers.volunteer", volunteer_id=volunteer.id), 303)


@can_read_registers
def volunteer(volunteer_id: int):
    volunteer = _volunteer_or_404(volunteer_id)
    if g.access.is_auditing:
        services.record_person_view(volunteer)
    return _volunteer_page(volunteer)


def _volunteer_page(volunteer, *, past_hours_form=None, status=200):
    year = _year()
    return render(
        "volunteers/volunteer.html",
        status=status,
        volunteer=volunteer,
        history=services.history_of(volunteer),
        minutes=services.confirmed_minutes_of(volunteer.id, year),
        year=year,
        weekday_labels=WEEKDAY_LABELS,
        time_labels=TIME_LABELS,
        past_hours_form=past_hours_form or PastHoursForm(formdata=None),
    )


@can_write
def record_past_hours(volunteer_id: int):
    volunteer = _volunteer_or_404(volunteer_id)
    form = PastHoursForm()
    if not form.validate():
        return _volunteer_page(volunteer, past_hours_form=form, status=422)
    try:
        services.record_past_hours(
            volunteer,
            served_on=form.served_on.data,
            minutes=form.hours.data,
            title=form.title.data,
            association=g.association,
            recorded_by_id=current_user.id,
            now=utcnow(),
        )
    except services.VolunteerInvalid as invalid:
        show_problems(form, invalid)
        return _volunteer_page(volunteer, past_hours_form=form, status=422)
    except services.VolunteerRefused as refused:
        flash(str(refused.message), "error")
        return _volunteer_page(volunteer, past_hours_form=form, status=422)
    flash(_("Hours recorded and confirmed."), "success")
    return redirect(url_for("volunteers.volunteer", volunteer_id=volunteer.id), 303)


@can_write
def edit_volunteer(volunteer_id: int):
    volunteer = _volunteer_or_404(volunteer_id)
    form = VolunteerForm()
    if request.method == "GET":
        form.fill_from(volunteer, services.phone_of(volunteer))
        return _volunteer_form_page(form, volunteer=volunteer)
    if not form.validate():
        return _volunteer_form_page(form, volunteer=volunteer, status=422)
    try:
        services.update_volunteer(volunteer, form.to_input())
    except services.VolunteerInvalid as invalid:
        show_problems(form, invalid)
        return _volunteer_form_page(form, volunteer=volunteer, status=422)
    flash(_("Volunteer profile saved."), "success")
    return redirect(url_for("volunteers.volunteer", volunteer_id=volunteer.id), 303)


@can_read
def certificate(volunteer_id: int):
    """The printable certificate: staff for anyone, a volunteer for themselves."""
    volunteer = _volunteer_or_404(volunteer_id)
    if not g.access.can_read_registers:
        own = _my_volunteer()
        if own is None or own.id != volunteer.id:
            record_denial(association_id=g.association.id, reason="another volunteer's certificate")
            abort(403)
    if g.access.is_auditing:
        services.record_person_view(volunteer)
    year = _year()
    return render(
        "volunteers/certificate.html",
        volunteer=volunteer,
        year=year,
        minutes=services.confirmed_minutes_of(volunteer.id, year),
        served=[
            s
            for s in services.history_of(volunteer, limit=500)
            if s.assignment.confirmed_at and s.assignment.served_on.year == year
        ],
        issued_on=utcnow(),
    )
