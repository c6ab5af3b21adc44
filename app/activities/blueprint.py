"""URL map of the activity log."""

from flask import Blueprint

from app.activities import views
from app.activities.labels import ACTIVITY_TYPE_LABELS, AID_KIND_LABELS

bp = Blueprint("activities", __name__, url_prefix="/a/<slug>/activities")
bp.add_url_rule("/", "index", views.index)
bp.add_url_rule("/new", "new", views.new, methods=["GET", "POST"])
bp.add_url_rule("/report", "report", views.report)
bp.add_url_rule("/members/search", "member_search", views.member_search)
bp.add_url_rule("/<int:activity_id>", "detail", views.detail)
bp.add_url_rule("/<int:activity_id>/edit", "edit", views.edit, methods=["GET", "POST"])
bp.add_url_rule("/<int:activity_id>/delete", "delete", views.delete, methods=["POST"])
bp.add_url_rule("/<int:activity_id>/photos", "add_photos", views.add_photos, methods=["POST"])
bp.add_url_rule(
    "/photos/<int:photo_id>/delete", "delete_photo", views.delete_photo, methods=["POST"]
)
bp.add_app_template_global(ACTIVITY_TYPE_LABELS.get, "activity_type_label")
bp.add_app_template_global(AID_KIND_LABELS.get, "aid_kind_label")
bp.add_app_template_global(
    [(kind.value, label) for kind, label in ACTIVITY_TYPE_LABELS.items()], "activity_types"
)
