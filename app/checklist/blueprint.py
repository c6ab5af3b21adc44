"""URL map of the 七有 checklist."""

from flask import Blueprint

from app.checklist import views
from app.checklist.services import EVENT_LABELS, STATE_LABELS

bp = Blueprint("checklist", __name__, url_prefix="/a/<slug>/checklist")
bp.add_url_rule("/", "index", views.index)
bp.add_url_rule("/evidence", "add_evidence", views.add_evidence, methods=["POST"])
bp.add_url_rule(
    "/evidence/<int:evidence_id>/delete", "delete_evidence", views.delete_evidence, methods=["POST"]
)
bp.add_url_rule("/note", "save_note", views.save_note, methods=["POST"])
bp.add_url_rule("/submit", "submit", views.submit, methods=["POST"])
bp.add_url_rule("/items/<int:item_id>/withdraw", "withdraw", views.withdraw, methods=["POST"])
bp.add_url_rule("/items/<int:item_id>/review", "review", views.review, methods=["POST"])
bp.add_url_rule("/review", "review_many", views.review_many, methods=["POST"])
bp.add_app_template_global(STATE_LABELS.get, "item_state_label")
bp.add_app_template_global(EVENT_LABELS.get, "event_label")
