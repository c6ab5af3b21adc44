"""Demo of online dues for the README's community: a connected Stripe account and one member's
payment that came in through a (signed, here synthetic) Checkout webhook, applied by the same
processing as a real one, so the event store, the receipt and the ledger agree."""

import json
from datetime import UTC, datetime

from sqlalchemy import select

from app.core.clock import utcnow
from app.dues import services
from app.dues.models import Charge
from app.dues.stripe_events import StripeEvent, store_event
from app.dues.webhooks import apply_event
from app.extensions import db
from app.members.models import Member
from tenants.context import scope_for, tenant_context
from tenants.models import Association

DEMO_ACCOUNT = "acct_demo_lihua"


def load_stripe_sample(community: Association, *, year: int = 2026) -> None:
    with tenant_context(scope_for(community, writable=True)):
        settings = services.current_settings()
        settings.stripe_account_id = DEMO_ACCOUNT
        settings.stripe_charges_enabled = True
        db.session.flush()
        payer = next(
            (
                (charge, member)
                for charge, member in db.session.execute(
                    select(Charge, Member)
                    .join(Member, Member.id == Charge.member_id)
                    .where(Charge.year == year, Member.user_id.is_(None))
                    .order_by(Member.id)
                )
                if charge.open_fen == charge.amount_due_fen
            ),
            None,
        )
    if payer is None:
        return
    charge, _member = payer
    paid_at = int(datetime(year, 5, 8, 2, 15, tzinfo=UTC).timestamp())
    metadata = {"association_id": str(community.id), "charge_id": str(charge.id)}
    event = {
        "id": "evt_demo_checkout_1",
        "object": "event",
        "type": "checkout.session.completed",
        "account": DEMO_ACCOUNT,
        "created": paid_at,
        "data": {
            "object": {
                "id": "cs_demo_1",
                "object": "checkout.session",
                "payment_intent": "pi_demo_1",
                "payment_status": "paid",
                "amount_total": charge.open_fen,
                "currency": "cny",
                "metadata": metadata,
            }
        },
    }
    store_event(event, json.dumps(event))
    stored = db.session.get(StripeEvent, event["id"])
    stored.outcome = apply_event(stored)
    stored.processed_at = utcnow()
    db.session.flush()
