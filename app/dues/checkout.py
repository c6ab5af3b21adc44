"""Paying a dues charge online: a Stripe Checkout Session created on the association's own
connected account (a direct charge), for what is still open on the charge.

The success redirect proves nothing: only the signed webhook records the payment
(app/dues/webhooks.py). The idempotency key is derived from the charge and the amount, so a
double tap, a retry or a second tab within Stripe's 24 hours returns the same session.
"""

import logging

from flask_babel import gettext as _
from sqlalchemy import select
from stripe import StripeError

from app.core.problems import Problem
from app.dues.models import Charge, DuesSettings
from app.dues.stripe_connect import (
    StripeUnavailable,
    online_payment_blocker,
    stripe_client,
    unreachable_message,
)
from app.extensions import db
from app.members.models import Member
from tenants.models import Association

log = logging.getLogger("xiehui.dues.stripe")


class CheckoutRefused(Problem):
    """The charge cannot be paid online now; `message` says why (for the user)."""


def own_charge(charge_id: int, user_id: int) -> Charge | None:
    """One of the signed-in user's own charges in the current association, or None."""
    return db.session.scalar(
        select(Charge)
        .join(Member, Member.id == Charge.member_id)
        .where(Charge.id == charge_id, Member.user_id == user_id)
    )


def idempotency_key(association_id: int, charge: Charge, amount_fen: int, locale: str) -> str:
    # The locale changes the session's texts; Stripe refuses one key with other parameters.
    return f"dues-checkout-{association_id}-{charge.id}-{amount_fen}-{locale}"


def start_checkout(
    association: Association,
    settings: DuesSettings | None,
    charge: Charge,
    *,
    success_url: str,
    cancel_url: str,
    locale: str,
) -> str:
    """Create (or get back) the Checkout Session for the charge's open amount; its URL."""
    blocker = online_payment_blocker(settings)
    if blocker:
        raise CheckoutRefused(blocker)
    if charge.exempt:
        raise CheckoutRefused(_("You are exempt from this year's dues: there is nothing to pay."))
    amount_fen = charge.open_fen
    if amount_fen <= 0:
        raise CheckoutRefused(_("This charge is already paid."))
    metadata = {"association_id": str(association.id), "charge_id": str(charge.id)}
    stripe_locale = "zh" if locale.startswith("zh") else "en"
    try:
        session = stripe_client().v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": "cny",
                            "unit_amount": amount_fen,
                            "product_data": {
                                "name": _(
                                    "%(year)d membership dues, %(association)s",
                                    year=charge.year,
                                    association=association.name,
                                )
                            },
                        },
                    }
                ],
                "client_reference_id": f"{association.id}-{charge.id}",
                "metadata": metadata,
                "payment_intent_data": {"metadata": metadata},
                "locale": stripe_locale,
                "success_url": success_url,
                "cancel_url": cancel_url,
            },
            options={
                "stripe_account": settings.stripe_account_id,
                "idempotency_key": idempotency_key(
                    association.id, charge, amount_fen, stripe_locale
                ),
            },
        )
    except StripeError as error:
        log.warning("checkout session for charge %s failed: %s", charge.id, error)
        raise StripeUnavailable(unreachable_message()) from error
    if session.status == "complete" or not session.url:
        raise CheckoutRefused(
            _("Your payment has been made and is being confirmed. The receipt appears shortly.")
        )
    return session.url
