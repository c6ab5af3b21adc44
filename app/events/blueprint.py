"""URL map of events."""

from flask import Blueprint

from app.events import views

bp = Blueprint("events", __name__, url_prefix="/a/<slug>/events")
bp.add_url_rule("/", "index", views.index)
bp.add_url_rule("/new", "new", views.new, methods=["GET", "POST"])
bp.add_url_rule("/<int:event_id>", "detail", views.detail)
bp.add_url_rule("/<int:event_id>/edit", "edit", views.edit, methods=["GET", "POST"])
bp.add_url_rule("/<int:event_id>/signup", "signup", views.signup, methods=["POST"])
bp.add_url_rule("/<int:event_id>/cancel", "cancel", views.cancel, methods=["POST"])
bp.add_url_rule("/<int:event_id>/checkin", "checkin", views.checkin)
bp.add_url_rule("/<int:event_id>/checkin/scan", "scan", views.scan, methods=["POST"])
bp.add_url_rule(
    "/<int:event_id>/checkin/<int:registration_id>",
    "toggle_checkin",
    views.toggle_checkin,
    methods=["POST"],
)
bp.add_url_rule("/<int:event_id>/walk-in", "walk_in", views.walk_in, methods=["POST"])
bp.add_url_rule("/<int:event_id>/record", "record", views.record, methods=["POST"])
bp.add_url_rule("/<int:event_id>/calendar.ics", "calendar", views.calendar)
