"""Volunteers: the home page with the gaps, profiles, teams, shifts with one-tap sign-up,
hours confirmed by those allowed, the certificate, the ranking and the member's own page."""

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.audit import record_denial
from app.core.clock import utcnow
from app.core.forms import options
from app.core.problems import show_problems
from app.core.views import can_read, can_read_registers, can_write, render, require
from app.volunteers import services
from app.volunteers.forms import (
    TIME_LABELS,
    WEEKDAY_LABELS,
    AssignForm,
    HoursForm,
    PastHoursForm,
    SettingsForm,
    ShiftForm,
    TeamForm,
    TeamMemberForm,
    VolunteerForm,
)

has_role = require(lambda access: access.own_role is not None, "own role")


def _year() -> int:
    current = utcnow().astimezone(services.CHINA).year
    year = request.args.get("year", type=int) or current
    if not 2000 <= year <= 2100:
        abort(404)
    return year


def _my_volunteer():
    return services.volunteer_of_user(current_user.id) if g.access.own_role else None


# --- home and the gaps ------------------------------------------------------------------------


@can_read
def index():
    current = utcnow()
    volunteer = _my_volunteer()
    shifts = services.shift_rows(now=current, limit=30)
    return render(
        "volunteers/index.html",
        shifts=shifts,
        gaps=services.gap_count(now=current),
        mine=services.my_assignments(volunteer, [r.shift for r in shifts]) if volunteer else {},
        volunteer=volunteer,
        ranking_visible=g.access.can_read_registers or services.ranking_visible_to_members(),
        now=current,
    )


@can_read
def gaps():
    current = utcnow()
    volunteer = _my_volunteer()
    shifts = services.shift_rows(now=current, gaps_only=True)
    return render(
        "volunteers/gaps.html",
        shifts=shifts,
        mine=services.my_assignments(volunteer, [r.shift for r in shifts]) if volunteer else {},
        volunteer=volunteer,
        now=current,
    )


@has_role
def me():
    volunteer = services.volunteer_of_user(current_user.id)
    year = _year()
    return render(
        "volunteers/me.html",
        volunteer=volunteer,
        history=services.history_of(volunteer) if volunteer else [],
        minutes=services.confirmed_minutes_of(volunteer.id, year) if volunteer else 0,
        year=year,
        now=utcnow(),
    )


# --- profiles ---------------------------------------------------------------------------------


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


# --- teams ------------------------------------------------------------------------------------


@can_read_registers
def teams():
    year = _year()
    return render("volunteers/teams.html", rows=services.team_list(year), year=year)


def _team_or_404(team_id: int):
    team = services.load_team(team_id)
    if team is None:
        abort(404)
    return team


def _volunteer_choices():
    return [(0, "—")] + services.volunteer_choices(services.active_volunteers())


def _team_form_page(form, *, team=None, status=200):
    form.leader_id.choices = options(_volunteer_choices())
    return render("volunteers/team_form.html", status=status, form=form, team=team)


@can_write
def new_team():
    form = TeamForm()
    if request.method == "GET":
        return _team_form_page(form)
    if not form.validate():
        return _team_form_page(form, status=422)
    try:
        team = services.create_team(form.to_input())
    except services.VolunteerInvalid as invalid:
        show_problems(form, invalid)
        return _team_form_page(form, status=422)
    flash(_("Team saved."), "success")
    return redirect(url_for("volunteers.team", team_id=team.id), 303)


@can_write
def edit_team(team_id: int):
    team = _team_or_404(team_id)
    form = TeamForm()
    if request.method == "GET":
        form.name.data, form.duties.data = team.name, team.duties
        form.leader_id.data = services.leader_id_of(team)
        return _team_form_page(form, team=team)
    if not form.validate():
        return _team_form_page(form, team=team, status=422)
    try:
        services.update_team(team, form.to_input())
    except services.VolunteerInvalid as invalid:
        show_problems(form, invalid)
        return _team_form_page(form, team=team, status=422)
    flash(_("Team saved."), "success")
    return redirect(url_for("volunteers.team", team_id=team.id), 303)


def _team_page(team, form, *, status=200):
    current = utcnow()
    form.volunteer_id.choices = options(_volunteer_choices())
    members = services.team_members(team)
    leader = next((v for row, v in members if row.is_leader), None)
    return render(
        "volunteers/team.html",
        status=status,
        team=team,
        members=members,
        leader=leader,
        form=form,
        shifts=[r for r in services.shift_rows(now=current) if r.shift.team_id == team.id],
        now=current,
    )


@can_read_registers
def team(team_id: int):
    return _team_page(_team_or_404(team_id), TeamMemberForm())


@can_write
def add_team_member(team_id: int):
    team = _team_or_404(team_id)
    form = TeamMemberForm()
    if not form.validate():
        return _team_page(team, form, status=422)
    try:
        services.add_team_member(team, form.volunteer_id.data, duty=form.duty.data or "")
    except services.VolunteerInvalid as invalid:
        show_problems(form, invalid)
        return _team_page(team, form, status=422)
    flash(_("Added to the team."), "success")
    return redirect(url_for("volunteers.team", team_id=team.id), 303)


@can_write
def remove_team_member(team_id: int, volunteer_id: int):
    team = _team_or_404(team_id)
    if not services.remove_team_member(team, volunteer_id):
        abort(404)
    flash(_("Removed from the team."), "success")
    return redirect(url_for("volunteers.team", team_id=team.id), 303)


# --- shifts -----------------------------------------------------------------------------------


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


# --- hours, ranking, settings -----------------------------------------------------------------


@can_read_registers
def hours():
    year = _year()
    return render(
        "volunteers/hours.html",
        year=year,
        people=services.volunteer_list(year),
        teams=services.team_list(year),
        years=services.yearly_totals(),
    )


@can_read
def ranking():
    if not g.access.can_read_registers and not services.ranking_visible_to_members():
        abort(404)
    year = _year()
    return render("volunteers/ranking.html", year=year, rows=services.ranking(year))


@can_write
def settings():
    form = SettingsForm()
    if request.method == "GET":
        form.ranking_visible.data = services.ranking_visible_to_members()
        return render("volunteers/settings.html", form=form)
    if not form.validate():
        return render("volunteers/settings.html", form=form, status=422)
    services.set_ranking_visible(bool(form.ranking_visible.data))
    flash(_("Settings saved."), "success")
    return redirect(url_for("volunteers.index"), 303)
