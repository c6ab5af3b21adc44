"""The Stripe event store (`stripe_events`): every webhook event id once, with its raw payload
and what processing made of it.

A platform table, not a tenant one: an event arrives before anyone knows which association it
belongs to (its `account` names the connected account, which names the association). Payment
processing reads the events of one payment intent from here, which is what makes it
order-independent: a refund stored before the payment exists is applied when the payment is
created (see app/dues/webhooks.py).
"""

import enum
import json
from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.models import UTCDateTime
from app.extensions import db


class EventOutcome(enum.StrEnum):
    APPLIED = "applied"  # changed (or confirmed) the ledger
    WAITING = "waiting"  # a refund or dispute whose payment has not arrived yet
    IGNORED = "ignored"  # a type we do not act on
    FAILED = "failed"  # could not be applied; `error` says why


class StripeEvent(db.Model):
    __tablename__ = "stripe_events"
    __table_args__ = (
        Index("ix_stripe_events_account_payment_intent", "account", "payment_intent"),
    )

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # Stripe's evt_… id
    type: Mapped[str] = mapped_column(String(100))
    account: Mapped[str | None] = mapped_column(String(255))  # the connected account (acct_…)
    payment_intent: Mapped[str | None] = mapped_column(String(255))  # pi_… it concerns, if any
    stripe_created: Mapped[int] = mapped_column(Integer)  # Stripe's unix time of the event
    payload: Mapped[str] = mapped_column(Text)  # the raw body, as signed
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)

    @property
    def data_object(self) -> dict:
        return json.loads(self.payload)["data"]["object"]


def payment_intent_of(event_type: str, obj: dict) -> str | None:
    """The payment intent an event's object concerns (its own id for payment_intent.*)."""
    if event_type.startswith("payment_intent."):
        return obj.get("id")
    intent = obj.get("payment_intent")
    if isinstance(intent, dict):  # expanded
        intent = intent.get("id")
    return intent if isinstance(intent, str) else None


def store_event(event: dict, payload: str) -> bool:
    """Store a verified event once; False when its id is already stored (a duplicate or a
    replay). The caller commits before queueing the processing job."""
    if db.session.get(StripeEvent, event["id"]) is not None:
        return False
    obj = event["data"]["object"]
    db.session.add(
        StripeEvent(
            id=event["id"],
            type=event["type"],
            account=event.get("account"),
            payment_intent=payment_intent_of(event["type"], obj),
            stripe_created=int(event.get("created") or 0),
            payload=payload,
        )
    )
    try:
        db.session.flush()
    except IntegrityError:  # the same id arrived concurrently and won
        db.session.rollback()
        return False
    return True


def events_of_payment_intent(account: str, payment_intent: str) -> list[StripeEvent]:
    return list(
        db.session.scalars(
            select(StripeEvent)
            .where(StripeEvent.account == account, StripeEvent.payment_intent == payment_intent)
            .order_by(StripeEvent.stripe_created, StripeEvent.received_at)
        )
    )
