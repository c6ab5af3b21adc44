"""URL maps of Stripe Connect for dues: the association's pages, and the public webhook."""

from flask import Blueprint

from app.dues import stripe_views, webhooks
from app.dues.stripe_connect import online_payment_blocker
from app.extensions import csrf

bp = Blueprint("dues_stripe", __name__, url_prefix="/a/<slug>/dues/stripe")
bp.add_url_rule("/", "connect", stripe_views.connect)
bp.add_url_rule("/onboard", "onboard", stripe_views.onboard, methods=["POST"])
bp.add_url_rule("/refresh", "refresh", stripe_views.refresh, methods=["POST"])
bp.add_url_rule("/charges/<int:charge_id>/pay", "pay", stripe_views.pay, methods=["POST"])
bp.add_url_rule("/charges/<int:charge_id>/paid", "paid", stripe_views.paid)
bp.add_url_rule("/charges/<int:charge_id>/cancelled", "cancelled", stripe_views.cancelled)
bp.add_app_template_global(online_payment_blocker)

webhook_bp = Blueprint("stripe_webhook", __name__)
webhook_bp.add_url_rule("/stripe/webhook", "receive", webhooks.receive, methods=["POST"])
csrf.exempt(webhook_bp)  # authenticated by Stripe's signature instead
