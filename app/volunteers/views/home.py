"""Volunteer pages: home and the gaps."""

from flask import g
from flask_login import current_user

from app.core.clock import utcnow
from app.core.views import can_read, render
from app.volunteers import services
from app.volunteers.views.common import _my_volunteer, _year, has_role


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
