"""Stripe webhooks: `POST /stripe/webhook` verifies the signature on the raw body, stores the
event once (app/dues/stripe_events.py) and queues its processing; the job applies it to the
dues ledger under the tenant context of the association owning the connected account.

Processing is idempotent and order-independent because it never applies "a delta": for the
payment intent an event concerns, it reads every stored event of that intent and brings the
local Payment to what they say together. A completion (checkout.session.completed when paid,
or payment_intent.succeeded) creates the one Payment for the intent; the refunded amount is the
largest cumulative `amount_refunded` of its charge.refunded events; `disputed` follows the
latest dispute event. So a refund stored before its completion waits (outcome "waiting") and is
applied the moment the payment is created, and duplicates or replays change nothing.
"""

import json
import logging
from datetime import UTC, datetime, timedelta

import stripe
from flask import current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core.clock import CHINA, utcnow
from app.core.jobs import job, periodic
from app.core.soft_delete import including_deleted
from app.dues import payments, services
from app.dues.models import DuesSettings, Payment, PaymentAllocation, PaymentMethod
from app.dues.stripe_connect import association_for_account
from app.dues.stripe_events import (
    EventOutcome,
    StripeEvent,
    events_of_payment_intent,
    store_event,
)
from app.extensions import db, limiter
from app.members.models import Member
from tenants.context import scope_for, tenant_context
from tenants.models import Association

log = logging.getLogger("xiehui.dues.stripe")

CHECKOUT_COMPLETIONS = {
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
}
COMPLETIONS = CHECKOUT_COMPLETIONS | {"payment_intent.succeeded"}
REFUNDS = {"charge.refunded"}
DISPUTES = {"charge.dispute.created", "charge.dispute.closed"}
PAYMENT_EVENTS = COMPLETIONS | REFUNDS | DISPUTES
HANDLED = PAYMENT_EVENTS | {"account.updated"}
SIGNATURE_TOLERANCE_SECONDS = 300  # Stripe's default: a replayed old delivery is refused


@limiter.limit(lambda: current_app.config["RATELIMIT_STRIPE_WEBHOOK"])
def receive():
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        log.error("stripe webhook refused: STRIPE_WEBHOOK_SECRET is not set")
        return jsonify(error="webhooks are not configured"), 503
    payload = request.get_data()
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"),
            request.headers.get("Stripe-Signature", ""),
            secret,
            tolerance=SIGNATURE_TOLERANCE_SECONDS,  # without it, old timestamps pass
        )
        event = json.loads(payload)
        _check_shape(event)
    except stripe.SignatureVerificationError as error:
        log.warning("stripe webhook refused: %s", error)
        return jsonify(error="bad signature"), 400
    except (ValueError, KeyError, TypeError) as error:
        log.warning("stripe webhook refused: malformed event (%s)", type(error).__name__)
        return jsonify(error="malformed event"), 400
    if not store_event(event, payload.decode("utf-8")):
        return jsonify(received=True, duplicate=True), 200
    db.session.commit()  # stored for good before the (possibly separate) worker looks for it
    try:
        process_stripe_event(event["id"])
    except Exception:  # noqa: BLE001 - the queue is down: the event is stored, the scheduled
        # retry (process_pending_stripe_events) applies it; Stripe need not resend it.
        log.exception("stripe event %s stored but not queued", event["id"])
    return jsonify(received=True), 200


def _check_shape(event) -> None:
    if not isinstance(event, dict) or event.get("object") != "event":
        raise ValueError("not an event")
    if not isinstance(event["id"], str) or not isinstance(event["type"], str):
        raise TypeError("id and type must be strings")
    if not isinstance(event["data"]["object"], dict):
        raise TypeError("data.object must be an object")


# ---- processing (in a job) ----------------------------------------------------------------------


class EventRejected(Exception):
    """The event cannot be applied; the reason is stored on the event (no personal data)."""


@job
def process_stripe_event(event_id: str) -> None:
    """Apply one stored event; the outcome and any error are written on the event row."""
    for attempt in range(2):
        event = db.session.get(StripeEvent, event_id)
        if event is None or event.processed_at is not None:
            return
        try:
            outcome, error = apply_event(event), None
        except EventRejected as rejection:
            db.session.rollback()
            outcome, error = EventOutcome.FAILED, str(rejection)
        except IntegrityError:
            # Another worker created the same intent's payment at the same moment: go again,
            # the payment now exists and this event only confirms it.
            db.session.rollback()
            if attempt == 0:
                continue
            outcome, error = EventOutcome.FAILED, "conflicting concurrent update"
        except Exception as unexpected:  # noqa: BLE001 - kept on the event, never lost
            db.session.rollback()
            log.exception("stripe event %s could not be processed", event_id)
            outcome, error = EventOutcome.FAILED, f"unexpected {type(unexpected).__name__}"
        event = db.session.get(StripeEvent, event_id)
        event.processed_at = utcnow()
        event.outcome = outcome
        event.error = error
        if error:
            log.warning("stripe event %s (%s) failed: %s", event.id, event.type, error)
        db.session.commit()
        return


@periodic(minute="*/10")
def process_pending_stripe_events() -> int:
    """Apply events stored but never processed (the queue or a worker was down when they
    arrived); recent ones are left to the job queued for them."""
    pending = db.session.scalars(
        select(StripeEvent.id)
        .where(
            StripeEvent.processed_at.is_(None),
            StripeEvent.received_at < utcnow() - timedelta(minutes=2),
        )
        .order_by(StripeEvent.received_at)
    ).all()
    for event_id in pending:
        process_stripe_event(event_id)
    return len(pending)


def apply_event(event: StripeEvent) -> EventOutcome:
    if event.type not in HANDLED:
        return EventOutcome.IGNORED
    obj = event.data_object
    if event.type == "account.updated":
        return _apply_account_update(event.account or obj.get("id"), obj)
    association = association_for_account(event.account)
    if association is None:
        raise EventRejected(f"no association has connected account {event.account!r}")
    if not event.payment_intent:
        raise EventRejected("the event names no payment intent")
    # Money is recorded whoever it is for: also for the charge of a member the secretary has
    # deleted (restorably) since she paid, whose charge and receipts are hidden from the lists.
    with tenant_context(scope_for(association, writable=True)), including_deleted(db.session):
        outcome = sync_payment_intent(association, event.account, event.payment_intent)
        db.session.flush()
    return outcome


def _apply_account_update(account_id: str | None, account: dict) -> EventOutcome:
    association = association_for_account(account_id)
    if association is None:
        raise EventRejected(f"no association has connected account {account_id!r}")
    with tenant_context(scope_for(association, writable=True)):
        settings = db.session.scalar(select(DuesSettings))
        settings.stripe_charges_enabled = bool(account.get("charges_enabled"))
        db.session.flush()
    return EventOutcome.APPLIED


def _is_completion(event: StripeEvent) -> bool:
    if event.type == "payment_intent.succeeded":
        return True
    return event.type in CHECKOUT_COMPLETIONS and event.data_object.get("payment_status") == "paid"


def sync_payment_intent(association: Association, account: str, payment_intent: str) -> str:
    """Bring the payment of one intent to what all its stored events say (see module doc)."""
    events = events_of_payment_intent(account, payment_intent)
    payment = db.session.scalar(
        select(Payment).where(Payment.stripe_payment_intent_id == payment_intent)
    )
    completions = [e for e in events if _is_completion(e)]
    if payment is None:
        if not completions:
            return EventOutcome.WAITING
        payment = _create_payment(association, payment_intent, completions[0])
    for completion in completions:
        if completion.type in CHECKOUT_COMPLETIONS and not payment.stripe_checkout_session_id:
            payment.stripe_checkout_session_id = completion.data_object.get("id")
    refunded = max(
        (int(e.data_object.get("amount_refunded") or 0) for e in events if e.type in REFUNDS),
        default=0,
    )
    payment.refunded_fen = min(max(payment.refunded_fen, refunded), payment.amount_fen)
    disputes = sorted(
        (e for e in events if e.type in DISPUTES),
        key=lambda e: (e.stripe_created, e.type == "charge.dispute.closed"),
    )
    if disputes:
        payment.disputed = disputes[-1].type == "charge.dispute.created"
    for waiting in events:
        if waiting.outcome == EventOutcome.WAITING:
            waiting.outcome = EventOutcome.APPLIED
    return EventOutcome.APPLIED


def _create_payment(association: Association, payment_intent: str, completion: StripeEvent):
    obj = completion.data_object
    metadata = obj.get("metadata") or {}
    if metadata.get("association_id") != str(association.id):
        raise EventRejected("the payment's metadata names another association")
    try:
        charge_id = int(metadata.get("charge_id"))
    except (TypeError, ValueError):
        raise EventRejected("the payment's metadata names no charge") from None
    charge = services.load_charge(charge_id, for_update=True)  # serialises with cash payments
    if charge is None:
        raise EventRejected(f"charge {charge_id} does not exist in this association")
    if (obj.get("currency") or "").lower() != "cny":
        raise EventRejected(f"unexpected currency {obj.get('currency')!r}")
    if completion.type in CHECKOUT_COMPLETIONS:
        amount_fen = int(obj.get("amount_total") or 0)
    else:
        amount_fen = int(obj.get("amount_received") or 0)
    if amount_fen <= 0:
        raise EventRejected("the payment has no amount")
    member = db.session.get(Member, charge.member_id)
    paid_on = datetime.fromtimestamp(completion.stripe_created or 0, UTC).astimezone(CHINA).date()
    payment = Payment(
        member_id=charge.member_id,
        paid_on=paid_on,
        amount_fen=amount_fen,
        method=PaymentMethod.STRIPE,
        payer_name=member.name if member else "",
        receipt_number=payments.next_receipt_number(paid_on.year),
        stripe_payment_intent_id=payment_intent,
        stripe_checkout_session_id=(
            obj.get("id") if completion.type in CHECKOUT_COMPLETIONS else None
        ),
        refunded_fen=0,
        disputed=False,
    )
    db.session.add(payment)
    db.session.flush()
    db.session.add(
        PaymentAllocation(payment_id=payment.id, charge_id=charge.id, amount_fen=amount_fen)
    )
    if amount_fen > charge.open_fen:
        log.warning("stripe payment %s pays more than charge %s has open", payment.id, charge.id)
    return payment
