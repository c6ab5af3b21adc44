"""The audit log is written by the shared mechanism and cannot be rewritten; notifications go
through background jobs to a pluggable backend."""

import pytest
from sqlalchemy import select

from app.core.audit import AuditLog
from app.core.notifications import ConsoleBackend, Message, mask_recipient, notify
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS, TenantWriteDenied, scope_for, tenant_context


def _entries(action: str) -> list[AuditLog]:
    with UNSCOPED_BYPASS("test reads the audit log"):
        return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action)))


def test_changes_are_logged_without_any_view_writing_them(world, make_client):
    client = make_client(world.secretary_a1.login)
    client.post(
        f"/a/{world.village_a1.slug}/people/invite",
        {"name": "新人", "login": "newbie@test.cn", "role": "member"},
    )
    created = [e for e in _entries("create") if e.target_type == "Invitation"]
    assert len(created) == 1
    assert created[0].user_id == world.secretary_a1.id
    assert created[0].association_id == world.village_a1.id
    page = client.get(f"/a/{world.village_a1.slug}/audit")
    assert "邀请 #" in page.text and "秘书甲" in page.text


def test_denials_are_logged(world, make_client):
    make_client(world.secretary_a1.login).get(f"/a/{world.village_b1.slug}/")
    denial = _entries("denied")[0]
    assert denial.user_id == world.secretary_a1.id and denial.association_id == world.village_b1.id


def test_audit_entries_cannot_be_changed_or_deleted(world, make_client):
    make_client().login(world.secretary_a1.login)  # the sign-in form logs the login
    entry = _entries("login")[0]
    with tenant_context(scope_for(world.village_a1, writable=True)):
        entry.action = "nothing happened"
        with pytest.raises(TenantWriteDenied):
            db.session.flush()
        db.session.rollback()
        db.session.delete(_entries("login")[0])
        with pytest.raises(TenantWriteDenied):
            db.session.flush()
        db.session.rollback()


def test_the_audit_log_is_for_the_secretary_only(world, make_client):
    assert (
        make_client(world.staff_a1.login).get(f"/a/{world.village_a1.slug}/audit").status_code
        == 403
    )


def test_notifications_are_delivered_through_the_job_queue(app, outbox):
    with app.test_request_context():
        notify("13812345678", "提醒", "活动明天开始")
        notify("someone@test.cn", "提醒", "活动明天开始")
    assert [(m.channel, m.to) for m in outbox] == [
        ("sms", "13812345678"),
        ("email", "someone@test.cn"),
    ]


def test_the_console_backend_never_prints_a_full_phone_number(capsys):
    ConsoleBackend().send(Message("sms", "13812345678", "", "你好"))
    printed = capsys.readouterr().err
    assert "13812345678" not in printed and "138****5678" in printed
    assert mask_recipient("zhang.wei@example.cn") == "z***@example.cn"


def test_after_commit_work_waits_for_the_real_commit_not_a_savepoint(app, outbox):
    """SQLAlchemy fires after_commit/after_rollback for savepoints too: a notice queued before
    one must neither leave when the savepoint is released nor be dropped when it rolls back."""
    from app.core.notifications import notify_after_commit

    db.session.execute(select(1))
    notify_after_commit("first@test.cn", "甲", "正文")
    with db.session.begin_nested():
        pass
    assert outbox == []  # released savepoint: the transaction goes on
    try:
        with db.session.begin_nested():
            raise ValueError("a savepoint rolled back")
    except ValueError:
        pass
    db.session.commit()
    assert [message.to for message in outbox] == ["first@test.cn"]
    db.session.execute(select(1))  # a transaction under way, as in any user action
    notify_after_commit("second@test.cn", "乙", "正文")
    db.session.rollback()
    db.session.commit()
    assert [message.to for message in outbox] == ["first@test.cn"]
