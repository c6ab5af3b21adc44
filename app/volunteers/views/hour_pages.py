"""Volunteer pages: hours, ranking, settings."""

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _

from app.core.views import can_read, can_read_registers, can_write, render
from app.volunteers import services
from app.volunteers.forms import (
    SettingsForm,
)
from app.volunteers.views.common import _year


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
