"""A member's own details offer no household; she asks to move, and the secretary or staff
approve (choosing or creating the household) or decline with a reason she sees."""

import pytest
from sqlalchemy import select

from app.core.audit import AuditLog
from app.extensions import db
from app.members import moves, services
from app.members.models import Household, HouseholdMoveRequest, Member, MoveRequestStatus
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tests.factories import create_household, create_member

ME = "/a/village-a1/members/me"
MOVES = "/a/village-a1/members/moves"


@pytest.fixture
def her(world):
    """会员甲, the signed-in member's own record, living at 老家1号."""
    home = create_household(world.village_a1, "老家1号").id
    return create_member(
        world.village_a1, "会员甲", household_id=home, user_id=world.member_a1.id
    ).id


def _member(world, member_id) -> Member:
    with tenant_context(scope_for(world.village_a1, writable=False)):
        member = db.session.scalar(
            select(Member).where(Member.id == member_id).execution_options(populate_existing=True)
        )
        db.session.expunge(member)
    return member


def _moves() -> list[HouseholdMoveRequest]:
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        rows = db.session.scalars(
            select(HouseholdMoveRequest)
            .order_by(HouseholdMoveRequest.id)
            .execution_options(populate_existing=True)
        ).all()
        for row in rows:
            db.session.expunge(row)
    return list(rows)


def _ask(client, address="新家2号", note="五月搬家"):
    return client.post(f"{ME}/move", {"new_address": address, "note": note})


# --- her own details ---------------------------------------------------------------------------


def test_her_details_page_lists_no_other_household(world, client_for, her):
    create_household(world.village_a1, "别人家9号")
    page = client_for(world.member_a1.login).get(ME).text
    assert "老家1号" in page  # her own, read-only
    assert "别人家9号" not in page
    assert 'name="household_id"' not in page
    assert 'name="new_address"' in page


def test_a_posted_household_is_refused_and_nothing_changes(world, client_for, her):
    other = create_household(world.village_a1, "别人家9号").id
    client = client_for(world.member_a1.login)
    response = client.post(ME, {"phone": "13800000002", "household_id": str(other)})
    assert response.status_code == 422
    assert "ask to move household below" in response.text
    member = _member(world, her)
    assert member.household_id != other and member.phone_masked is None


# --- asking -----------------------------------------------------------------------------------


def test_she_asks_to_move_and_the_secretaries_are_told(world, client_for, her, outbox):
    response = _ask(client_for(world.member_a1.login))
    assert response.status_code == 303
    [move] = _moves()
    assert (move.member_id, move.new_address, move.note) == (her, "新家2号", "五月搬家")
    assert move.from_address == "老家1号" and move.status == MoveRequestStatus.PENDING
    assert _member(world, her).household_id is not None  # not moved yet
    assert [message.to for message in outbox] == [world.secretary_a1.login]
    assert "http://localhost/a/village-a1/members/moves" in outbox[0].body  # followable
    assert "新家2号" not in outbox[0].body and "会员甲" not in outbox[0].body
    page = client_for(world.member_a1.login).get(ME).text
    assert "新家2号" in page and 'name="new_address"' not in page
    with UNSCOPED_BYPASS("test assertion reads the audit log"):
        actions = db.session.scalars(select(AuditLog.action)).all()
    assert "household_move_requested" in actions


def test_one_open_request_at_a_time_and_an_address_is_needed(world, client_for, her):
    client = client_for(world.member_a1.login)
    empty = _ask(client, address="  ")
    assert empty.status_code == 422
    assert "Enter the address you are moving to." in empty.text
    assert _ask(client).status_code == 303
    again = _ask(client, address="第三家")
    assert again.status_code == 422
    assert "You have already asked to move household" in again.text
    assert len(_moves()) == 1


def test_someone_without_a_member_record_cannot_ask(world, client_for):
    assert _ask(client_for(world.member_a1.login)).status_code == 404
    assert _moves() == []


# --- deciding ---------------------------------------------------------------------------------


def test_the_secretary_approves_into_an_existing_household(world, client_for, her, outbox):
    target = create_household(world.village_a1, "新家2号").id
    _ask(client_for(world.member_a1.login))
    [move] = _moves()
    outbox.clear()
    secretary = client_for(world.secretary_a1.login)
    listing = secretary.get(MOVES).text
    assert "会员甲" in listing and "新家2号" in listing and "老家1号" in listing
    assert "Asks to move to 新家2号." in secretary.get(f"/a/village-a1/members/{her}").text
    response = secretary.post(f"{MOVES}/{move.id}/approve", {"household_id": str(target)})
    assert response.status_code == 303
    assert _member(world, her).household_id == target
    [move] = _moves()
    assert move.status == MoveRequestStatus.APPROVED and move.moved_to_address == "新家2号"
    assert move.decided_by_id == world.secretary_a1.id
    assert [message.to for message in outbox] == [world.member_a1.login]
    page = client_for(world.member_a1.login).get(ME).text
    assert "Approved" in page and "now registered at 新家2号" in page


def test_staff_approve_into_a_new_household_at_the_given_address(world, client_for, her):
    _ask(client_for(world.member_a1.login), address="幸福路8号")
    [move] = _moves()
    response = client_for(world.staff_a1.login).post(
        f"{MOVES}/{move.id}/approve", {"household_id": "0", "address": "幸福路8号 3单元"}
    )
    assert response.status_code == 303
    with tenant_context(scope_for(world.village_a1, writable=False)):
        created = db.session.scalar(select(Household).where(Household.address == "幸福路8号 3单元"))
        assert created is not None
        assert _member(world, her).household_id == created.id


def test_the_secretary_declines_with_a_reason_the_member_sees(world, client_for, her, outbox):
    _ask(client_for(world.member_a1.login))
    [move] = _moves()
    outbox.clear()
    secretary = client_for(world.secretary_a1.login)
    no_reason = secretary.post(f"{MOVES}/{move.id}/decline", {"reason": " "})
    assert no_reason.status_code == 422
    assert "Give the reason for declining" in no_reason.text
    response = secretary.post(f"{MOVES}/{move.id}/decline", {"reason": "地址不在本社区"})
    assert response.status_code == 303
    [move] = _moves()
    assert move.status == MoveRequestStatus.DECLINED and move.decision_note == "地址不在本社区"
    assert _member(world, her).household_id is not None
    assert [message.to for message in outbox] == [world.member_a1.login]
    assert "地址不在本社区" in outbox[0].body
    page = client_for(world.member_a1.login).get(ME).text
    assert "Declined" in page and "地址不在本社区" in page
    assert 'name="new_address"' in page  # she may ask again


def test_a_decided_request_cannot_be_decided_again(world, client_for, her):
    _ask(client_for(world.member_a1.login))
    [move] = _moves()
    secretary = client_for(world.secretary_a1.login)
    assert secretary.post(f"{MOVES}/{move.id}/decline", {"reason": "不对"}).status_code == 303
    again = secretary.post(f"{MOVES}/{move.id}/approve", {"household_id": "0", "address": "x"})
    assert again.status_code == 422
    assert _moves()[0].status == MoveRequestStatus.DECLINED


def test_approving_into_another_associations_household_is_refused(world, client_for, her):
    foreign = create_household(world.village_a2, "邻村1号").id
    _ask(client_for(world.member_a1.login))
    [move] = _moves()
    response = client_for(world.secretary_a1.login).post(
        f"{MOVES}/{move.id}/approve", {"household_id": str(foreign)}
    )
    assert response.status_code == 422
    assert "Choose a household of this association." in response.text
    assert _member(world, her).household_id != foreign


# --- who may ----------------------------------------------------------------------------------


def test_members_auditors_and_other_associations_cannot_decide(world, client_for, her):
    _ask(client_for(world.member_a1.login))
    [move] = _moves()
    approve = f"{MOVES}/{move.id}/approve"
    assert client_for(world.member_a1.login).get(MOVES).status_code == 403
    assert client_for(world.member_a1.login).post(approve, {"household_id": "0"}).status_code == 403
    assert client_for(world.county_auditor.login).post(approve, {}).status_code == 403
    assert client_for(world.secretary_a2.login).post(approve, {}).status_code == 404
    # village_a2's secretary under her own slug: the id is not hers.
    foreign = client_for(world.secretary_a2.login).post(
        f"/a/village-a2/members/moves/{move.id}/decline", {"reason": "x"}
    )
    assert foreign.status_code == 404
    assert _moves()[0].status == MoveRequestStatus.PENDING


def test_a_request_is_for_herself_only(world, client_for, her):
    """The form has no member field; whatever is posted, the request is hers."""
    other = create_member(world.village_a1, "别人").id
    _ask(client_for(world.member_a1.login))
    client_for(world.member_a1.login).post(
        f"{ME}/move", {"new_address": "x", "member_id": str(other)}
    )
    assert [move.member_id for move in _moves()] == [her]


def test_a_member_cannot_write_the_request_through_the_service_for_someone_else(world, her):
    other_association_member = create_member(world.village_a2, "邻村会员")
    with tenant_context(scope_for(world.village_a1, writable=False)):
        with pytest.raises(moves.MoveRequestError):
            moves.request_move(
                other_association_member, user_id=world.member_a1.id, new_address="x"
            )
        db.session.rollback()
    assert _moves() == []


def test_erasing_the_member_removes_her_requests(world, client_for, her):
    _ask(client_for(world.member_a1.login))
    with tenant_context(scope_for(world.village_a1, writable=True)):
        services.erase_member(services.load_member(her))
        db.session.commit()
    assert _moves() == []


def test_her_requests_are_in_her_data(world, client_for, her):
    _ask(client_for(world.member_a1.login), address="新家2号", note="五月搬家")
    page = client_for(world.member_a1.login).get("/a/village-a1/members/me/data").text
    assert "Household moves" in page and "新家2号" in page and "五月搬家" in page
