"""Volunteer pages: teams."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from app.core.clock import utcnow
from app.core.forms import options
from app.core.problems import show_problems
from app.core.views import can_read_registers, can_write, render
from app.volunteers import services
from app.volunteers.forms import (
    TeamForm,
    TeamMemberForm,
)
from app.volunteers.views.common import _year


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
