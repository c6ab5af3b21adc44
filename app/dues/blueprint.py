"""URL map of dues (the Stripe routes live in app/dues/stripe_blueprint.py)."""

from flask import Blueprint

from app.core.replica import reads_from_replica
from app.dues import views

bp = Blueprint("dues", __name__, url_prefix="/a/<slug>/dues")
bp.add_url_rule("/", "index", views.index)
bp.add_url_rule("/plan", "plan", views.plan, methods=["GET", "POST"])
bp.add_url_rule("/generate", "generate", views.generate, methods=["POST"])
bp.add_url_rule("/members/<int:member_id>", "member", views.member)
bp.add_url_rule(
    "/members/<int:member_id>/payments", "record_payment", views.record_payment, methods=["POST"]
)
bp.add_url_rule(
    "/members/<int:member_id>/exemptions", "add_exemption", views.add_exemption, methods=["POST"]
)
bp.add_url_rule(
    "/exemptions/<int:exemption_id>/delete",
    "remove_exemption",
    views.remove_exemption,
    methods=["POST"],
)
bp.add_url_rule("/payments", "payments", views.payment_list)
bp.add_url_rule("/payments/<int:payment_id>/void", "void", views.void, methods=["GET", "POST"])
bp.add_url_rule("/payments/<int:payment_id>/receipt.pdf", "receipt", views.receipt)
bp.add_url_rule("/arrears", "arrears", views.arrears)
bp.add_url_rule("/arrears.xlsx", "arrears_export", reads_from_replica(views.arrears_export))
bp.add_url_rule("/central", "central", views.central)
bp.add_url_rule("/central/<int:central_household_id>", "central_detail", views.central_detail)
bp.add_url_rule(
    "/central/<int:central_household_id>/collect", "collect", views.collect, methods=["POST"]
)
bp.add_url_rule("/my", "my", views.my)
