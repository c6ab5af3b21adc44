"""Volunteers: the home page with the gaps, profiles, teams, shifts with one-tap sign-up,
hours confirmed by those allowed, the certificate, the ranking and the member's own page."""

from app.volunteers.views.common import (
    has_role,
)
from app.volunteers.views.home import (
    gaps,
    index,
    me,
)
from app.volunteers.views.hour_pages import (
    hours,
    ranking,
    settings,
)
from app.volunteers.views.profiles import (
    certificate,
    edit_volunteer,
    new_volunteer,
    people,
    record_past_hours,
    volunteer,
)
from app.volunteers.views.shifts import (
    assign,
    cancel,
    confirm_hours,
    edit_shift,
    new_shift,
    remove_from_shift,
    shift,
    signup,
)
from app.volunteers.views.team_pages import (
    add_team_member,
    edit_team,
    new_team,
    remove_team_member,
    team,
    teams,
)

__all__ = [
    "add_team_member",
    "assign",
    "cancel",
    "certificate",
    "confirm_hours",
    "edit_shift",
    "edit_team",
    "edit_volunteer",
    "gaps",
    "has_role",
    "hours",
    "index",
    "me",
    "new_shift",
    "new_team",
    "new_volunteer",
    "people",
    "ranking",
    "record_past_hours",
    "remove_from_shift",
    "remove_team_member",
    "settings",
    "shift",
    "signup",
    "team",
    "teams",
    "volunteer",
]
