"""URL map of volunteering."""

from flask import Blueprint

from app.volunteers import views

bp = Blueprint("volunteers", __name__, url_prefix="/a/<slug>/volunteers")
bp.add_url_rule("/", "index", views.index)
bp.add_url_rule("/gaps", "gaps", views.gaps)
bp.add_url_rule("/me", "me", views.me)
bp.add_url_rule("/people", "people", views.people)
bp.add_url_rule("/people/new", "new_volunteer", views.new_volunteer, methods=["GET", "POST"])
bp.add_url_rule("/people/<int:volunteer_id>", "volunteer", views.volunteer)
bp.add_url_rule(
    "/people/<int:volunteer_id>/edit",
    "edit_volunteer",
    views.edit_volunteer,
    methods=["GET", "POST"],
)
bp.add_url_rule(
    "/people/<int:volunteer_id>/hours",
    "record_past_hours",
    views.record_past_hours,
    methods=["POST"],
)
bp.add_url_rule("/people/<int:volunteer_id>/certificate", "certificate", views.certificate)
bp.add_url_rule("/teams", "teams", views.teams)
bp.add_url_rule("/teams/new", "new_team", views.new_team, methods=["GET", "POST"])
bp.add_url_rule("/teams/<int:team_id>", "team", views.team)
bp.add_url_rule("/teams/<int:team_id>/edit", "edit_team", views.edit_team, methods=["GET", "POST"])
bp.add_url_rule(
    "/teams/<int:team_id>/members", "add_team_member", views.add_team_member, methods=["POST"]
)
bp.add_url_rule(
    "/teams/<int:team_id>/members/<int:volunteer_id>/remove",
    "remove_team_member",
    views.remove_team_member,
    methods=["POST"],
)
bp.add_url_rule("/shifts/new", "new_shift", views.new_shift, methods=["GET", "POST"])
bp.add_url_rule("/shifts/<int:shift_id>", "shift", views.shift)
bp.add_url_rule(
    "/shifts/<int:shift_id>/edit", "edit_shift", views.edit_shift, methods=["GET", "POST"]
)
bp.add_url_rule("/shifts/<int:shift_id>/signup", "signup", views.signup, methods=["POST"])
bp.add_url_rule("/shifts/<int:shift_id>/cancel", "cancel", views.cancel, methods=["POST"])
bp.add_url_rule("/shifts/<int:shift_id>/assign", "assign", views.assign, methods=["POST"])
bp.add_url_rule(
    "/shifts/<int:shift_id>/people/<int:volunteer_id>/remove",
    "remove_from_shift",
    views.remove_from_shift,
    methods=["POST"],
)
bp.add_url_rule(
    "/shifts/<int:shift_id>/people/<int:volunteer_id>/hours",
    "confirm_hours",
    views.confirm_hours,
    methods=["POST"],
)
bp.add_url_rule("/hours", "hours", views.hours)
bp.add_url_rule("/ranking", "ranking", views.ranking)
bp.add_url_rule("/settings", "settings", views.settings, methods=["GET", "POST"])
