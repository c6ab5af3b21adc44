"""The SMS worker: batches claimed at once, one HTTP connection reused, sends paced to the
provider's rate, two workers never sending the same message, and a restart after a crash
sending nothing twice and losing nothing that had not left."""

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.core.clock import utcnow
from app.core.sms import AliyunSmsBackend, MemorySmsBackend, sms_backend
from app.core.sms_outbox import sending
from app.core.sms_outbox.models import SmsMessage, SmsStatus
from app.core.sms_outbox.queueing import queue_sms
from app.core.sms_outbox.sending import CLAIM_LEASE, Pacer, claim, send_claimed, send_due_sms
from app.extensions import db
from tests.sms_fake import environ, fake_aliyun  # noqa: F401


class WorkerKilled(BaseException):
    """A kill -9 as the worker sees it: nothing after it runs, no except clause catches it."""


def _queue(count: int, prefix: str = "w") -> None:
    for number in range(count):
        queue_sms(
            f"notice:{prefix}{number}",
            f"1390000{number:04d}",
            "sign_in_code",
            {"code": str(number)},
            quiet_hours=False,
        )
    db.session.commit()


def _statuses() -> dict[str, int]:
    return dict(
        db.session.execute(
            select(SmsMessage.status, func.count()).group_by(SmsMessage.status)
        ).all()
    )


def test_the_worker_sends_a_batch_through_one_kept_open_connection(app, fake_aliyun):  # noqa: F811
    app.extensions["sms"] = AliyunSmsBackend(environ(fake_aliyun.url), timeout=5)
    _queue(30)
    assert send_due_sms() == 30
    assert len(fake_aliyun.received) == 30
    assert len({params["OutId"] for params in fake_aliyun.received}) == 30
    assert len(fake_aliyun.connections) == 1  # one session, its connection reused
    assert _statuses() == {SmsStatus.SENT: 30}
    assert send_due_sms() == 0


def test_sends_are_paced_to_the_configured_rate(app):
    app.config["SMS_RATE_PER_SECOND"] = 50
    _queue(11)
    started = time.monotonic()
    assert send_due_sms() == 11
    # Ten gaps of 1/50 s at least: 0.2 s (unpaced, the memory backend takes microseconds).
    assert time.monotonic() - started >= 0.19
    assert len(sms_backend().outbox) == 11


def test_the_pacer_spreads_threads_over_the_rate():
    pacer = Pacer(100)
    started = time.monotonic()
    threads = [threading.Thread(target=lambda: [pacer.wait() for _ in range(5)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert time.monotonic() - started >= 0.18  # 20 requests, 19 gaps of 10 ms, all threads


def test_two_workers_claim_different_messages(app):
    _queue(10)
    now = utcnow()
    first_token, first = claim(6, now=now)
    second_token, second = claim(6, now=now)
    assert len(first) == 6 and len(second) == 4
    assert not {m.id for m in first} & {m.id for m in second}
    assert first_token != second_token
    # The second worker cannot send the first one's claims.
    assert send_claimed(second_token, first) == {}
    assert sms_backend().outbox == []


def test_two_workers_at_once_send_each_message_once(app):
    _queue(40)

    class Slow(MemorySmsBackend):
        def send(self, request):
            time.sleep(0.002)  # long enough for the two workers to interleave
            return super().send(request)

    backend = app.extensions["sms"] = Slow()
    barrier, errors = threading.Barrier(2), []

    def work():
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                while True:
                    token, claimed = claim(5, now=utcnow())
                    if not claimed:
                        break
                    send_claimed(token, claimed)
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert not errors, errors
    references = [request.reference for request in backend.outbox]
    assert len(references) == len(set(references)) == 40
    db.session.expire_all()
    assert _statuses() == {SmsStatus.SENT: 40}


def test_a_restart_after_a_crash_sends_nothing_twice_and_loses_nothing_unsent(app, monkeypatch):
    _queue(10)
    backend = sms_backend()
    calls = {"n": 0}
    real_send = backend.send

    def crash_on_the_fourth(request):
        calls["n"] += 1
        if calls["n"] == 4:
            raise WorkerKilled("while its request is in flight")
        return real_send(request)

    monkeypatch.setattr(backend, "send", crash_on_the_fourth)
    token, claimed = claim(10, now=utcnow())
    with pytest.raises(WorkerKilled):
        send_claimed(token, claimed)
    db.session.rollback()
    db.session.remove()  # nothing of the dead worker's memory survives
    monkeypatch.setattr(backend, "send", real_send)

    # Three sent and recorded, the fourth in flight, six claimed but never started.
    assert _statuses() == {SmsStatus.SENT: 3, SmsStatus.SENDING: 1, SmsStatus.CLAIMED: 6}
    assert send_due_sms() == 0  # the dead worker's lease still holds them
    later = utcnow() + CLAIM_LEASE + timedelta(seconds=1)
    monkeypatch.setattr(sending, "utcnow", lambda: later)
    assert send_due_sms() == 6
    db.session.expire_all()
    # The one in flight may have reached the provider: it is left for a person to check.
    assert _statuses() == {SmsStatus.SENT: 9, SmsStatus.SENDING: 1}
    references = [request.reference for request in backend.outbox]
    assert len(references) == len(set(references)) == 9


def test_a_claim_whose_lease_ended_is_not_sent_by_its_late_worker(app):
    _queue(2)
    token, claimed = claim(2, now=utcnow())
    # The lease runs out while the worker is stalled: another takes the rows back.
    db.session.execute(update(SmsMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert send_due_sms() == 2
    assert send_claimed(token, claimed) == {}
    assert len(sms_backend().outbox) == 2


def test_a_claimed_message_shows_as_queued_on_the_sms_page(app, world, make_client):
    queue_sms(
        "notice:page",
        "13900000001",
        "sign_in_code",
        {},
        association_id=world.village_a1.id,
        quiet_hours=False,
    )
    db.session.commit()
    claim(10, now=utcnow())
    page = make_client(world.secretary_a1.login).get(f"/a/{world.village_a1.slug}/sms")
    assert page.status_code == 200
    assert 'data-status="claimed"' in page.text and "排队" in page.text
