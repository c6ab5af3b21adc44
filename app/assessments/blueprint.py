"""URL map of the yearly assessment (考核)."""

from flask import Blueprint

from app.assessments import views
from app.assessments.points import RULE_LABELS, points_text
from app.assessments.self_assessment import STATE_LABELS
from app.assessments.statements import target_name
from app.core.replica import reads_from_replica

bp = Blueprint("assessments", __name__, url_prefix="/a/<slug>/assessments")
bp.add_url_rule("/", "index", views.index)
bp.add_url_rule("/sheets", "create_sheet", views.create_sheet, methods=["POST"])
bp.add_url_rule("/sheets/<int:sheet_id>", "sheet", views.sheet)
bp.add_url_rule("/sheets/<int:sheet_id>/items", "add_item", views.add_item, methods=["POST"])
bp.add_url_rule(
    "/sheets/<int:sheet_id>/items/<int:sheet_item_id>/remove",
    "remove_item",
    views.remove_item,
    methods=["POST"],
)
bp.add_url_rule("/sheets/<int:sheet_id>/publish", "publish", views.publish, methods=["POST"])
bp.add_url_rule("/own", "own", views.own)
bp.add_url_rule("/own/claim", "claim", views.claim, methods=["POST"])
bp.add_url_rule("/own/submit", "submit", views.submit, methods=["POST"])
bp.add_url_rule("/own/score", "score", views.score, methods=["POST"])
bp.add_url_rule("/scoring", "scoring", views.scoring)
bp.add_url_rule("/scoring/close", "close", views.close, methods=["POST"])
bp.add_url_rule("/scoring/reopen", "reopen", views.reopen, methods=["POST"])
bp.add_url_rule("/scoring/models", "name_model", views.name_model, methods=["POST"])
bp.add_url_rule(
    "/scoring/models/withdraw", "withdraw_model", views.withdraw_model, methods=["POST"]
)
bp.add_url_rule("/export", "export", reads_from_replica(views.export))
bp.add_url_rule("/statement", "statement", views.statement)
bp.add_url_rule("/statement", "sign_statement", views.sign_statement, methods=["POST"])
bp.add_app_template_filter(points_text, "points")
bp.add_app_template_global(STATE_LABELS.get, "assessment_state_label")
bp.add_app_template_global(RULE_LABELS.get, "rule_label")
bp.add_app_template_global(target_name, "target_label")
bp.add_app_template_global(views.model_marks, "model_marks")
bp.add_app_template_global(views.model_counts, "model_counts")
