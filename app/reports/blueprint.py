"""URL map of the statistics reports."""

from flask import Blueprint

from app.core.replica import reads_from_replica
from app.reports import reminders, views  # noqa: F401  (reminders: the scheduled job registers)
from app.reports.catalogue import SOURCE_LABELS, STATE_LABELS, figure_label
from app.reports.periods import period_text

bp = Blueprint("reports", __name__, url_prefix="/a/<slug>/reports")
bp.add_url_rule("", "index", views.index)
bp.add_url_rule("/forms/new", "new_form", views.new_form, methods=["GET", "POST"])
bp.add_url_rule("/forms/<int:form_id>", "form", reads_from_replica(views.form))
bp.add_url_rule("/forms/<int:form_id>/export", "export", reads_from_replica(views.export))
bp.add_url_rule("/forms/<int:form_id>/start", "start", views.start, methods=["POST"])
bp.add_url_rule("/<int:report_id>", "report", views.report)
bp.add_url_rule("/<int:report_id>", "save", views.save, methods=["POST"])
bp.add_url_rule("/<int:report_id>/decide", "decide", views.decide, methods=["POST"])
bp.add_url_rule("/<int:report_id>/print", "print_report", views.print_report)
bp.add_app_template_global(STATE_LABELS.get, "report_state_label")
bp.add_app_template_global(SOURCE_LABELS.get, "report_source_label")
bp.add_app_template_global(period_text, "report_period")
bp.add_app_template_global(views.late_summary, "late_reports_summary")
bp.add_app_template_global(figure_label, "report_figure_label")
