"""Putting messages in the outbox: one row per idempotency key, held back over the
association's monthly cap or for a number that opted out; the month's count and cost; the rows
read back for the SMS page and the provider's delivery reports."""

import json
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from app.core import crypto
from app.core.clock import CHINA, utcnow
from app.core.sms import mask_phone
from app.core.sms_outbox.consent import is_opted_out, opted_out_hashes
from app.core.sms_outbox.models import COUNTED, SmsMessage, SmsStatus
from app.extensions import db


def monthly_cap() -> int:
    return int(current_app.config.get("SMS_MONTHLY_CAP", 2000))


def price_fen() -> int:
    """What one message costs (Alibaba's mainland rate is about ¥0.045: 5 fen rounded up)."""
    return int(current_app.config.get("SMS_PRICE_FEN", 5))


def _month_start_utc(now: datetime | None = None) -> datetime:
    local = (now or utcnow()).astimezone(CHINA)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def monthly_usage(association_id: int) -> tuple[int, int]:
    """(messages, cost in fen) of the association in this China calendar month."""
    count, cost = db.session.execute(
        select(func.count(SmsMessage.id), func.coalesce(func.sum(SmsMessage.cost_fen), 0)).where(
            SmsMessage.association_id == association_id,
            SmsMessage.created_at >= _month_start_utc(),
            SmsMessage.status.in_(COUNTED),
        )
    ).one()
    return int(count), int(cost)


def queue_sms(
    key: str,
    phone: str,
    template: str,
    params: dict[str, str],
    *,
    text: str = "",
    association_id: int | None = None,
    quiet_hours: bool = True,
    notice: bool = True,
) -> SmsMessage:
    """The message under `key`, added if new (flushes, never commits). Over the association's
    monthly cap it is kept as "capped", and a notice (`notice=True`; a sign-in code is not one)
    to a number that opted out as "opted_out"; neither is sent."""
    existing = db.session.scalar(select(SmsMessage).where(SmsMessage.idempotency_key == key))
    if existing is not None:
        return existing
    status = SmsStatus.QUEUED
    if notice and is_opted_out(phone):
        status = SmsStatus.OPTED_OUT
    elif association_id is not None and monthly_usage(association_id)[0] >= monthly_cap():
        status = SmsStatus.CAPPED
    message = SmsMessage(
        idempotency_key=key,
        association_id=association_id,
        template=template,
        phone_encrypted=crypto.encrypt(phone),
        phone_masked=mask_phone(phone),
        params_encrypted=crypto.encrypt(json.dumps(params, ensure_ascii=False)),
        text=text[:500],
        quiet_hours=quiet_hours,
        status=status,
        attempts=0,
    )
    db.session.add(message)
    db.session.flush()
    return message


def queue_many(
    items: list[tuple[str, str, dict[str, str], str]],
    template: str,
    *,
    association_id: int,
) -> list[SmsMessage]:
    """`queue_sms` for many notices at once — (key, phone, params, text) each — in a fixed
    number of queries whatever their count (a group message to 10,000 members): the existing
    keys, the opted-out numbers and the month's usage are read once, the new rows inserted in
    one flush. Over the cap, the later ones are kept as "capped"."""
    keys = [key for key, *_rest in items]
    existing: dict[str, SmsMessage] = {}
    for start in range(0, len(keys), 900):
        existing.update(
            (row.idempotency_key, row)
            for row in db.session.scalars(
                select(SmsMessage).where(SmsMessage.idempotency_key.in_(keys[start : start + 900]))
            )
        )
    hashes = {phone: crypto.lookup_hash(phone) for _key, phone, *_rest in items}
    opted_out = opted_out_hashes(list(hashes.values()))
    room = max(monthly_cap() - monthly_usage(association_id)[0], 0)
    rows, new = [], []
    for key, phone, params, text in items:
        if key in existing:
            rows.append(existing[key])
            continue
        status = SmsStatus.QUEUED
        if hashes[phone] in opted_out:
            status = SmsStatus.OPTED_OUT
        elif room <= 0:
            status = SmsStatus.CAPPED
        else:
            room -= 1
        message = SmsMessage(
            idempotency_key=key,
            association_id=association_id,
            template=template,
            phone_encrypted=crypto.encrypt(phone),
            phone_masked=mask_phone(phone),
            params_encrypted=crypto.encrypt(json.dumps(params, ensure_ascii=False)),
            text=text[:500],
            quiet_hours=True,
            status=status,
            attempts=0,
        )
        new.append(message)
        rows.append(message)
    db.session.add_all(new)
    db.session.flush()
    return rows


def recent_messages(association_id: int, limit: int = 50) -> list[SmsMessage]:
    """The association's latest messages, newest first (for its SMS page)."""
    return list(
        db.session.scalars(
            select(SmsMessage)
            .where(SmsMessage.association_id == association_id)
            .order_by(SmsMessage.id.desc())
            .limit(limit)
        )
    )


def record_delivery_report(out_id: str, *, delivered: bool, error: str, at: datetime) -> bool:
    """Store the provider's delivery report for the message `out_id` (our idempotency key);
    False when no such message exists. A repeated report changes nothing more."""
    message = db.session.scalar(select(SmsMessage).where(SmsMessage.idempotency_key == out_id))
    if message is None:
        return False
    if delivered:
        message.delivered_at, message.delivery_error = at, None
    else:
        message.delivered_at, message.delivery_error = None, (error or "undelivered")[:80]
    db.session.flush()
    return True
