"""Reconciliation: a day's succeeded payment intents at Stripe, per connected account, against
the local Stripe payments; differences are listed (and, on request, missed payments repaired
by replaying them through the webhook processing, so the same rules apply)."""

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import or_, select

from app.core.clock import CHINA
from app.core.soft_delete import including_deleted
from app.dues.models import Payment, PaymentMethod
from app.dues.stripe_connect import connected_associations, stripe_client
from app.dues.stripe_events import StripeEvent, store_event
from app.extensions import db
from tenants.context import scope_for, tenant_context
from tenants.models import Association

MISSING_LOCALLY = "missing locally"
MISSING_AT_STRIPE = "missing at Stripe"
AMOUNT_DIFFERS = "amount differs"
REFUND_DIFFERS = "refund differs"


@dataclass(frozen=True)
class Difference:
    association: str  # slug
    kind: str
    payment_intent: str
    stripe_fen: int | None
    local_fen: int | None
    receipt_number: str | None = None
    account: str = field(default="", compare=False, repr=False)
    stripe_object: dict | None = field(default=None, compare=False, repr=False)


def day_bounds(day: date) -> tuple[int, int]:
    """The day in China time as unix seconds [start, end)."""
    start = datetime.combine(day, time(0), CHINA)
    return int(start.timestamp()), int((start + timedelta(days=1)).timestamp())


def _stripe_intents(account: str, day: date) -> dict[str, dict]:
    low, high = day_bounds(day)
    listing = stripe_client().v1.payment_intents.list(
        params={"created": {"gte": low, "lt": high}, "limit": 100},
        options={"stripe_account": account},
    )
    return {
        intent.id: intent.to_dict()
        for intent in listing.auto_paging_iter()
        if intent.status == "succeeded"
    }


def _retrieve(account: str, intent_id: str) -> dict | None:
    from stripe import InvalidRequestError

    try:
        return (
            stripe_client()
            .v1.payment_intents.retrieve(intent_id, options={"stripe_account": account})
            .to_dict()
        )
    except InvalidRequestError as error:
        if error.http_status == 404:
            return None
        raise


def _refunded(intent: dict) -> int | None:
    charge = intent.get("latest_charge")
    return int(charge.get("amount_refunded") or 0) if isinstance(charge, dict) else None


def reconcile_account(association: Association, account: str, day: date) -> list[Difference]:
    """Raises stripe.StripeError when Stripe cannot be asked."""
    at_stripe = _stripe_intents(account, day)
    # Receipts of members deleted (restorably) are still money received: compared too.
    with tenant_context(scope_for(association, writable=False)), including_deleted(db.session):
        local = {
            p.stripe_payment_intent_id: p
            for p in db.session.scalars(
                select(Payment).where(
                    Payment.method == PaymentMethod.STRIPE,
                    Payment.voided_at.is_(None),
                    or_(
                        Payment.paid_on == day,
                        Payment.stripe_payment_intent_id.in_(list(at_stripe)),
                    ),
                )
            )
        }
    differences = []
    for intent_id, intent in sorted(at_stripe.items()):
        amount = int(intent.get("amount_received") or 0)
        payment = local.get(intent_id)
        if payment is None:
            differences.append(
                Difference(
                    association.slug,
                    MISSING_LOCALLY,
                    intent_id,
                    amount,
                    None,
                    account=account,
                    stripe_object=intent,
                )
            )
            continue
        differences += _compare(association, intent, payment)
    for intent_id, payment in sorted(local.items()):
        if intent_id in at_stripe:
            continue
        intent = _retrieve(account, intent_id)  # created on another day, or not at all
        if intent is None or intent.get("status") != "succeeded":
            differences.append(
                Difference(
                    association.slug,
                    MISSING_AT_STRIPE,
                    intent_id,
                    None,
                    payment.amount_fen,
                    payment.receipt_number,
                )
            )
        else:
            differences += _compare(association, intent, payment)
    return differences


def _compare(association: Association, intent: dict, payment: Payment) -> list[Difference]:
    found = []
    amount = int(intent.get("amount_received") or 0)
    if amount != payment.amount_fen:
        found.append(
            Difference(
                association.slug,
                AMOUNT_DIFFERS,
                intent["id"],
                amount,
                payment.amount_fen,
                payment.receipt_number,
            )
        )
    refunded = _refunded(intent)
    if refunded is not None and refunded != payment.refunded_fen:
        found.append(
            Difference(
                association.slug,
                REFUND_DIFFERS,
                intent["id"],
                refunded,
                payment.refunded_fen,
                payment.receipt_number,
            )
        )
    return found


def reconcile(day: date, slug: str | None = None) -> tuple[int, list[Difference]]:
    """(accounts checked, differences) for every connected account, or one association's."""
    accounts = connected_associations(slug)
    differences = []
    for association, account in accounts:
        differences += reconcile_account(association, account, day)
    return len(accounts), differences


def repair_missing(difference: Difference) -> bool:
    """Replay a payment Stripe has and we lack as a payment_intent.succeeded event through the
    ordinary processing (same checks, same receipt numbering); True when it is recorded now."""
    from app.dues.webhooks import process_stripe_event

    intent = difference.stripe_object
    event_id = f"reconcile_{intent['id']}"
    event = {
        "id": event_id,
        "object": "event",
        "type": "payment_intent.succeeded",
        "account": difference.account,
        "created": int(intent.get("created") or 0),
        "data": {"object": intent},
    }
    store_event(event, json.dumps(event))
    db.session.commit()
    process_stripe_event.call_local(event_id)
    stored = db.session.get(StripeEvent, event_id)
    return stored is not None and stored.outcome == "applied"
