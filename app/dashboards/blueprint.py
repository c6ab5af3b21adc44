"""URL map of the dashboards."""

from flask import Blueprint

from app.dashboards import views

bp = Blueprint("dashboards", __name__, url_prefix="/a/<slug>/dashboard")
bp.add_url_rule("/", "index", views.index)
bp.add_url_rule("/problems", "problems", views.problems)
bp.add_url_rule("/export.xlsx", "export", views.export)
bp.add_url_rule("/report", "report", views.report)
bp.add_url_rule("/refresh", "refresh", views.refresh_now, methods=["POST"])
