"""Undo for the registers' deletes (issue 18): a member or household the secretary deletes leaves
every list, search, figure and export at once, can be restored from "Recently deleted" for 30
days, and is erased by the nightly purge after that. A deletion the member asks for (PIPL) is
still erased at once."""

from datetime import timedelta

from sqlalchemy import func, select, update

from app.core.clock import china_today, utcnow
from app.core.soft_delete import INCLUDE_DELETED
from app.dashboards import rollup
from app.extensions import db
from app.members import households, services
from app.members.models import Household, Member, PersonalDataRequest
from app.members.purge import purge_deleted_registers
from tenants.context import UNSCOPED_BYPASS, scope_for, subtree_reads, tenant_context
from tests.factories import create_household, create_member

BASE = "/a/village-a1"


def _rows(model, **where) -> int:
    """Rows in the table, deleted ones included."""
    with UNSCOPED_BYPASS("test: count rows, deleted ones too"):
        query = select(func.count()).select_from(model).execution_options(**INCLUDE_DELETED)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return db.session.scalar(query)


def _member_of_household(member_id: int) -> int | None:
    with UNSCOPED_BYPASS("test: read the member's household"):
        return db.session.scalar(
            select(Member.household_id)
            .where(Member.id == member_id)
            .execution_options(**INCLUDE_DELETED)
        )


def test_a_deleted_member_leaves_the_lists_and_comes_back_when_restored(world, make_client):
    kept = create_member(world.village_a1, "王五").id
    gone = create_member(world.village_a1, "李四", phone="13812345678").id
    secretary = make_client(world.secretary_a1.login)

    response = secretary.post(f"{BASE}/members/{gone}/delete")
    assert response.status_code == 303
    assert "最近删除" in secretary.get(response.location).text  # the flash says where to undo
    listing = secretary.get(f"{BASE}/members/").text
    assert "王五" in listing and "李四" not in listing
    assert f'/members/{gone}"' not in secretary.get(f"{BASE}/members/?q=李四").text
    assert "李四" not in secretary.get(f"{BASE}/members/export?format=csv").data.decode()
    assert secretary.get(f"{BASE}/members/{gone}").status_code == 404
    assert secretary.post(f"{BASE}/members/{gone}/delete").status_code == 404
    with tenant_context(scope_for(world.village_a1, writable=False)):
        assert services.register_counts()["members"] == 1
    assert _rows(Member, id=gone) == 1  # kept for the undo

    deleted_page = secretary.get(f"{BASE}/members/deleted").text
    assert "李四" in deleted_page and "王五" not in deleted_page
    response = secretary.post(f"{BASE}/members/{gone}/restore")
    assert response.status_code == 303 and response.location.endswith(f"/members/{gone}")
    page = secretary.get(f"{BASE}/members/{gone}").text
    assert "李四" in page and "13812345678" in page  # the encrypted phone came back too
    assert "李四" in secretary.get(f"{BASE}/members/").text
    assert "李四" not in secretary.get(f"{BASE}/members/deleted").text
    assert secretary.post(f"{BASE}/members/{kept}/restore").status_code == 404


def test_only_the_secretary_sees_and_restores_deleted_members(world, make_client):
    gone = create_member(world.village_a1, "李四").id
    make_client(world.secretary_a1.login).post(f"{BASE}/members/{gone}/delete")
    for login in (world.staff_a1.login, world.member_a1.login, world.county_auditor.login):
        client = make_client(login)
        assert client.get(f"{BASE}/members/deleted").status_code == 403
        assert client.post(f"{BASE}/members/{gone}/restore").status_code == 403
    sibling = make_client(world.secretary_a2.login)
    assert "李四" not in sibling.get("/a/village-a2/members/deleted").text
    assert sibling.post(f"/a/village-a2/members/{gone}/restore").status_code == 404
    assert _rows(Member, id=gone, deleted_at=None) == 0


def test_the_dashboard_figures_count_only_live_members(world, make_client):
    for number in range(3):
        create_member(world.village_a1, f"会员{number}")
    gone = create_member(world.village_a1, "李四").id
    make_client(world.secretary_a1.login).post(f"{BASE}/members/{gone}/delete")
    with tenant_context(scope_for(world.township_a, writable=False)), subtree_reads():
        figures, _as_of = rollup.read_total(world.township_a, china_today().year)
    assert figures.members == 3
    make_client(world.secretary_a1.login).post(f"{BASE}/members/{gone}/restore")
    with tenant_context(scope_for(world.township_a, writable=False)), subtree_reads():
        figures, _as_of = rollup.read_total(world.township_a, china_today().year)
    assert figures.members == 4


def test_adding_the_same_phone_again_points_to_the_deleted_record(world, make_client):
    gone = create_member(world.village_a1, "李四", phone="13812345678").id
    secretary = make_client(world.secretary_a1.login)
    secretary.post(f"{BASE}/members/{gone}/delete")
    response = secretary.post(f"{BASE}/members/new", {"name": "李四", "phone": "13812345678"})
    assert response.status_code == 422
    assert "最近删除" in response.text
    assert _rows(Member, name="李四") == 1


def test_a_deleted_household_comes_back_with_its_members(world, make_client):
    household = create_household(world.village_a1, "幸福路9号").id
    member = create_member(world.village_a1, "李四", household_id=household).id
    secretary = make_client(world.secretary_a1.login)
    response = secretary.post(f"/a/village-a1/households/{household}/delete")
    assert response.status_code == 303
    assert "幸福路9号" not in secretary.get("/a/village-a1/households/").text
    assert secretary.get(f"/a/village-a1/households/{household}").status_code == 404
    assert _member_of_household(member) is None
    assert "幸福路9号" in secretary.get(f"{BASE}/members/deleted").text

    response = secretary.post(f"/a/village-a1/households/{household}/restore")
    assert response.status_code == 303
    assert _member_of_household(member) == household
    assert "幸福路9号" in secretary.get("/a/village-a1/households/").text
    assert "李四" in secretary.get(f"/a/village-a1/households/{household}").text


def test_a_restored_linked_household_is_linked_again(world):
    central = create_household(world.village_a1, "中心", central=True)
    linked = create_household(world.village_a1, "联户").id
    with tenant_context(scope_for(world.village_a1, writable=True)):
        households.link_household(households.load_household(linked), central)
        households.delete_household(households.load_household(linked))
        # Its central household may stop being one while it is deleted.
        assert households.linked_count(central.id) == 0
        households.restore_household(households.load_deleted_household(linked))
        db.session.commit()
        assert households.load_household(linked).central_household_id == central.id


def test_a_deletion_the_member_asks_for_is_still_erased_at_once(world, make_client):
    own = create_member(world.village_a1, "会员甲", user_id=world.member_a1.id).id
    make_client(world.member_a1.login).post(f"{BASE}/members/me/data/delete", {"reason": ""})
    secretary = make_client(world.secretary_a1.login)
    # Even when the secretary deleted the record in the meantime.
    secretary.post(f"{BASE}/members/{own}/delete")
    with UNSCOPED_BYPASS("test: find the request"):
        request_id = db.session.scalar(select(PersonalDataRequest.id))
    response = secretary.post(f"{BASE}/members/data-requests/{request_id}", {"action": "carry_out"})
    assert response.status_code == 303
    assert _rows(Member, id=own) == 0
    assert f"deleted-member-{own}" not in secretary.get(f"{BASE}/members/deleted").text


def test_the_purge_erases_what_was_deleted_more_than_30_days_ago(world, make_client):
    old = create_member(world.village_a1, "旧删除").id
    recent = create_member(world.village_a1, "新删除").id
    old_household = create_household(world.village_a1, "旧户").id
    secretary = make_client(world.secretary_a1.login)
    for member_id in (old, recent):
        secretary.post(f"{BASE}/members/{member_id}/delete")
    secretary.post(f"/a/village-a1/households/{old_household}/delete")
    with UNSCOPED_BYPASS("test: back-date the deletions"):
        for model, row_id, days in ((Member, old, 31), (Member, recent, 29)):
            db.session.execute(
                update(model)
                .where(model.id == row_id)
                .values(deleted_at=utcnow() - timedelta(days=days))
                .execution_options(**INCLUDE_DELETED)
            )
        db.session.execute(
            update(Household)
            .where(Household.id == old_household)
            .values(deleted_at=utcnow() - timedelta(days=31))
        )
        db.session.commit()

    assert purge_deleted_registers() == (1, 1)
    db.session.commit()
    assert _rows(Member, id=old) == 0
    assert _rows(Member, id=recent) == 1
    assert _rows(Household, id=old_household) == 0
    assert "新删除" in secretary.get(f"{BASE}/members/deleted").text
