"""The figures above the member list (households, central and linked households, pending moves,
tags in use) are kept per association in each worker: a change shows at once, another
association never sees them, and a rolled-back change keeps them."""

import re

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.members import households, moves, register_figures, services
from app.members.models import Member
from tenants.context import scope_for, tenant_context
from tenants.models import Association
from tests.factories import create_household, create_member, reload

LIST_A1 = "/a/village-a1/members/"
LIST_A2 = "/a/village-a2/members/"


def _counts(page: str) -> list[int]:
    """The figures of the counts line: active members, households, central, linked."""
    line = re.search(r'data-testid="register-counts">([^<]*)<', page).group(1)
    return [int(number.replace(",", "")) for number in re.findall(r"[\d,]+", line)]


def _found(page: str) -> int:
    line = re.search(r'data-testid="member-total">([^<]*)<', page).group(1)
    return int(re.search(r"[\d,]+", line).group(0).replace(",", ""))


def _tags(page: str) -> set[str]:
    tag_select = re.search(r'<select name="tag">(.*?)</select>', page, re.S).group(1)
    return set(re.findall(r'<option value="([^"]+)"', tag_select))


def _pending_moves(page: str) -> str:
    return re.search(r'data-testid="household-moves">([^<]*)<', page).group(1)


def _stamp(association: Association) -> str:
    return reload(Association, association.id).register_stamp


def test_a_change_to_the_register_shows_on_the_member_list_at_once(world, make_client):
    client = make_client(world.secretary_a1.login)
    page = client.get(LIST_A1).text
    assert _counts(page) == [0, 0, 0, 0] and "村医" not in _tags(page)

    central_id = create_household(world.village_a1, "中心户1号", central=True).id
    page = client.get(LIST_A1).text
    assert _counts(page) == [0, 1, 1, 0]

    linked_id = create_household(world.village_a1, "联户2号").id
    with tenant_context(scope_for(world.village_a1, writable=True)):
        households.link_household(
            households.load_household(linked_id), households.load_household(central_id)
        )
        db.session.commit()
    assert _counts(client.get(LIST_A1).text) == [0, 2, 1, 1]

    member = create_member(world.village_a1, "会员甲", tags=["村医"], user_id=world.member_a1.id)
    member_id, member_user_id = member.id, member.user_id
    page = client.get(LIST_A1).text
    assert _counts(page) == [1, 2, 1, 1] and "村医" in _tags(page) and _found(page) == 1
    create_member(world.village_a1, "会员乙", status="left")
    page = client.get(LIST_A1).text
    assert _counts(page) == [1, 2, 1, 1] and _found(page) == 2
    assert "(" not in _pending_moves(page)

    with tenant_context(scope_for(world.village_a1, writable=True)):
        moves.request_move(
            services.load_member(member_id), user_id=member_user_id, new_address="新家3号"
        )
        db.session.commit()
    assert "(1)" in _pending_moves(client.get(LIST_A1).text)

    # Deleted through the page: the tag and the pending move leave the figures with her.
    assert client.post(f"{LIST_A1}{member_id}/delete").status_code == 303
    page = client.get(LIST_A1).text
    assert "村医" not in _tags(page) and "(" not in _pending_moves(page)
    assert _counts(page) == [0, 2, 1, 1] and _found(page) == 1


def test_a_bulk_update_of_the_register_renews_the_stamp(world, make_client):
    create_member(world.village_a1, "会员甲")
    client = make_client(world.secretary_a1.login)
    assert "村医" not in _tags(client.get(LIST_A1).text)
    before = _stamp(world.village_a1)
    with tenant_context(scope_for(world.village_a1, writable=True)):
        db.session.execute(update(Member).values(tags_text="|村医|"))
        db.session.commit()
    assert _stamp(world.village_a1) != before
    assert "村医" in _tags(client.get(LIST_A1).text)


def test_a_rolled_back_change_keeps_the_stamp(world):
    before = _stamp(world.village_a1)
    with tenant_context(scope_for(world.village_a1, writable=True)):
        services.create_member(services.MemberInput(name="会员乙"))
        db.session.flush()
        db.session.rollback()
    assert _stamp(world.village_a1) == before


def test_another_association_never_sees_the_figures(world, make_client):
    create_household(world.village_a1, "中心户1号", central=True)
    create_member(world.village_a1, "会员甲", tags=["村医"])
    page_a1 = make_client(world.secretary_a1.login).get(LIST_A1).text
    assert _counts(page_a1) == [1, 1, 1, 0] and "村医" in _tags(page_a1)

    page_a2 = make_client(world.secretary_a2.login).get(LIST_A2).text
    assert _counts(page_a2) == [0, 0, 0, 0] and "村医" not in _tags(page_a2)
    # Even with both stamps made equal, each association reads its own entry.
    with tenant_context(scope_for(world.village_a1, writable=False)):
        stamp_a1 = db.session.scalar(
            select(Association.register_stamp).where(Association.id == world.village_a1.id)
        )
    db.session.execute(
        update(Association)
        .where(Association.id == world.village_a2.id)
        .values(register_stamp=stamp_a1)
    )
    db.session.commit()
    page_a2 = make_client(world.secretary_a2.login).get(LIST_A2).text
    assert _counts(page_a2) == [0, 0, 0, 0] and "村医" not in _tags(page_a2)


def test_figures_are_read_only_in_the_associations_own_scope(world):
    village_a1 = reload(Association, world.village_a1.id)
    with tenant_context(scope_for(world.village_a2, writable=False)), pytest.raises(ValueError):
        register_figures.figures_of(village_a1)
