"""Messages to a group by SMS (群发): count and cost before sending, opted-out numbers left out
and counted, each recipient once, audit-logged; groups of an event, a team, a 中心户; each
recipient's state on the message's page."""

from sqlalchemy import select

from app.associations.group_sms.models import GroupMessage
from app.core import crypto
from app.core.audit import AuditLog
from app.core.sms import sms_backend
from app.core.sms_outbox import sending
from app.core.sms_outbox.consent import opt_out
from app.core.sms_outbox.models import SmsMessage
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tests import factories


def _sent(app) -> list:
    with app.app_context():
        return list(sms_backend().outbox)


def test_secretary_sees_count_and_cost_then_sends_once_to_each_member(
    app, world, make_client, monkeypatch
):
    monkeypatch.setattr(sending, "next_morning", lambda now: None)  # daytime, whenever run
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


def test_messages_to_an_event_a_team_and_a_central_household_with_each_recipients_state(
    app, world, make_client, monkeypatch
):
    from app.events.models import Registration, RegistrationStatus
    from tests.volunteers.makers import create_team, create_volunteer

    monkeypatch.setattr(sending, "next_morning", lambda now: None)  # daytime, whenever run
    village = world.village_a1
    secretary = make_client(world.secretary_a1.login)
    url = f"/a/{village.slug}/sms/group"

    # An event: a confirmed member (register phone), a waitlisted one with a mobile login,
    # a cancelled one (left out).
    event_id = factories.create_event(village, "健康讲座").id
    signed = factories.create_user("signed@test.cn", "报名甲")
    factories.create_member(village, "报名甲", phone="13600000001", user_id=signed.id)
    waiting = factories.create_user("13600000002", "报名乙")
    gone = factories.create_user("13600000003", "报名丙")
    with tenant_context(scope_for(village, writable=True)):
        for user, status in (
            (signed, RegistrationStatus.CONFIRMED),
            (waiting, RegistrationStatus.WAITLISTED),
            (gone, RegistrationStatus.CANCELLED),
        ):
            db.session.add(
                Registration(event_id=event_id, user_id=user.id, name=user.name, status=status)
            )
        db.session.commit()
    form = {"group": f"event:{event_id}", "body": "讲座改到二楼"}
    preview = secretary.post(url, form)
    assert 'data-testid="preview-recipients">2<' in preview.text
    sent = secretary.post(url, {**form, "confirmed": "yes"})
    assert sent.status_code == 303
    assert sorted(m.phone for m in _sent(app)) == ["13600000001", "13600000002"]
    status_page = secretary.get(sent.headers["Location"])
    assert status_page.status_code == 200
    rows = status_page.text.split('data-testid="recipient"')[1:]
    assert len(rows) == 2 and all('data-status="sent"' in row for row in rows)
    assert "报名甲" in status_page.text and "136****0001" in status_page.text
    assert "13600000001" not in status_page.text

    # A volunteer team: a member volunteer and a non-member with her own phone.
    helper = create_volunteer(village, "志愿甲", phone="13600000011")
    outsider = create_volunteer(village, "志愿乙", member=False, phone="13600000012")
    team_id = create_team(village, members=(helper, outsider)).id
    before = len(_sent(app))
    secretary.post(url, {"group": f"team:{team_id}", "body": "明早集合", "confirmed": "yes"})
    assert sorted(m.phone for m in _sent(app)[before:]) == ["13600000011", "13600000012"]

    # A central household (中心户) and its linked households, not the others.
    central_id = factories.create_household(village, "中心户1号", central=True).id
    linked_id = factories.create_household(village, "联户2号").id
    elsewhere_id = factories.create_household(village, "别处3号").id
    with tenant_context(scope_for(village, writable=True)):
        from app.members import households
        from app.members.models import Household

        households.link_household(
            db.session.get(Household, linked_id), db.session.get(Household, central_id)
        )
        db.session.commit()
    factories.create_member(village, "中心户主", phone="13600000021", household_id=central_id)
    factories.create_member(village, "联户户主", phone="13600000022", household_id=linked_id)
    factories.create_member(village, "别处户主", phone="13600000023", household_id=elsewhere_id)
    opt_out(crypto.lookup_hash("13600000022"), source="link")
    db.session.commit()
    before = len(_sent(app))
    answer = secretary.post(
        url, {"group": f"central:{central_id}", "body": "入户走访", "confirmed": "yes"}
    )
    assert [m.phone for m in _sent(app)[before:]] == ["13600000021"]
    with UNSCOPED_BYPASS("test reads the group messages"):
        last = db.session.scalars(select(GroupMessage).order_by(GroupMessage.id.desc())).first()
        assert (last.recipients, last.opted_out) == (1, 1)
        assert "中心户1号" in last.target_label
    assert answer.headers["Location"].endswith(f"/sms/group/{last.id}")

    # Another association's group message is not found here.
    other = make_client(world.secretary_a2.login)
    assert other.get(f"/a/village-a2/sms/group/{last.id}").status_code == 404
    # A group value that is not offered is refused.
    assert secretary.post(url, {"group": "event:999999", "body": "x"}).status_code == 422


def test_the_status_page_reads_a_fixed_number_of_queries(
    app, world, make_client, count_queries, monkeypatch
):
    monkeypatch.setattr(sending, "next_morning", lambda now: None)
    village = world.village_a1
    secretary = make_client(world.secretary_a1.login)

    def statements_for(members: int) -> int:
        for number in range(members):
            factories.create_member(village, f"会员{number}", phone=f"135{members:04d}{number:04d}")
        answer = secretary.post(
            f"/a/{village.slug}/sms/group",
            {"group": "members", "body": "通知", "confirmed": "yes"},
        )
        with count_queries() as statements:
            assert secretary.get(answer.headers["Location"]).status_code == 200
        return len(statements)

    assert statements_for(2) == statements_for(12)
