"""The SMS outbox: one row per message, so each is sent at most once and the monthly cap and
cost per association can be counted.

`queue_sms` adds a row under an idempotency key (e.g. "sign-in:42", or one per recipient and
notice); asking again with the same key returns the same row and sends nothing new. After the
caller's commit, `dispatch` hands the rows to background jobs in batches; `send_due_sms` (every
minute) sends whatever is due. A worker claims a batch of rows with one conditional UPDATE
(queued → claimed, with its token and a lease; FOR UPDATE SKIP LOCKED on PostgreSQL), then
sends them through one HTTP session, paced to the provider's rate (SMS_RATE_PER_SECOND): each
row is marked "sending" before its request, in the commit that records the previous answer.
Two workers, or a retry after a crash, cannot both send a row. A provider that answers "not
now" (throttling `isv.BUSINESS_LIMIT_CONTROL`, an outage) puts the row back with a later
`next_attempt_at` (exponential backoff). After a crash, claimed rows not yet marked go back to
the queue when their lease ends; the one row in flight stays "sending", and one whose request
got no answer is "uncertain": neither is ever sent again automatically.

The table is not a tenant table: sign-in codes belong to no association. Rows of an
association carry its id for the cap; only the platform and the association's own pages read it.
"""

import enum
import json
import threading
import time as time_module
import uuid
from dataclasses import dataclass
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
    CLAIMED = "claimed"  # taken by a worker for its next batch, not yet sent
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    CAPPED = "capped"  # over the association's monthly cap: not sent
    OPTED_OUT = "opted_out"  # the number replied 退订/TD or used the link: notices not sent


# Counted against the monthly cap (a queued message will cost once it goes).
COUNTED = (
    SmsStatus.QUEUED,
    SmsStatus.CLAIMED,
    SmsStatus.SENDING,
    SmsStatus.SENT,
    SmsStatus.UNCERTAIN,
)


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
    # The token of the worker's claim while "claimed" (next_attempt_at is then its lease).
    claim: Mapped[str | None] = mapped_column(String(32))
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


CLAIM_BATCH = 100  # messages a worker claims at once
CLAIM_LEASE = timedelta(minutes=10)  # a claim not started by then goes back to the queue


class Pacer:
    """At most `rate` requests a second from this process, all its worker threads together
    (the provider's limit; 0 = no pacing). A slot is reserved under the lock, slept outside."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.interval = 1 / rate if rate > 0 else 0.0
        self.next_at = 0.0
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = time_module.monotonic()
            slot = max(now, self.next_at)
            self.next_at = slot + self.interval
        if slot > now:
            time_module.sleep(slot - now)


def pacer() -> Pacer:
    rate = float(current_app.config.get("SMS_RATE_PER_SECOND", 20))
    current = current_app.extensions.get("sms_pacer")
    if current is None or current.rate != rate:
        current = current_app.extensions["sms_pacer"] = Pacer(rate)
    return current


def hold_for_the_night(now: datetime) -> int:
    """In the quiet hours: give the due notices the morning as their time (one UPDATE), so
    the SMS page says when they go; returns how many. Commits."""
    morning = next_morning(now)
    if morning is None:
        return 0
    held = db.session.execute(
        update(SmsMessage)
        .where(
            SmsMessage.status == SmsStatus.QUEUED,
            SmsMessage.quiet_hours.is_(True),
            SmsMessage.next_attempt_at.is_(None) | (SmsMessage.next_attempt_at < morning),
        )
        .values(next_attempt_at=morning)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return held


@dataclass(frozen=True)
class Claimed:
    id: int
    key: str
    template: str
    phone_encrypted: str
    params_encrypted: str
    text: str
    attempts: int


def claim(limit: int, *, now: datetime, ids: list[int] | None = None) -> tuple[str, list[Claimed]]:
    """Take up to `limit` due messages for this worker, in one statement, and commit.

    The UPDATE changes only rows still "queued", so two workers never hold the same row; on
    PostgreSQL the inner SELECT also skips rows another worker is claiming at this moment
    (FOR UPDATE SKIP LOCKED) instead of waiting for it; SQLite has one writer at a time. Each
    claim carries a token and a lease: claims of a worker that died before sending them go back
    to the queue once the lease is over (they were never sent: see `send_claimed`)."""
    db.session.execute(
        update(SmsMessage)
        .where(SmsMessage.status == SmsStatus.CLAIMED, SmsMessage.next_attempt_at < now)
        .values(status=SmsStatus.QUEUED, claim=None, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    due = (
        select(SmsMessage.id)
        .where(
            SmsMessage.status == SmsStatus.QUEUED,
            SmsMessage.next_attempt_at.is_(None) | (SmsMessage.next_attempt_at <= now),
        )
        .order_by(SmsMessage.id)
        .limit(limit)
    )
    if next_morning(now) is not None:
        due = due.where(SmsMessage.quiet_hours.is_(False))
    if ids is not None:
        due = due.where(SmsMessage.id.in_(ids))
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    # A CTE, run once: PostgreSQL may run an IN (subquery) again for each row it updates,
    # and with SKIP LOCKED each run can pick other rows, past the limit (it did, in a test).
    batch = due.cte("batch")
    token = uuid.uuid4().hex
    rows = db.session.execute(
        update(SmsMessage)
        .where(SmsMessage.id.in_(select(batch.c.id)), SmsMessage.status == SmsStatus.QUEUED)
        .values(status=SmsStatus.CLAIMED, claim=token, next_attempt_at=now + CLAIM_LEASE)
        .returning(
            SmsMessage.id,
            SmsMessage.idempotency_key,
            SmsMessage.template,
            SmsMessage.phone_encrypted,
            SmsMessage.params_encrypted,
            SmsMessage.text,
            SmsMessage.attempts,
        )
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return token, sorted((Claimed(*row) for row in rows), key=lambda row: row.id)


def _outcome(backend, message: Claimed) -> dict:
    """Send one message; the values its row gets."""
    attempts = message.attempts + 1
    request = SmsRequest(
        phone=crypto.decrypt(message.phone_encrypted),
        template=message.template,
        params=json.loads(crypto.decrypt(message.params_encrypted)),
        reference=message.key,
        text=message.text,
    )
    now = utcnow()
    try:
        provider_id = backend.send(request)[:64]
    except SmsRetryLater as problem:
        if attempts >= MAX_ATTEMPTS:
            return {"status": SmsStatus.FAILED, "error": problem.code[:80]}
        delay = timedelta(seconds=BACKOFF_SECONDS * 2 ** (attempts - 1))
        return {
            "status": SmsStatus.QUEUED,
            "error": problem.code[:80],
            "next_attempt_at": now + delay,
        }
    except SmsRejected as problem:
        return {"status": SmsStatus.FAILED, "error": problem.code[:80]}
    except SmsUncertain as problem:
        return {"status": SmsStatus.UNCERTAIN, "error": problem.code[:80]}
    return {
        "status": SmsStatus.SENT,
        "sent_at": now,
        "cost_fen": price_fen(),
        "provider_id": provider_id,
        "error": None,
    }


def send_claimed(token: str, messages: list[Claimed]) -> dict[int, SmsStatus]:
    """Send this worker's claimed messages, paced to the provider's rate, and record each.

    Before its request a message is marked "sending" (only if it is still this claim's), in
    the same commit that records the previous message's answer: one commit per message. A
    crash then leaves at most the message in flight in "sending" — maybe delivered, so never
    resent — while the claimed ones not yet marked return to the queue when the lease ends."""
    backend, paced = sms_backend(), pacer()
    results: dict[int, SmsStatus] = {}
    answered: tuple[int, dict] | None = None
    for message in messages:
        marked = db.session.execute(
            update(SmsMessage)
            .where(
                SmsMessage.id == message.id,
                SmsMessage.status == SmsStatus.CLAIMED,
                SmsMessage.claim == token,
            )
            .values(
                status=SmsStatus.SENDING,
                attempts=SmsMessage.attempts + 1,
                claim=None,
                next_attempt_at=None,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        _record(answered)
        db.session.commit()
        answered = None
        if not marked:
            continue  # the lease ran out and another worker has it
        paced.wait()
        values = _outcome(backend, message)
        results[message.id] = values["status"]
        answered = (message.id, values)
    _record(answered)
    db.session.commit()
    return results


def _record(answered: tuple[int, dict] | None) -> None:
    if answered is not None:
        message_id, values = answered
        db.session.execute(
            update(SmsMessage)
            .where(SmsMessage.id == message_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def attempt(message_id: int) -> SmsStatus | None:
    """One delivery attempt of one message if it is due; commits (a job's edge). None when it
    is not queued or someone else has it."""
    now = utcnow()
    row = db.session.execute(
        select(SmsMessage.status, SmsMessage.quiet_hours).where(SmsMessage.id == message_id)
    ).one_or_none()
    if row is None or row.status != SmsStatus.QUEUED:
        return None
    if row.quiet_hours and next_morning(now) is not None:
        hold_for_the_night(now)
        return SmsStatus.QUEUED
    token, claimed = claim(1, now=now, ids=[message_id])
    return send_claimed(token, claimed).get(message_id)


@job
def deliver_sms(message_id: int) -> None:
    """One message (jobs queued before batches existed)."""
    attempt(message_id)


@job
def deliver_sms_batch(message_ids: list[int]) -> None:
    """Send those of the messages that are due and nobody else holds (one claim)."""
    now = utcnow()
    hold_for_the_night(now)
    token, claimed = claim(len(message_ids), now=now, ids=message_ids)
    send_claimed(token, claimed)


@periodic(minute="*")
def send_due_sms(limit: int = 100_000, seconds: float = 50.0) -> int:
    """Everything due (retries, mornings after the quiet hours, batches whose job was lost),
    claimed CLAIM_BATCH at a time until none is left, `limit` were tried or `seconds` passed
    (the next minute's run goes on); returns how many were tried."""
    hold_for_the_night(utcnow())
    started, tried = time_module.monotonic(), 0
    while tried < limit and time_module.monotonic() - started < seconds:
        token, claimed = claim(min(CLAIM_BATCH, limit - tried), now=utcnow())
        if not claimed:
            break
        tried += len(send_claimed(token, claimed))
    return tried


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
