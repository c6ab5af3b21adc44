"""URL map of the dashboards."""

from flask import Blueprint
from flask_babel import get_locale

from app.core.replica import reads_from_replica
from app.dashboards import definitions, target_views, views
from app.dashboards.labels import ACTIVITY_STATUS_LABELS, progress_text

bp = Blueprint("dashboards", __name__, url_prefix="/a/<slug>/dashboard")
bp.add_url_rule("/", "index", reads_from_replica(views.index))
bp.add_url_rule("/problems", "problems", reads_from_replica(views.problems))
bp.add_url_rule(
    "/tiles/late-reports", "late_reports_tile", reads_from_replica(views.late_reports_tile)
)
bp.add_url_rule("/associations", "associations", reads_from_replica(views.associations))
bp.add_url_rule("/export.xlsx", "export", reads_from_replica(views.export))
bp.add_url_rule("/report", "report", reads_from_replica(views.report))
bp.add_url_rule("/refresh", "refresh", views.refresh_now, methods=["POST"])
bp.add_url_rule("/targets", "targets", target_views.targets)
bp.add_url_rule("/targets", "save_targets", target_views.save_targets, methods=["POST"])
bp.add_url_rule("/targets/own", "add_target", target_views.add_target, methods=["POST"])
bp.add_url_rule("/manual", "manual_values", target_views.manual_values)
bp.add_url_rule("/manual", "save_manual_values", target_views.save_manual_values, methods=["POST"])


@bp.app_template_filter("percent")
def percent_filter(value) -> str:
    """A share as every page shows it (app/dashboards/definitions.py: `percent_text`)."""
    return definitions.percent_text(value)


@bp.app_template_filter("whole_number")
def whole_number_filter(value) -> str:
    """A whole number as the `number` filter writes it ("12,345"), for the tables that show
    a few hundred counts a page: babel's pattern engine took a quarter of the county
    dashboard's rendering."""
    return definitions.count_text(value, get_locale())


@bp.app_template_filter("target")
def target_filter(value) -> str:
    """A target figure ("10%"): app/dashboards/definitions.py: `target_text`."""
    return definitions.target_text(value)


@bp.app_context_processor
def register_helpers() -> dict:
    """`home_figures(association)`: the member-ratio card of the association's home page."""
    return {"home_figures": views.home_figures}


# The activity requirement's status words and sentence, for every page that shows them (also
# from imported macros, hence globals rather than context).
bp.add_app_template_global(progress_text, "activity_progress_text")
bp.add_app_template_global(views.activity_progress_for, "activity_progress_for")


@bp.app_template_global("activity_status_label")
def activity_status_label(status: str) -> str:
    return str(ACTIVITY_STATUS_LABELS[status])
