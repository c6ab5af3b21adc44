"""URL map of oversight: the review queue, rectification tasks and spot checks."""

from flask import Blueprint

from app.oversight import views
from app.oversight.models import Verdict
from app.oversight.rectification import EVENT_LABELS, STATE_LABELS

bp = Blueprint("oversight", __name__, url_prefix="/a/<slug>/oversight")
bp.add_url_rule("/reviews", "reviews", views.reviews)
bp.add_url_rule("/tasks", "tasks", views.tasks)
bp.add_url_rule("/tasks/new", "new_task", views.new_task, methods=["GET", "POST"])
bp.add_url_rule("/tasks/<int:task_id>", "task", views.task)
bp.add_url_rule("/tasks/<int:task_id>/answer", "answer_task", views.answer_task, methods=["POST"])
bp.add_url_rule("/tasks/<int:task_id>/decide", "decide_task", views.decide_task, methods=["POST"])
bp.add_url_rule("/spot-checks", "spot_checks", views.spot_checks)
bp.add_url_rule("/spot-checks", "draw", views.draw, methods=["POST"])
bp.add_url_rule("/spot-checks/<int:spot_check_id>", "spot_check", views.spot_check)
bp.add_url_rule("/spot-check-entries/<int:entry_id>", "inspect", views.inspect, methods=["POST"])
bp.add_app_template_global(STATE_LABELS.get, "task_state_label")
bp.add_app_template_global(EVENT_LABELS.get, "task_event_label")
bp.add_app_template_global(views.home_summary, "oversight_home_summary")
bp.add_app_template_global(views.may_open_task_here, "may_open_task_here")
bp.add_app_template_global(Verdict, "Verdict")
