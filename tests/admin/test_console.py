"""The platform console: top-level tenants with usage figures, suspending a subtree."""

from sqlalchemy import select

from app.extensions import db
from tenants.models import Association


def test_only_platform_operators_reach_the_console(world, client_for):
    for login in (world.secretary_a1.login, world.county_auditor.login):
        client = client_for(login)
        assert client.get("/admin/").status_code == 403
        assert client.get(f"/admin/associations/{world.county.id}").status_code == 403
        assert client.post(f"/admin/associations/{world.county.id}/suspend").status_code == 403
    assert db.session.get(Association, world.county.id).suspended_at is None


def test_console_lists_top_level_tenants_with_usage(world, client_for, count_queries):
    from app.members.models import MemberStatus
    from tests.factories import create_member

    create_member(world.village_a1, "张一")
    create_member(world.village_b1, "李二")
    create_member(world.village_b1, "王三", status=MemberStatus.LEFT)
    admin = client_for(world.admin.login)
    admin.get("/admin/")
    with count_queries() as statements:
        page = admin.get("/admin/").get_data(as_text=True)
    row = page.split('data-testid="top-associations"')[1].split("</tr>", 2)[1]
    assert "province计生协" in row
    # 7 associations; 8 people with roles (the operator holds none); the "members" column counts
    # the registers' active members (2 here, one left), not the one login with the member role.
    cells = [cell.split("</td>")[0] for cell in row.split('<td class="num">')[1:]]
    assert cells[:3] == ["7", "8", "2"]
    detail = admin.get(f"/admin/associations/{world.township_a.id}").get_data(as_text=True)
    assert "township-a计生协" in detail
    # A second top-level tenant adds no query per row.
    from tenants.models import AssociationKind
    from tests.factories import create_tree_node

    create_tree_node("other-province", AssociationKind.PROVINCE, None)
    with count_queries() as more:
        admin.get("/admin/")
    assert len(more) == len(statements)


def test_a_suspended_subtree_is_read_only_with_a_notice(world, client_for):
    admin = client_for(world.admin.login)
    assert admin.post(f"/admin/associations/{world.township_a.id}/suspend").status_code == 303
    db.session.commit()
    suspended = db.session.scalars(
        select(Association.slug).where(Association.suspended_at.is_not(None))
    ).all()
    assert sorted(suspended) == ["township-a", "village-a1", "village-a2"]

    secretary = client_for(world.secretary_a1.login)
    home = secretary.get("/a/village-a1/")
    assert home.status_code == 200
    assert "This association has been suspended" in home.get_data(as_text=True)
    assert secretary.get("/a/village-a1/people").status_code == 200
    refused = secretary.post("/a/village-a1/settings", {"name": "改名"})
    assert refused.status_code == 423
    assert "suspended" in refused.get_data(as_text=True)
    db.session.commit()
    assert db.session.get(Association, world.village_a1.id).name == "village-a1计生协"
    # Other branches carry on.
    assert client_for(world.secretary_b1.login).get("/a/village-b1/").status_code == 200
    assert "suspended" not in client_for(world.secretary_b1.login).get("/a/village-b1/").get_data(
        as_text=True
    )

    assert admin.post(f"/admin/associations/{world.township_a.id}/unsuspend").status_code == 303
    assert secretary.post("/a/village-a1/settings", {"name": "改名"}).status_code == 303
