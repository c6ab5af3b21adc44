"""Group messages sent at a chosen time, and a higher level's messages to the secretaries of
the associations below it: through the secretary's pages, the scheduler job and the outbox."""

import threading
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from app.associations.group_sms import sending as group_sending
from app.associations.group_sms.models import Group, GroupMessage, GroupMessageStatus
from app.core.audit import AuditLog
from app.core.clock import CHINA, china_today
from app.core.inbox import Notification
from app.core.sms import sms_backend
from app.core.sms_outbox import sending as outbox_sending
from app.core.sms_outbox.models import SmsMessage
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tenants.models import AssociationKind, Role
from tests import factories


def _texted() -> list[str]:
    return sorted(request.phone for request in sms_backend().outbox)


def _tomorrow_at(hour: int, minute: int = 0) -> tuple[str, str, datetime]:
    day = china_today() + timedelta(days=1)
    moment = datetime.combine(day, time(hour, minute), tzinfo=CHINA).astimezone(UTC)
    return day.isoformat(), f"{hour:02d}:{minute:02d}", moment


def _group_message(message_id: int) -> GroupMessage:
    with UNSCOPED_BYPASS("test reads the group message"):
        return db.session.scalar(
            select(GroupMessage)
            .where(GroupMessage.id == message_id)
            .execution_options(populate_existing=True)
        )


def test_a_scheduled_message_goes_at_its_time_to_the_group_as_it_is_then(
    app, world, make_client, monkeypatch
):
    monkeypatch.setattr(outbox_sending, "next_morning", lambda now: None)  # the outbox's night
    village = world.village_a1
    factories.create_member(village, "会员甲", phone="13800138001")
    secretary = make_client(world.secretary_a1.login)
    url = f"/a/{village.slug}/sms/group"
    day, clock, moment = _tomorrow_at(10, 30)
    form = {"group": "members", "body": "明天上午义诊", "when": "later"}
    form |= {"send_on": day, "send_at": clock}

    preview = secretary.post(url, form)
    assert preview.status_code == 200
    assert 'data-testid="preview-recipients">1<' in preview.text
    assert 'data-testid="preview-send-at"' in preview.text
    answer = secretary.post(url, {**form, "confirmed": "yes"})
    assert answer.status_code == 303
    message_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    page = secretary.get(answer.headers["Location"]).text
    assert 'data-state="scheduled"' in page and 'data-testid="cancel-group-message"' in page
    assert _texted() == []  # nothing goes before its time
    assert db.session.scalar(select(SmsMessage.id)) is None
    assert 'data-testid="group-message-state"' in secretary.get(f"/a/{village.slug}/sms").text

    # She joins after it was scheduled: the recipients are found when it goes. She has an
    # account, so the message is also kept in her notification centre.
    joined = factories.create_user("13800138002", "会员乙")
    factories.create_member(village, "会员乙", phone="13800138002", user_id=joined.id)
    assert group_sending.send_scheduled_group_messages(now=moment - timedelta(minutes=1)) == 0
    assert group_sending.send_scheduled_group_messages(now=moment) == 1
    assert group_sending.send_scheduled_group_messages(now=moment + timedelta(minutes=1)) == 0
    assert _texted() == ["13800138001", "13800138002"]
    assert "明天上午义诊" in make_client(joined.login).get("/notifications").text
    message = _group_message(message_id)
    assert (message.status, message.recipients) == (GroupMessageStatus.SENT, 2)
    page = secretary.get(f"/a/{village.slug}/sms/group/{message_id}").text
    assert page.count('data-testid="recipient"') == 2
    assert 'data-testid="cancel-group-message"' not in page
    # Too late to cancel: she is told so, and nothing changes.
    late = secretary.post(f"/a/{village.slug}/sms/group/{message_id}/cancel")
    assert late.status_code == 303
    assert _group_message(message_id).status == GroupMessageStatus.SENT
    with UNSCOPED_BYPASS("test reads the audit log"):
        actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"group_message_scheduled", "group_message_sent"} <= actions


def test_a_cancelled_message_is_never_sent(app, world, make_client, monkeypatch):
    monkeypatch.setattr(outbox_sending, "next_morning", lambda now: None)
    village = world.village_a1
    factories.create_member(village, "会员甲", phone="13800138001")
    secretary = make_client(world.secretary_a1.login)
    day, clock, moment = _tomorrow_at(9)
    answer = secretary.post(
        f"/a/{village.slug}/sms/group",
        {"group": "members", "body": "取消的通知", "when": "later", "send_on": day}
        | {"send_at": clock, "confirmed": "yes"},
    )
    message_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    # Another association's secretary cannot cancel it.
    other = make_client(world.secretary_a2.login)
    assert other.post(f"/a/{village.slug}/sms/group/{message_id}/cancel").status_code == 404
    assert secretary.post(f"/a/{village.slug}/sms/group/{message_id}/cancel").status_code == 303
    page = secretary.get(f"/a/{village.slug}/sms/group/{message_id}").text
    assert 'data-state="cancelled"' in page
    assert group_sending.send_scheduled_group_messages(now=moment + timedelta(hours=1)) == 0
    assert _texted() == []


def test_a_scheduled_time_must_be_ahead_within_30_days_and_in_the_day(world, client_for):
    secretary = client_for(world.secretary_a1.login)
    url = f"/a/{world.village_a1.slug}/sms/group"
    base = {"group": "members", "body": "通知", "when": "later"}
    today = china_today()
    cases = {
        "Pick a time at least 5 minutes from now.": (today - timedelta(days=1), "10:00"),
        "Pick a time within the next 30 days.": (today + timedelta(days=40), "10:00"),
        "No messages go between 21:00 and 08:00: pick a daytime.": (
            today + timedelta(days=2),
            "22:30",
        ),
        "Enter the day and the time to send it.": (None, "10:00"),
    }
    for expected, (day, clock) in cases.items():
        answer = secretary.post(
            url, {**base, "send_on": day.isoformat() if day else "", "send_at": clock}
        )
        assert answer.status_code == 422, expected
        assert expected in answer.text
    with UNSCOPED_BYPASS("test reads the group messages"):
        assert db.session.scalar(select(GroupMessage.id)) is None


def test_two_schedulers_at_once_send_a_message_once(app, world, monkeypatch):
    monkeypatch.setattr(outbox_sending, "next_morning", lambda now: None)
    village = world.village_a1
    for number in range(3):
        factories.create_member(village, f"会员{number}", phone=f"1380013800{number}")
    _day, _clock, moment = _tomorrow_at(11)
    from tenants.context import scope_for, tenant_context

    with tenant_context(scope_for(village, writable=True)):
        group_sending.send(village, Group.MEMBERS, "两个调度器", sent_by_id=None, send_at=moment)
        db.session.commit()
    barrier, results, errors = threading.Barrier(2), [], []

    def scheduler():
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                results.append(group_sending.send_scheduled_group_messages(now=moment))
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sorted(results) == [0, 1]
    assert _texted() == ["13800138000", "13800138001", "13800138002"]
    db.session.expire_all()
    assert len(db.session.scalars(select(SmsMessage.id)).all()) == 3


def _secretary(login: str, association, name: str):
    return factories.create_user(login, name, roles=[(association, Role.SECRETARY)])


def test_a_county_messages_the_secretaries_below_it_and_no_one_else(
    app, world, make_client, monkeypatch
):
    monkeypatch.setattr(outbox_sending, "next_morning", lambda now: None)
    county = world.county
    other_county = factories.create_tree_node("county-2", AssociationKind.COUNTY, world.province)
    other_village = factories.create_tree_node("village-c2", AssociationKind.VILLAGE, other_county)
    _secretary("13700000001", world.village_a1, "村秘书一")
    _secretary("13700000002", world.village_b1, "村秘书二")
    _secretary("13700000003", world.township_a, "镇秘书三")
    _secretary("13700000009", other_village, "别县秘书")
    _secretary("13700000008", world.province, "省秘书")
    county_secretary = _secretary("county.sec@test.cn", county, "县秘书")
    client = make_client(county_secretary.login)
    url = f"/a/{county.slug}/sms/group"
    assert "secretaries_below" in client.get(url).text

    # The directly lower level only: the townships' secretaries.
    form = {"group": "secretaries_children", "body": "请周五前上报年报"}
    preview = client.post(url, form)
    assert preview.status_code == 200
    # 镇秘书三 by SMS, the township secretary of the world by e-mail.
    assert 'data-testid="preview-recipients">2<' in preview.text
    assert 'data-testid="preview-by-email">1<' in preview.text
    assert 'data-testid="preview-cost">¥0.05<' in preview.text
    answer = client.post(url, {**form, "confirmed": "yes"})
    assert answer.status_code == 303
    assert _texted() == ["13700000003"]

    # The whole subtree: every secretary below, nobody of the other county or above.
    before = len(sms_backend().outbox)
    answer = client.post(
        url, {"group": "secretaries_below", "body": "会议通知", "confirmed": "yes"}
    )
    assert answer.status_code == 303
    texted = sorted(request.phone for request in sms_backend().outbox[before:])
    assert texted == ["13700000001", "13700000002", "13700000003"]
    status_page = client.get(answer.headers["Location"])
    assert status_page.status_code == 200
    rows = status_page.text.split('data-testid="recipient"')[1:]
    # Three by SMS; 秘书甲, 秘书乙, 秘书丙 and 街道秘书 by e-mail.
    assert len(rows) == 7
    assert sum('data-status="email"' in row for row in rows) == 4
    assert "137****0001" in status_page.text and "13700000001" not in status_page.text
    assert "别县秘书" not in status_page.text and "省秘书" not in status_page.text
    assert 'data-testid="recipient-association">village-b1计生协<' in status_page.text
    with UNSCOPED_BYPASS("test reads notifications and the audit log"):
        kept = db.session.scalars(
            select(Notification.user_id).where(Notification.body == "会议通知")
        ).all()
        assert len(kept) == 7
        entry = db.session.scalars(
            select(AuditLog)
            .where(AuditLog.action == "group_message_sent")
            .order_by(AuditLog.id.desc())
        ).first()
        assert entry.association_id == county.id and entry.detail["recipients"] == 7

    # A secretary reads it in the app: the county sees it on the status page.
    reader = make_client("13700000001")
    notices = reader.get("/notifications").text
    assert "会议通知" in notices
    assert reader.post("/notifications/read-all").status_code == 303
    page = client.get(answer.headers["Location"]).text
    assert page.count('data-read="yes"') == 1

    # Only the associations of one kind below: the villages, not the townships.
    before = len(sms_backend().outbox)
    answer = client.post(
        url, {"group": "secretaries_below:village", "body": "村级通知", "confirmed": "yes"}
    )
    assert answer.status_code == 303
    texted = sorted(request.phone for request in sms_backend().outbox[before:])
    assert texted == ["13700000002"]  # village_b1's; village_a1 is a community
    with UNSCOPED_BYPASS("test reads the group message"):
        assert _group_message(int(answer.headers["Location"].rsplit("/", 1)[1])).target_kind
    assert client.post(url, {"group": "secretaries_below:province", "body": "x"}).status_code == 422

    # A grassroots association has nobody below: no such group is offered.
    village_page = make_client(world.secretary_a1.login).get(
        f"/a/{world.village_a1.slug}/sms/group"
    )
    assert "secretaries_below" not in village_page.text


def test_a_township_reaches_only_its_own_villages(app, world, make_client, monkeypatch):
    monkeypatch.setattr(outbox_sending, "next_morning", lambda now: None)
    _secretary("13700000011", world.village_a2, "村秘书")
    _secretary("13700000012", world.village_b1, "邻镇秘书")
    client = make_client(world.township_a_secretary.login)
    answer = client.post(
        f"/a/{world.township_a.slug}/sms/group",
        {"group": "secretaries_below", "body": "检查通知", "confirmed": "yes"},
    )
    assert answer.status_code == 303
    assert _texted() == ["13700000011"]
