"""Rectification tasks changing hands: who is told (and who is not), and what they are told."""

import io
from datetime import timedelta

from sqlalchemy import select

from app.core import notifications
from app.core.clock import china_today, utcnow
from app.extensions import db
from app.oversight.models import RectificationTask, TaskState
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Role
from tests.factories import create_spot_check, create_task, create_user, reload
from tests.uploads import samples

TARGET = "/a/village-a1/oversight"
DEADLINE = china_today() + timedelta(days=14)


def _task_form(**overrides):
    data = {
        "title": "活动照片不全",
        "description": "第二季度的活动记录没有照片，请补充。",
        "deadline_on": DEADLINE.isoformat(),
    }
    data.update(overrides)
    return data


def _only_task() -> RectificationTask | None:
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        return db.session.scalar(select(RectificationTask))


def _to(outbox) -> list[str]:
    return sorted(message.to for message in outbox)


def _answer(client, task_id, note="已补充照片"):
    return client.post(
        f"{TARGET}/tasks/{task_id}/answer", {"note": note}, content_type="multipart/form-data"
    )


def _disable(user) -> None:
    with UNSCOPED_BYPASS("test sets up a disabled account"):
        reload(type(user), user.id).disabled_at = utcnow()
        db.session.commit()


# --- who is told ------------------------------------------------------------------------------


def test_opening_a_task_tells_every_secretary_of_the_target_and_no_one_else(
    world, make_client, outbox, sms_notices
):
    by_phone = create_user("13800138000", "秘书丁", roles=[(world.village_a1, Role.SECRETARY)])
    gone = create_user("gone@test.cn", "离任秘书", roles=[(world.village_a1, Role.SECRETARY)])
    _disable(gone)
    auditor = make_client(world.county_auditor.login)
    assert auditor.post(f"{TARGET}/tasks/new", _task_form()).status_code == 303
    task = _only_task()

    # Not the staff, the member, the sibling village's or the other branch's secretary, nor a
    # disabled account: the secretaries of the target only, once each.
    # By e-mail to an e-mail login; by SMS (the outbox) to a mobile login.
    assert _to(outbox) == [world.secretary_a1.login]
    [(phone, sms)] = sms_notices()
    assert phone == by_phone.login
    email = next(m for m in outbox if m.to == world.secretary_a1.login)
    assert email.channel == "email"
    assert email.subject == "county计生协 下发整改任务：活动照片不全"
    path = f"http://localhost/a/village-a1/oversight/tasks/{task.id}"  # absolute: followable
    for text in ("county计生协", "village-a1计生协", "活动照片不全", DEADLINE.isoformat(), path):
        assert text in email.body
    # The details typed for the secretary stay on the task page.
    assert "第二季度" not in email.body
    assert path in sms and "活动照片不全" in sms and "/sms/stop/" in sms  # with the opt-out link


def test_each_secretary_is_told_in_their_own_language(world, make_client, outbox):
    with UNSCOPED_BYPASS("test sets the secretary's language"):
        reload(type(world.secretary_a1), world.secretary_a1.id).locale = "en"
        db.session.commit()
    make_client(world.county_auditor.login).post(f"{TARGET}/tasks/new", _task_form())
    (message,) = outbox
    assert message.subject == "Rectification task from county计生协: 活动照片不全"
    assert "Deadline: " + DEADLINE.isoformat() in message.body


def test_an_answer_tells_the_user_who_opened_the_task(world, make_client, outbox):
    task = create_task(world.village_a1, opened_by=world.county_auditor)
    outbox.clear()
    assert _answer(make_client(world.secretary_a1.login), task.id).status_code == 303
    (message,) = outbox
    assert message.to == world.county_auditor.login
    assert message.subject == "整改任务已回复：活动照片不全"
    assert "village-a1计生协" in message.body
    assert f"http://localhost/a/village-a1/oversight/tasks/{task.id}" in message.body
    assert "已补充照片" not in message.body  # the answer itself is read on the task page


def test_an_answer_tells_no_one_when_the_opener_has_left(world, make_client, outbox):
    task = create_task(world.village_a1, opened_by=world.county_auditor)
    _disable(world.county_auditor)
    outbox.clear()
    assert _answer(make_client(world.secretary_a1.login), task.id).status_code == 303
    assert reload(RectificationTask, task.id).state == TaskState.ANSWERED
    assert outbox == []


def test_accepting_and_sending_back_tell_the_target_secretaries(world, make_client, outbox):
    task = create_task(world.village_a1, opened_by=world.county_auditor, state="answered")
    outbox.clear()
    auditor = make_client(world.county_auditor.login)
    sent_back = auditor.post(
        f"{TARGET}/tasks/{task.id}/decide", {"decision": "return", "comment": "照片要有横幅"}
    )
    assert sent_back.status_code == 303
    (message,) = outbox
    assert message.to == world.secretary_a1.login
    assert message.subject == "整改任务已退回：活动照片不全"
    assert "照片要有横幅" in message.body and "county计生协" in message.body

    outbox.clear()
    assert _answer(make_client(world.secretary_a1.login), task.id).status_code == 303
    assert _to(outbox) == [world.county_auditor.login]
    outbox.clear()
    assert auditor.post(f"{TARGET}/tasks/{task.id}/decide", {"decision": "accept"}).status_code
    (message,) = outbox
    assert message.to == world.secretary_a1.login
    assert message.subject == "整改任务已办结：活动照片不全"
    assert reload(RectificationTask, task.id).state == TaskState.CLOSED


def test_a_spot_check_problem_that_opens_a_task_tells_the_secretary(world, make_client, outbox):
    spot_check = create_spot_check(world.village_a1, drawn_by=world.county_auditor)
    outbox.clear()
    entry = spot_check.entries[0]
    response = make_client(world.county_auditor.login).post(
        f"/a/village-a1/oversight/spot-check-entries/{entry.id}",
        {
            "verdict": "problem",
            "note": "没有签到表",
            "open_task": "y",
            "title": "补签到表",
            "deadline_on": DEADLINE.isoformat(),
        },
    )
    assert response.status_code == 303
    assert _to(outbox) == [world.secretary_a1.login]
    assert "补签到表" in outbox[0].body


def test_nothing_is_sent_for_a_change_that_was_refused(world, client_for, outbox):
    auditor = client_for(world.county_auditor.login)
    assert auditor.post(f"{TARGET}/tasks/new", _task_form(title="")).status_code == 422
    task = create_task(world.village_a1, opened_by=world.county_auditor, state="answered")
    outbox.clear()
    refused = auditor.post(f"{TARGET}/tasks/{task.id}/decide", {"decision": "return"})
    assert refused.status_code == 422
    assert outbox == []


def test_a_notification_that_cannot_be_queued_does_not_lose_the_task(
    world, make_client, outbox, monkeypatch
):
    def queue_down(*args, **kwargs):
        raise ConnectionError("the job queue is down")

    monkeypatch.setattr(notifications, "notify", queue_down)
    response = make_client(world.county_auditor.login).post(f"{TARGET}/tasks/new", _task_form())
    assert response.status_code == 303
    task = _only_task()
    assert task is not None and task.state == TaskState.OPEN
    assert outbox == []


def test_id_and_mobile_numbers_typed_into_a_task_are_masked_in_messages(world, make_client, outbox):
    title = "会员110101199003071234电话13912345678信息有误"
    task = create_task(world.village_a1, opened_by=world.county_auditor, title=title)
    (message,) = outbox
    for text in (message.subject, message.body):
        assert "110101199003071234" not in text and "13912345678" not in text
        assert "1101**********1234" in text and "139****5678" in text
    outbox.clear()
    with UNSCOPED_BYPASS("test moves the task on"):
        reload(RectificationTask, task.id).state = TaskState.ANSWERED
        db.session.commit()
    make_client(world.county_auditor.login).post(
        f"{TARGET}/tasks/{task.id}/decide",
        {"decision": "return", "comment": "请联系13912345678核实"},
    )
    (message,) = outbox
    assert "13912345678" not in message.body and "139****5678" in message.body


def test_an_answer_with_files_still_tells_the_opener_once(world, make_client, outbox):
    task = create_task(world.village_a1, opened_by=world.county_auditor)
    outbox.clear()
    response = make_client(world.secretary_a1.login).post(
        f"{TARGET}/tasks/{task.id}/answer",
        {"note": "已补充", "files": [(io.BytesIO(samples.jpeg()), "补拍.jpg")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    assert _to(outbox) == [world.county_auditor.login]
