"""The SMS outbox: one row per message, so each is sent at most once and the monthly cap and
cost per association can be counted.

`queue_sms` adds a row under an idempotency key (e.g. "sign-in:42", or one per recipient and
notice); asking again with the same key returns the same row and sends nothing new. After the
caller's commit, `dispatch` hands the rows to the background job, which claims a row with one
conditional UPDATE (queued → sending) and commits the claim before calling the provider: two
workers, or a retry after a crash, cannot both send it. A provider that answers "not now"
(throttling `isv.BUSINESS_LIMIT_CONTROL`, an outage) puts the row back with a later
`next_attempt_at` (exponential backoff); `send_due_sms` (every minute) picks such rows up, so
messages survive a worker restart. A row left in "sending" by a crash, or one whose request got
no answer, is never sent again automatically ("uncertain").

The table is not a tenant table: sign-in codes belong to no association. Rows of an
association carry its id for the cap; only the platform and the association's own pages read it.
"""

import enum
import json
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    inspect,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core import crypto
from app.core.clock import CHINA
from app.core.jobs import job, periodic
from app.core.models import BigId, CreatedAtMixin, UTCDateTime, string_enum, utcnow
from app.core.sms import (
    SmsRejected,
    SmsRequest,
    SmsRetryLater,
    SmsUncertain,
    mask_phone,
    sms_backend,
)
from app.extensions import db

MAX_ATTEMPTS = 6
BACKOFF_SECONDS = 30  # 30 s, 1 min, 2 min, 4 min, 8 min
QUIET_FROM, QUIET_UNTIL = time(21, 0), time(8, 0)  # China time: no notices at night


class SmsStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    CAPPED = "capped"  # over the association's monthly cap: not sent
    OPTED_OUT = "opted_out"  # the number replied 退订/TD or used the link: notices not sent


# Counted against the monthly cap (a queued message will cost once it goes).
COUNTED = (SmsStatus.QUEUED, SmsStatus.SENDING, SmsStatus.SENT, SmsStatus.UNCERTAIN)


class SmsMessage(CreatedAtMixin, db.Model):
    __tablename__ = "sms_messages"
    __table_args__ = (
        Index("ix_sms_messages_association_created", "association_id", "created_at"),
        Index("ix_sms_messages_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    association_id: Mapped[int | None] = mapped_column(
        ForeignKey("associations.id", ondelete="CASCADE")
    )
    template: Mapped[str] = mapped_column(String(40))
    phone_encrypted: Mapped[str] = mapped_column(Text)
    phone_masked: Mapped[str] = mapped_column(String(11))
    # Template parameters may hold a sign-in code: encrypted like the phone.
    params_encrypted: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(String(500), default="")
    quiet_hours: Mapped[bool] = mapped_column(default=True)  # sign-in codes ignore them
    status: Mapped[SmsStatus] = mapped_column(string_enum(SmsStatus), default=SmsStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(String(80))
    cost_fen: Mapped[int] = mapped_column(Integer, default=0)
    # The provider's delivery report (SmsReport): reached the handset, or why not.
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivery_error: Mapped[str | None] = mapped_column(String(80))


class SmsOptOut(CreatedAtMixin, db.Model):
    """A number that asked for no more notices (PIPL: withdrawing consent), by replying
    退订 / TD or by the link in a notice. Sign-in codes, which she asks for, still go."""

    __tablename__ = "sms_opt_outs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(20))  # "reply" or "link"


class ConsentMethod(enum.StrEnum):
    PAPER_FORM = "paper_form"  # signed on the register's paper form
    ONLINE_FORM = "online_form"  # ticked by the person herself on a form
    VERBAL = "verbal"  # said so to the secretary, who notes when


class SmsConsent(CreatedAtMixin, db.Model):
    """A number's consent to the association's notices by SMS (PIPL: when, how, for what), as
    the secretary recorded it. Withdrawn by opting out (SmsOptOut), which always wins."""

    __tablename__ = "sms_consents"
    __table_args__ = (UniqueConstraint("association_id", "phone_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    association_id: Mapped[int] = mapped_column(
        ForeignKey("associations.id", ondelete="CASCADE"), index=True
    )
    phone_hash: Mapped[str] = mapped_column(String(64))
    phone_masked: Mapped[str] = mapped_column(String(11))
    method: Mapped[ConsentMethod] = mapped_column(string_enum(ConsentMethod))
    consented_on: Mapped[date] = mapped_column(Date)
    purpose: Mapped[str] = mapped_column(String(200))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


def record_consent(
    association_id: int,
    phone: str,
    *,
    method: ConsentMethod,
    consented_on: date,
    purpose: str,
    recorded_by_id: int | None,
) -> SmsConsent:
    """Record (or update) the number's consent to the association's notices; flushes."""
    phone_hash = crypto.lookup_hash(phone)
    consent = db.session.scalar(
        select(SmsConsent).where(
            SmsConsent.association_id == association_id, SmsConsent.phone_hash == phone_hash
        )
    )
    if consent is None:
        consent = SmsConsent(association_id=association_id, phone_hash=phone_hash)
        db.session.add(consent)
    consent.phone_masked = mask_phone(phone)
    consent.method, consent.consented_on, consent.purpose = method, consented_on, purpose[:200]
    consent.recorded_by_id = recorded_by_id
    db.session.flush()
    return consent


def has_consent(association_id: int | None, phone: str) -> bool:
    if association_id is None:
        return False
    return (
        db.session.scalar(
            select(SmsConsent.id).where(
                SmsConsent.association_id == association_id,
                SmsConsent.phone_hash == crypto.lookup_hash(phone),
            )
        )
        is not None
    )


def consents_of(association_id: int, limit: int = 100) -> list[SmsConsent]:
    return list(
        db.session.scalars(
            select(SmsConsent)
            .where(SmsConsent.association_id == association_id)
            .order_by(SmsConsent.id.desc())
            .limit(limit)
        )
    )


def is_opted_out(phone: str) -> bool:
    return (
        db.session.scalar(
            select(SmsOptOut.id).where(SmsOptOut.phone_hash == crypto.lookup_hash(phone))
        )
        is not None
    )


def opt_out(phone_hash: str, *, source: str) -> bool:
    """Record the opt-out (flushes); False when it was already recorded."""
    if db.session.scalar(select(SmsOptOut.id).where(SmsOptOut.phone_hash == phone_hash)):
        return False
    db.session.add(SmsOptOut(phone_hash=phone_hash, source=source))
    db.session.flush()
    return True


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
    opted_out = _opted_out_hashes(list(hashes.values()))
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


def _opted_out_hashes(hashes: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(hashes), 900):
        found.update(
            db.session.scalars(
                select(SmsOptOut.phone_hash).where(
                    SmsOptOut.phone_hash.in_(hashes[start : start + 900])
                )
            )
        )
    return found


def opted_out_phones(phones: list[str]) -> set[str]:
    """Those of `phones` that opted out (one query per 900 numbers)."""
    hashes = {crypto.lookup_hash(phone): phone for phone in phones}
    return {hashes[found] for found in _opted_out_hashes(list(hashes))}


BATCH = 200


def dispatch(*messages: SmsMessage) -> None:
    """After the commit that saved them: hand queued messages to the background job, in
    batches (one job per BATCH messages, not one per message). The commit expired the rows:
    their ids come from the identity map and their statuses from one query per 900, not one
    load per row."""
    ids = [inspect(message).identity[0] for message in messages]
    queued: list[int] = []
    for start in range(0, len(ids), 900):
        queued.extend(
            db.session.scalars(
                select(SmsMessage.id)
                .where(
                    SmsMessage.id.in_(ids[start : start + 900]),
                    SmsMessage.status == SmsStatus.QUEUED,
                )
                .order_by(SmsMessage.id)
            )
        )
    for start in range(0, len(queued), BATCH):
        deliver_sms_batch(queued[start : start + BATCH])


def next_morning(now: datetime) -> datetime | None:
    """08:00 China time after `now` when `now` falls in the quiet hours, else None."""
    local = now.astimezone(CHINA)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return None
    day = local.date() if local.time() < QUIET_UNTIL else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_UNTIL, tzinfo=CHINA)


def attempt(message_id: int) -> SmsStatus | None:
    """One delivery attempt; commits (a job's edge). None when someone else has the row."""
    now = utcnow()
    message = db.session.get(SmsMessage, message_id)
    if message is None or message.status != SmsStatus.QUEUED:
        return None
    morning = next_morning(now) if message.quiet_hours else None
    if morning is not None:
        message.next_attempt_at = morning
        db.session.commit()
        return SmsStatus.QUEUED
    claimed = db.session.execute(
        update(SmsMessage)
        .where(SmsMessage.id == message_id, SmsMessage.status == SmsStatus.QUEUED)
        .values(status=SmsStatus.SENDING, attempts=SmsMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if not claimed:
        return None
    db.session.refresh(message)
    request = SmsRequest(
        phone=crypto.decrypt(message.phone_encrypted),
        template=message.template,
        params=json.loads(crypto.decrypt(message.params_encrypted)),
        reference=message.idempotency_key,
        text=message.text,
    )
    try:
        message.provider_id = sms_backend().send(request)[:64]
    except SmsRetryLater as problem:
        message.error = problem.code[:80]
        if message.attempts >= MAX_ATTEMPTS:
            message.status = SmsStatus.FAILED
        else:
            message.status = SmsStatus.QUEUED
            delay = BACKOFF_SECONDS * 2 ** (message.attempts - 1)
            message.next_attempt_at = now + timedelta(seconds=delay)
    except SmsRejected as problem:
        message.status, message.error = SmsStatus.FAILED, problem.code[:80]
    except SmsUncertain as problem:
        message.status, message.error = SmsStatus.UNCERTAIN, problem.code[:80]
    else:
        message.status, message.sent_at, message.cost_fen = SmsStatus.SENT, now, price_fen()
        message.error = None
    db.session.commit()
    return message.status


@job
def deliver_sms(message_id: int) -> None:
    """One message (jobs queued before batches existed)."""
    attempt(message_id)


@job
def deliver_sms_batch(message_ids: list[int]) -> None:
    """Attempt each in turn; a message another worker holds, or not due, is skipped."""
    for message_id in message_ids:
        attempt(message_id)


@periodic(minute="*")
def send_due_sms(limit: int = 500) -> int:
    """Queued messages whose time has come (retries, mornings after the quiet hours)."""
    now = utcnow()
    due = db.session.scalars(
        select(SmsMessage.id)
        .where(
            SmsMessage.status == SmsStatus.QUEUED,
            (SmsMessage.next_attempt_at.is_(None)) | (SmsMessage.next_attempt_at <= now),
        )
        .order_by(SmsMessage.id)
        .limit(limit)
    ).all()
    for message_id in due:
        attempt(message_id)
    return len(due)


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
