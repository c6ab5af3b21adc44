"""Sending the outbox: the quiet hours, handing committed rows to the background jobs in
batches, a worker's claim (one conditional UPDATE with a token and a lease), sending the claimed
rows paced to the provider's rate, and recording each answer (backoff when it says "not now").
The jobs are registered under their function names (`app.core.jobs`)."""

import json
import threading
import time as time_module
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import current_app
from sqlalchemy import inspect, select, update

from app.core import crypto
from app.core.clock import CHINA, utcnow
from app.core.jobs import job, periodic
from app.core.sms import SmsRejected, SmsRequest, SmsRetryLater, SmsUncertain, sms_backend
from app.core.sms_outbox.models import SmsMessage, SmsStatus
from app.core.sms_outbox.queueing import price_fen
from app.extensions import db

MAX_ATTEMPTS = 6
BACKOFF_SECONDS = 30  # 30 s, 1 min, 2 min, 4 min, 8 min
QUIET_FROM, QUIET_UNTIL = time(21, 0), time(8, 0)  # China time: no notices at night
BATCH = 200  # messages handed to one background job


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
