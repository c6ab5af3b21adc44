"""Messages to a group of members by SMS (群发): count and cost before sending, opted-out
numbers left out and counted, each member once, audit-logged."""

from sqlalchemy import select

from app.associations.group_sms import GroupMessage
from app.core import crypto, sms_outbox
from app.core.audit import AuditLog
from app.core.sms import sms_backend
from app.core.sms_outbox import SmsMessage, opt_out
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tests import factories


def _sent(app) -> list:
    with app.app_context():
        return list(sms_backend().outbox)


def test_secretary_sees_count_and_cost_then_sends_once_to_each_member(
    app, world, make_client, monkeypatch
):
    monkeypatch.setattr(sms_outbox, "next_morning", lambda now: None)  # daytime, whenever run
    village = world.village_a1
    for number in range(3):
        factories.create_member(village, f"会员{number}", phone=f"1380013800{number}")
    factories.create_member(village, "无手机")
    factories.create_member(world.village_a2, "别村", phone="13800138009")
    opt_out(crypto.lookup_hash("13800138002"), source="reply")
    db.session.commit()
    secretary = make_client(world.secretary_a1.login)
    url = f"/a/{village.slug}/sms/group"
    form = {"group": "members", "body": "周六上午九点健康讲座"}

    preview = secretary.post(url, form)
    assert preview.status_code == 200
    assert 'data-testid="preview-recipients">2<' in preview.text
    assert 'data-testid="preview-opted-out">1<' in preview.text
    assert 'data-testid="preview-cost">¥0.10<' in preview.text
    assert _sent(app) == []  # nothing goes before the secretary confirms

    sent = secretary.post(url, {**form, "confirmed": "yes"})
    assert sent.status_code == 303
    messages = _sent(app)
    assert sorted(m.phone for m in messages) == ["13800138000", "13800138001"]
    assert {m.params["content"] for m in messages} == {"周六上午九点健康讲座"}
    with UNSCOPED_BYPASS("test reads the group message and the audit log"):
        group_message = db.session.scalars(select(GroupMessage)).one()
        assert (group_message.recipients, group_message.opted_out) == (2, 1)
        entry = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "group_message_sent")
        ).one()
        assert entry.association_id == village.id and entry.detail["recipients"] == 2
    keys = db.session.scalars(select(SmsMessage.idempotency_key)).all()
    assert len(keys) == len(set(keys)) == 2
    page = secretary.get(f"/a/{village.slug}/sms").text
    assert page.count('data-status="sent"') == 2


def test_group_message_needs_a_text(world, make_client):
    secretary = make_client(world.secretary_a1.login)
    response = secretary.post(f"/a/{world.village_a1.slug}/sms/group", {"group": "members"})
    assert response.status_code == 422
