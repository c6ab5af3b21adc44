"""List pages of the foundation run a fixed number of SQL queries whatever their length."""

import pytest

from app.core.audit import AuditLog
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Role
from tests import factories


def _queries_for(count_queries, client, url) -> int:
    # The first request after signing in also stores what the session learns once (whether a
    # second factor is required): warm up, then count what every request costs.
    client.get(url)
    with count_queries() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_the_audit_log_page_costs_the_same_for_5_or_50_entries(world, make_client, count_queries):
    client = make_client(world.secretary_a1.login)
    url = f"/a/{world.village_a1.slug}/audit"

    def add_entries(n):
        with UNSCOPED_BYPASS("test fills the audit log"):
            for i in range(n):
                db.session.add(
                    AuditLog(
                        action="update",
                        association_id=world.village_a1.id,
                        user_id=world.secretary_a1.id,
                        target_type="Thing",
                        target_id=i,
                    )
                )
            db.session.commit()

    add_entries(5)
    few = _queries_for(count_queries, client, url)
    add_entries(45)
    many = _queries_for(count_queries, client, url)
    assert few == many


def test_the_people_page_costs_the_same_for_3_or_30_people(world, make_client, count_queries):
    client = make_client(world.secretary_a1.login)
    url = f"/a/{world.village_a1.slug}/people"
    few = _queries_for(count_queries, client, url)
    for i in range(27):
        factories.create_user(f"extra{i}@test.cn", roles=[(world.village_a1, Role.MEMBER)])
    many = _queries_for(count_queries, client, url)
    assert few == many


def test_the_member_list_runs_a_fixed_number_of_statements_whatever_its_length(
    world, make_client, count_queries
):
    """Four: the stored session (in the database here, in Redis in production), the session
    check (with the header's unread count), the association and the page; a search adds its
    count. The access, the register's figures (members, households, moves, tags) and the menu
    come from the worker's memory once warm; entering the tenant scope, once, is not counted."""
    client = make_client(world.secretary_a1.login)
    url = f"/a/{world.village_a1.slug}/members/"
    few = _queries_for(count_queries, client, url)
    searched = _queries_for(count_queries, client, url + "?q=会员")
    household_id = factories.create_household(world.village_a1, "幸福路2号", central=True).id
    for i in range(30):
        factories.create_member(world.village_a1, f"会员{i}", household_id=household_id)
    assert few == _queries_for(count_queries, client, url) == 4
    assert searched == _queries_for(count_queries, client, url + "?q=会员") == 5


@pytest.mark.own_app  # adds a URL rule, which Flask allows only before the first request
def test_a_server_error_shows_a_friendly_translated_page(world, make_client):
    app = make_client().raw.application

    def broken():
        raise RuntimeError("boom")

    app.add_url_rule("/boom", "boom", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # behave as in production, not as in testing
    response = make_client().get("/boom")
    assert response.status_code == 500
    assert "系统出现错误" in response.text and "RuntimeError" not in response.text
