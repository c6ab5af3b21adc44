"""The SMS channel: the Alibaba Cloud backend against a fake of its API, the outbox's
idempotency, retries with backoff, quiet hours and the monthly cap per association."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.core.sms import (
    AliyunSmsBackend,
    SmsRejected,
    SmsRequest,
    percent_encode,
    rpc_signature,
)
from app.core.sms_outbox import queueing, sending
from app.core.sms_outbox.models import SmsMessage, SmsStatus
from app.core.sms_outbox.queueing import queue_sms
from app.core.sms_outbox.sending import attempt, send_due_sms
from app.extensions import db
from tests.sms_fake import ACCESS_KEY_ID, TEMPLATES, environ, fake_aliyun  # noqa: F401

PHONE = "13800138000"


@pytest.fixture
def aliyun(app, fake_aliyun):  # noqa: F811 - the fixture above
    backend = AliyunSmsBackend(environ(fake_aliyun.url), timeout=5)
    app.extensions["sms"] = backend
    return fake_aliyun


def _row(key: str) -> SmsMessage:
    return db.session.scalar(
        select(SmsMessage)
        .where(SmsMessage.idempotency_key == key)
        .execution_options(populate_existing=True)
    )


def test_percent_encoding_follows_alibaba():
    assert percent_encode("a b*c~d/é") == "a%20b%2Ac~d%2F%C3%A9"


def test_signature_is_hmac_sha1_of_the_canonical_query():
    # The same string to sign gives the same signature whatever the parameter order.
    first = rpc_signature({"B": "2", "A": "1 *"}, "secret")
    assert first == rpc_signature({"A": "1 *", "B": "2"}, "secret")
    assert first != rpc_signature({"A": "1 *", "B": "2"}, "other")


def test_signed_request_reaches_the_provider_with_its_template_parameters(app, aliyun):
    backend = app.extensions["sms"]
    biz_id = backend.send(SmsRequest(PHONE, "sign_in_code", {"code": "012345"}, "sign-in:1"))
    assert biz_id.endswith("^0")
    (params,) = aliyun.received
    assert params["AccessKeyId"] == ACCESS_KEY_ID
    assert params["Action"] == "SendSms"
    assert params["PhoneNumbers"] == PHONE
    assert params["SignName"] == "协会通"
    assert params["TemplateCode"] == TEMPLATES["sign_in_code"]
    assert json.loads(params["TemplateParam"]) == {"code": "012345"}
    assert params["OutId"] == "sign-in:1"


def test_a_wrong_secret_is_refused_by_the_provider(app, fake_aliyun):  # noqa: F811
    backend = AliyunSmsBackend(
        {**environ(fake_aliyun.url), "ALIYUN_SMS_ACCESS_KEY_SECRET": "wrong"}, timeout=5
    )
    with pytest.raises(SmsRejected) as refused:
        backend.send(SmsRequest(PHONE, "sign_in_code", {"code": "1"}, "x"))
    assert refused.value.code == "SignatureDoesNotMatch"
    assert fake_aliyun.received == []


def test_a_template_without_a_code_is_rejected_before_sending(app, aliyun):
    with pytest.raises(SmsRejected):
        app.extensions["sms"].send(SmsRequest(PHONE, "no_such_template", {}, "x"))
    assert aliyun.received == []


def test_throttled_message_is_retried_with_backoff_and_sent_once(app, aliyun):
    aliyun.script = ["isv.BUSINESS_LIMIT_CONTROL", "HTTP503"]
    queue_sms("notice:1", PHONE, "sign_in_code", {"code": "111111"}, quiet_hours=False)
    db.session.commit()

    assert attempt(_row("notice:1").id) == SmsStatus.QUEUED
    row = _row("notice:1")
    assert (row.attempts, row.error) == (1, "isv.BUSINESS_LIMIT_CONTROL")
    first_wait = row.next_attempt_at - datetime.now(UTC)
    assert timedelta(seconds=25) < first_wait <= timedelta(seconds=30)
    assert send_due_sms() == 0  # not due yet

    row.next_attempt_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    assert send_due_sms() == 1
    row = _row("notice:1")
    assert (row.status, row.attempts, row.error) == (SmsStatus.QUEUED, 2, "HTTP503")
    second_wait = row.next_attempt_at - datetime.now(UTC)
    assert timedelta(seconds=55) < second_wait <= timedelta(seconds=60)  # doubled

    row.next_attempt_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    send_due_sms()
    row = _row("notice:1")
    assert (row.status, row.cost_fen, row.error) == (SmsStatus.SENT, 5, None)
    assert send_due_sms() == 0
    assert attempt(row.id) is None  # a sent message is never sent again
    assert len(aliyun.sent_with("notice:1")) == 1
    assert aliyun.refused == ["isv.BUSINESS_LIMIT_CONTROL", "HTTP503"]


def test_the_same_key_queues_one_message(app, aliyun):
    first = queue_sms("notice:2", PHONE, "sign_in_code", {"code": "1"}, quiet_hours=False)
    again = queue_sms("notice:2", PHONE, "sign_in_code", {"code": "1"}, quiet_hours=False)
    db.session.commit()
    assert first.id == again.id
    attempt(first.id)
    attempt(first.id)
    send_due_sms()
    assert len(aliyun.sent_with("notice:2")) == 1


def test_provider_unreachable_keeps_the_message_queued(app, fake_aliyun):  # noqa: F811
    app.extensions["sms"] = AliyunSmsBackend(environ("http://127.0.0.1:9/"), timeout=2)
    queue_sms("notice:3", PHONE, "sign_in_code", {"code": "1"}, quiet_hours=False)
    db.session.commit()
    attempt(_row("notice:3").id)
    row = _row("notice:3")
    assert (row.status, row.error) == (SmsStatus.QUEUED, "connection")


def test_a_rejected_message_fails_for_good(app, aliyun):
    aliyun.script = ["isv.MOBILE_NUMBER_ILLEGAL"]
    queue_sms("notice:4", PHONE, "sign_in_code", {"code": "1"}, quiet_hours=False)
    db.session.commit()
    attempt(_row("notice:4").id)
    assert _row("notice:4").status == SmsStatus.FAILED
    assert send_due_sms() == 0


def test_a_message_with_a_lost_answer_is_not_sent_again(app, monkeypatch):
    from app.core.sms import SmsUncertain

    class Silent:
        def send(self, request):
            raise SmsUncertain("timeout")

    app.extensions["sms"] = Silent()
    queue_sms("notice:5", PHONE, "sign_in_code", {"code": "1"}, quiet_hours=False)
    db.session.commit()
    attempt(_row("notice:5").id)
    assert _row("notice:5").status == SmsStatus.UNCERTAIN
    assert send_due_sms() == 0


@pytest.mark.parametrize(
    ("china_time", "held_until"),
    [
        ("2026-12-01 20:59", None),
        ("2026-12-01 21:00", "2026-12-02 08:00"),
        ("2026-12-02 03:30", "2026-12-02 08:00"),
        ("2026-12-02 08:00", None),
    ],
)
def test_quiet_hours_hold_notices_until_eight_in_the_morning(china_time, held_until):
    from app.core.clock import CHINA

    now = datetime.strptime(china_time, "%Y-%m-%d %H:%M").replace(tzinfo=CHINA)
    morning = sending.next_morning(now.astimezone(UTC))
    expected = held_until and datetime.strptime(held_until, "%Y-%m-%d %H:%M").replace(tzinfo=CHINA)
    assert morning == expected


def test_a_notice_at_night_waits_while_a_sign_in_code_goes(app, monkeypatch):
    from app.core.clock import CHINA

    night = datetime(2026, 12, 1, 23, 0, tzinfo=CHINA).astimezone(UTC)
    monkeypatch.setattr(sending, "utcnow", lambda: night)
    notice = queue_sms("notice:6", PHONE, "sign_in_code", {"code": "1"})
    code = queue_sms("sign-in:6", PHONE, "sign_in_code", {"code": "1"}, quiet_hours=False)
    db.session.commit()
    attempt(notice.id)
    attempt(code.id)
    assert _row("sign-in:6").status == SmsStatus.SENT
    held = _row("notice:6")
    assert held.status == SmsStatus.QUEUED
    assert held.next_attempt_at == datetime(2026, 12, 2, 8, 0, tzinfo=CHINA)
    assert len(app.extensions["sms"].outbox) == 1


def test_monthly_cap_per_association_with_count_and_cost(app, world):
    app.config["SMS_MONTHLY_CAP"] = 2
    village = world.village_a1
    for number in range(3):
        queue_sms(
            f"notice:cap{number}",
            PHONE,
            "sign_in_code",
            {},
            association_id=village.id,
            quiet_hours=False,
        )
    db.session.commit()
    assert _row("notice:cap2").status == SmsStatus.CAPPED
    for number in range(3):
        attempt(_row(f"notice:cap{number}").id)
    assert queueing.monthly_usage(village.id) == (2, 10)
    assert queueing.monthly_usage(world.village_a2.id) == (0, 0)
    assert len(app.extensions["sms"].outbox) == 2


def test_the_secretary_sees_this_months_count_cost_and_messages(app, world, make_client):
    for number in range(3):
        queue_sms(
            f"notice:page{number}",
            PHONE,
            "sign_in_code",
            {},
            association_id=world.village_a1.id,
            quiet_hours=False,
        )
    queue_sms("notice:elsewhere", PHONE, "sign_in_code", {}, association_id=world.village_a2.id)
    db.session.commit()
    for number in range(2):
        attempt(_row(f"notice:page{number}").id)
    page = make_client(world.secretary_a1.login).get(f"/a/{world.village_a1.slug}/sms").text
    assert (
        'data-testid="sms-count">3 / 2,000<' in page or 'data-testid="sms-count">3 / 2000<' in page
    )
    assert "¥0.10" in page
    assert page.count("138****8000") == 3
    assert page.count('data-status="sent"') == 2 and page.count('data-status="queued"') == 1


CALLBACK = "callback-secret-for-tests"


def _push(client, kind: str, entries, token: str = CALLBACK):
    # As the provider posts: JSON, no session, no CSRF token.
    return client._isolated(client.raw.post, f"/sms/aliyun/{token}/{kind}", json=entries)


def test_delivery_reports_are_stored_against_the_message(app, make_client):
    app.config["ALIYUN_SMS_CALLBACK_TOKEN"] = CALLBACK
    queue_sms("notice:r1", PHONE, "sign_in_code", {}, quiet_hours=False)
    queue_sms("notice:r2", PHONE, "sign_in_code", {}, quiet_hours=False)
    db.session.commit()
    report = {
        "phone_number": PHONE,
        "send_time": "2026-12-01 10:00:00",
        "report_time": "2026-12-01 10:00:05",
        "success": True,
        "err_code": "DELIVERED",
        "err_msg": "用户接收成功",
        "sms_size": "1",
        "biz_id": "1^0",
        "out_id": "notice:r1",
    }
    failed = {**report, "success": False, "err_code": "MK:0001", "out_id": "notice:r2"}
    client = make_client()
    response = _push(client, "report", [report, failed, {**report, "out_id": "unknown"}])
    assert response.status_code == 200 and response.json == {"code": 0, "msg": "成功"}
    delivered = _row("notice:r1")
    assert delivered.delivered_at == datetime(2026, 12, 1, 2, 0, 5, tzinfo=UTC)
    assert (_row("notice:r2").delivered_at, _row("notice:r2").delivery_error) == (None, "MK:0001")
    assert _push(client, "report", [report], token="wrong").status_code == 404
    assert _push(client, "report", {"not": "a list"}).status_code == 400


def test_callbacks_are_closed_without_a_configured_secret(app, make_client):
    assert _push(make_client(), "report", [], token="").status_code in (404, 405)
    assert _push(make_client(), "replies", [], token="anything").status_code == 404


def test_a_reply_of_td_stops_notices_but_not_sign_in_codes(app, make_client):
    app.config["ALIYUN_SMS_CALLBACK_TOKEN"] = CALLBACK
    reply = {
        "phone_number": PHONE,
        "send_time": "2026-12-01 10:00:00",
        "content": " TD ",
        "sign_name": "协会通",
        "dest_code": "1234",
        "sequence_id": 1,
    }
    client = make_client()
    assert (
        _push(
            client, "replies", [reply, {**reply, "phone_number": "13700137000", "content": "好的"}]
        ).json["code"]
        == 0
    )
    assert _push(client, "replies", [{**reply, "content": "退订"}]).status_code == 200
    notice = queue_sms("notice:o1", PHONE, "sign_in_code", {})
    other = queue_sms("notice:o2", "13700137000", "sign_in_code", {}, quiet_hours=False)
    code = queue_sms("sign-in:o3", PHONE, "sign_in_code", {}, quiet_hours=False, notice=False)
    db.session.commit()
    assert (notice.status, other.status, code.status) == (
        SmsStatus.OPTED_OUT,
        SmsStatus.QUEUED,
        SmsStatus.QUEUED,
    )


def test_the_link_in_a_notice_opts_the_number_out_after_a_click(app, make_client):
    from app.core.sms_views import opt_out_link

    with app.test_request_context():
        link = opt_out_link(PHONE).removeprefix("http://localhost")
    client = make_client()
    page = client.get(link)
    assert page.status_code == 200 and 'data-testid="opt-out-form"' in page.text
    assert queue_sms("notice:l1", PHONE, "sign_in_code", {}).status == SmsStatus.QUEUED
    db.session.commit()
    assert client.post(link).status_code == 303
    assert queue_sms("notice:l2", PHONE, "sign_in_code", {}).status == SmsStatus.OPTED_OUT
    db.session.commit()
    assert client.get(link[:-3] + "xyz").status_code == 404
