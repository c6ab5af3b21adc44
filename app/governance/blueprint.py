"""URL map of the self-governance cycle: the yearly plan (signed in) and the public page."""

from flask import Blueprint

from app.governance import public, public_photos, survey_views, views
from app.governance.services import COMMENT_STATE_LABELS, STATE_LABELS, CycleFigures

bp = Blueprint("governance", __name__, url_prefix="/a/<slug>/governance")
bp.add_url_rule("/plan", "plan", views.plan)
bp.add_url_rule("/plan", "save_plan", views.save_plan, methods=["POST"])
bp.add_url_rule("/plan/commitments", "add_commitment", views.add_commitment, methods=["POST"])
bp.add_url_rule(
    "/plan/activities", "add_planned_activity", views.add_planned_activity, methods=["POST"]
)
bp.add_url_rule("/plan/approval", "record_approval", views.record_approval, methods=["POST"])
bp.add_url_rule("/plan/publish", "publish", views.publish, methods=["POST"])
bp.add_url_rule("/commitments/<int:commitment_id>", "commitment", views.commitment)
bp.add_url_rule(
    "/commitments/<int:commitment_id>/updates", "add_update", views.add_update, methods=["POST"]
)
bp.add_url_rule(
    "/commitments/<int:commitment_id>/delete",
    "delete_commitment",
    views.delete_commitment,
    methods=["POST"],
)
bp.add_url_rule(
    "/planned-activities/<int:planned_id>/delete",
    "delete_planned_activity",
    views.delete_planned_activity,
    methods=["POST"],
)
bp.add_url_rule(
    "/planned-activities/<int:planned_id>/link",
    "link_planned_activity",
    views.link_planned_activity,
    methods=["POST"],
)
bp.add_url_rule("/report", "report", views.report)
bp.add_url_rule("/report", "save_report", views.save_report, methods=["POST"])
bp.add_url_rule("/report/publish", "publish_report", views.publish_report, methods=["POST"])
bp.add_url_rule("/below", "below", survey_views.below)
bp.add_url_rule("/photos/<int:photo_id>/public", "photo_publication", public_photos.publication)
bp.add_url_rule(
    "/photos/<int:photo_id>/public",
    "set_photo_publication",
    public_photos.set_publication,
    methods=["POST"],
)
bp.add_url_rule("/survey", "survey", survey_views.survey)
bp.add_url_rule("/survey/open", "open_survey", survey_views.open_survey, methods=["POST"])
bp.add_url_rule("/survey/codes", "print_codes", survey_views.print_codes, methods=["POST"])
bp.add_url_rule(
    "/survey/comments/<int:response_id>",
    "moderate",
    survey_views.moderate,
    methods=["POST"],
)
bp.add_url_rule(
    "/supervision-comments", "comment_on_plan", survey_views.comment_on_plan, methods=["POST"]
)
bp.add_app_template_global(STATE_LABELS.get, "commitment_state_label")


# The dashboard's hook (templates/governance/_dashboard_tile.html): plans and reports published
# and the residents' satisfaction, from the subtree's figures the dashboard has read.
bp.add_app_template_global(CycleFigures.of, "governance_cycle")
bp.add_app_template_global(COMMENT_STATE_LABELS.get, "comment_state_label")

# No `slug` argument: the tenant resolver (which sends anonymous users to the login page) leaves
# these alone; the view sets a read-only scope of the association named by `address` itself.
public_bp = Blueprint("public", __name__, url_prefix="/p")
public_bp.add_url_rule("/<address>", "page", public.page)
public_bp.add_url_rule("/<address>/notice.pdf", "notice", public.notice)
public_bp.add_url_rule("/<address>/photos/<int:photo_id>.jpg", "photo", public.photo)
public_bp.add_url_rule("/<address>/survey/phone", "send_code", public.send_code, methods=["POST"])
public_bp.add_url_rule("/<address>/survey", "survey", public.survey, methods=["GET", "POST"])
