"""A member sees, downloads and asks to delete their own data; the secretary carries the
request out (nothing of the person is left) or refuses it with a reason the member sees."""

import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from app.activities.participants import ActivityParticipant
from app.core.audit import AuditLog
from app.extensions import db
from app.members.models import Member, PersonalDataRequest
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Membership
from tests.factories import create_activity, create_member

BASE = "/a/village-a1/members"


def _own_member(world):
    return create_member(
        world.village_a1,
        "会员甲",
        phone="13800000001",
        id_number="11010519491231002X",
        user_id=world.member_a1.id,
    )


def _count(model, **where) -> int:
    with UNSCOPED_BYPASS("test: count rows across tenants"):
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return db.session.scalar(query)


def test_a_member_sees_everything_held_about_them_including_the_full_id_number(world, make_client):
    member = _own_member(world)
    create_activity(world.village_a1, title="五月宣传", member_ids=[member.id])
    page = make_client(world.member_a1.login).get(f"{BASE}/me/data")
    assert page.status_code == 200
    assert "11010519491231002X" in page.text and "13800000001" in page.text
    assert "五月宣传" in page.text


def test_the_download_is_a_workbook_of_every_section_and_is_logged(world, make_client):
    member = _own_member(world)
    create_activity(world.village_a1, title="五月宣传", member_ids=[member.id])
    response = make_client(world.member_a1.login).get(f"{BASE}/me/data.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == [
        "会员档案",
        "参加的活动",
        "活动报名",
        "会费与缴费",
        "志愿服务",
        "迁户申请",
    ]
    record = {row[0]: row[1] for row in workbook["会员档案"].iter_rows(values_only=True)}
    assert record["姓名"] == "会员甲" and record["身份证号"] == "11010519491231002X"
    assert [row[1] for row in workbook["参加的活动"].iter_rows(min_row=2, values_only=True)] == [
        "五月宣传"
    ]
    assert _count(AuditLog, action="export_own_data", user_id=world.member_a1.id) == 1


def test_the_download_includes_the_persons_dues_payments(world, make_client):
    from tests.dues.makers import create_payment

    member = _own_member(world)
    payment = create_payment(world.village_a1, amount_fen=1500, member_id=member.id)
    response = make_client(world.member_a1.login).get(f"{BASE}/me/data.xlsx")
    rows = list(load_workbook(io.BytesIO(response.data))["会费与缴费"].iter_rows(values_only=True))
    assert any(row[1] == "¥15.00" and row[2] == payment.receipt_number for row in rows)


def test_someone_without_a_member_record_gets_404_and_others_records_are_never_shown(
    world, make_client
):
    create_member(world.village_a1, "别人", phone="13800000009")
    client = make_client(world.member_a1.login)
    assert client.get(f"{BASE}/me/data").status_code == 404
    assert client.get(f"{BASE}/me/data.xlsx").status_code == 404


def test_deletion_carried_out_leaves_nothing_of_the_person(world, make_client, outbox):
    member = _own_member(world)
    create_activity(world.village_a1, title="五月宣传", member_ids=[member.id])
    member_client = make_client(world.member_a1.login)
    response = member_client.post(f"{BASE}/me/data/delete", {"reason": "搬走了"})
    assert response.status_code == 303
    assert "秘书长尚未决定" in member_client.get(f"{BASE}/me/data").text

    secretary = make_client(world.secretary_a1.login)
    listing = secretary.get(f"{BASE}/data-requests")
    assert "会员甲" in listing.text and "搬走了" in listing.text
    with UNSCOPED_BYPASS("test: find the request"):
        request_id = db.session.scalar(select(PersonalDataRequest.id))
    decided = secretary.post(f"{BASE}/data-requests/{request_id}", {"action": "carry_out"})
    assert decided.status_code == 303

    assert _count(Member, name="会员甲") == 0
    assert _count(ActivityParticipant) == 0
    assert _count(Membership, user_id=world.member_a1.id) == 0
    assert outbox[-1].to == world.member_a1.login
    # The member no longer belongs here; the secretary still sees what was decided.
    assert member_client.get(f"{BASE}/me/data").status_code == 404
    assert "已删除" in secretary.get(f"{BASE}/data-requests").text


def test_a_refusal_needs_a_reason_and_the_member_sees_it(world, make_client, outbox):
    _own_member(world)
    member_client = make_client(world.member_a1.login)
    member_client.post(f"{BASE}/me/data/delete", {"reason": ""})
    with UNSCOPED_BYPASS("test: find the request"):
        request_id = db.session.scalar(select(PersonalDataRequest.id))
    secretary = make_client(world.secretary_a1.login)
    url = f"{BASE}/data-requests/{request_id}"
    no_reason = secretary.post(url, {"action": "refuse", "note": "  "})
    assert no_reason.status_code == 422 and "请写明拒绝的理由" in no_reason.text
    assert secretary.post(url, {"action": "refuse", "note": "会费记录须保存"}).status_code == 303
    assert _count(Member, name="会员甲") == 1
    assert "会费记录须保存" in member_client.get(f"{BASE}/me/data").text
    assert "会费记录须保存" in outbox[-1].body
    # Decided once: a second decision is refused, the record stays.
    again = secretary.post(url, {"action": "carry_out"})
    assert again.status_code == 422 and "已处理" in again.text
    assert _count(Member, name="会员甲") == 1


def test_asking_twice_is_refused_with_a_message(world, make_client):
    _own_member(world)
    client = make_client(world.member_a1.login)
    assert client.post(f"{BASE}/me/data/delete", {"reason": ""}).status_code == 303
    second = client.post(f"{BASE}/me/data/delete", {"reason": ""})
    assert second.status_code == 422 and "您已申请删除" in second.text
    assert _count(PersonalDataRequest) == 1


def test_a_too_long_reason_is_a_form_error(world, make_client):
    _own_member(world)
    client = make_client(world.member_a1.login)
    response = client.post(f"{BASE}/me/data/delete", {"reason": "长" * 501})
    assert response.status_code == 422
    assert _count(PersonalDataRequest) == 0


def test_a_sibling_secretary_cannot_see_or_decide_the_request(world, make_client):
    _own_member(world)
    make_client(world.member_a1.login).post(f"{BASE}/me/data/delete", {"reason": ""})
    with UNSCOPED_BYPASS("test: find the request"):
        request_id = db.session.scalar(select(PersonalDataRequest.id))
    sibling = make_client(world.secretary_a2.login)
    assert "会员甲" not in sibling.get("/a/village-a2/members/data-requests").text
    response = sibling.post(
        f"/a/village-a2/members/data-requests/{request_id}", {"action": "carry_out"}
    )
    assert response.status_code == 404
    assert _count(Member, name="会员甲") == 1


def test_deletion_here_keeps_the_persons_membership_elsewhere(world, make_client):
    with UNSCOPED_BYPASS("test: the same person is also a member of village_a2"):
        db.session.add(
            Membership(
                association_id=world.village_a2.id, user_id=world.member_a1.id, role="member"
            )
        )
        db.session.commit()
    _own_member(world)
    make_client(world.member_a1.login).post(f"{BASE}/me/data/delete", {"reason": ""})
    with UNSCOPED_BYPASS("test: find the request"):
        request_id = db.session.scalar(select(PersonalDataRequest.id))
    make_client(world.secretary_a1.login).post(
        f"{BASE}/data-requests/{request_id}", {"action": "carry_out"}
    )
    with UNSCOPED_BYPASS("test: read memberships"):
        left = db.session.scalars(
            select(Membership.association_id).where(Membership.user_id == world.member_a1.id)
        ).all()
    assert left == [world.village_a2.id]


def test_the_download_never_hands_a_spreadsheet_a_formula(world, make_client):
    create_member(world.village_a1, "=HYPERLINK(1)", user_id=world.member_a1.id)
    response = make_client(world.member_a1.login).get(f"{BASE}/me/data.xlsx")
    record = {
        row[0]: row[1]
        for row in load_workbook(io.BytesIO(response.data))["会员档案"].iter_rows(values_only=True)
    }
    assert record["姓名"] == "'=HYPERLINK(1)"


def test_the_personal_data_page_speaks_the_members_language(world, make_client):
    from tests.factories import create_event

    _own_member(world)
    event = create_event(world.village_a1, title="健康讲座")
    member = make_client(world.member_a1.login)
    assert member.post(f"/a/village-a1/events/{event.id}/signup").status_code in (302, 303)
    page = member.get(f"{BASE}/me/data").get_data(as_text=True)
    assert "健康讲座" in page and "已报名" in page
    assert "confirmed" not in page
    assert "字段" not in page and "价值" not in page
    assert "登记内容" in page
