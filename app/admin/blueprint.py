"""URL map of the platform operator's console."""

from flask import Blueprint

from app.admin import views

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.add_url_rule("/", "index", views.index, methods=["GET", "POST"])
bp.add_url_rule(
    "/associations/<int:association_id>/move",
    "move_association",
    views.move_association,
    methods=["GET", "POST"],
)
bp.add_url_rule(
    "/associations/<int:association_id>", "association_detail", views.association_detail
)
bp.add_url_rule(
    "/associations/<int:association_id>/suspend", "suspend", views.suspend, methods=["POST"]
)
bp.add_url_rule(
    "/associations/<int:association_id>/unsuspend", "unsuspend", views.unsuspend, methods=["POST"]
)
bp.add_url_rule(
    "/associations/<int:association_id>/export", "export_association", views.export_association
)
bp.add_url_rule(
    "/associations/<int:association_id>/delete",
    "delete_association",
    views.delete_association,
    methods=["POST"],
)
bp.add_url_rule("/users", "users", views.users)
bp.add_url_rule(
    "/users/<int:user_id>/second-factor/reset",
    "reset_second_factor",
    views.reset_second_factor,
    methods=["POST"],
)
