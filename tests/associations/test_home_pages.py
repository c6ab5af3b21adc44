"""Home pages by role: the secretary's "today" with first steps that tick themselves, a
member's own dues, events, hours and check-in code, and a higher level's oversight tiles; each
tile opens its list, and each page runs a fixed number of queries."""

import re
from datetime import timedelta

from app.core.clock import utcnow
from tests import factories


def _home(client, association):
    response = client.get(f"/a/{association.slug}/")
    assert response.status_code == 200, response.text
    return response.text


def _tile_link(html: str, testid: str) -> str:
    found = re.search(rf'<a class="home-tile[^"]*" href="([^"]+)" data-testid="{testid}"', html)
    assert found, f"tile {testid} missing"
    return found.group(1)


def test_a_new_secretary_sees_first_steps_that_tick_themselves(world, make_client):
    factories.create_member(world.village_a1, "李四")  # another association's data counts not
    client = make_client(world.secretary_a2.login)
    html = _home(client, world.village_a2)
    assert 'data-testid="home-today"' in html
    assert 'data-testid="step-members" data-done="no"' in html
    assert 'data-testid="step-team" data-done="no"' in html  # village_a1 has staff, not this one
    assert 'data-testid="step-population" data-done="yes"' in html  # the world sets it

    factories.create_member(world.village_a2, "王五")
    html = _home(client, world.village_a2)
    assert 'data-testid="step-members" data-done="yes"' in html
    assert 'data-testid="step-activities" data-done="no"' in html


def test_every_today_tile_opens_its_list(world, make_client):
    client = make_client(world.secretary_a1.login)
    html = _home(client, world.village_a1)
    slug = world.village_a1.slug
    assert _tile_link(html, "tile-activities-quarter") == f"/a/{slug}/activities/"
    assert _tile_link(html, "tile-returned") == f"/a/{slug}/checklist/"
    assert _tile_link(html, "tile-tasks") == f"/a/{slug}/oversight/tasks"
    assert _tile_link(html, "tile-arrears") == f"/a/{slug}/dues/arrears"
    assert _tile_link(html, "tile-next-event") == f"/a/{slug}/events/"
    assert _tile_link(html, "tile-shifts") == f"/a/{slug}/volunteers/gaps"
    for testid in ("tile-activities-quarter", "tile-returned", "tile-tasks", "tile-arrears"):
        assert client.get(_tile_link(html, testid)).status_code == 200

    event = factories.create_event(
        world.village_a1, "健康讲座", starts_at=utcnow() + timedelta(days=2)
    )
    html = _home(client, world.village_a1)
    assert _tile_link(html, "tile-next-event") == f"/a/{slug}/events/{event.id}"
    assert "健康讲座" in html


def test_a_member_sees_her_own_page_with_her_check_in_code(world, make_client):
    client = make_client(world.member_a1.login)
    html = _home(client, world.village_a1)
    for testid in ("home-my-dues", "home-my-events", "home-my-hours", "checkin-qr"):
        assert f'data-testid="{testid}"' in html
    assert "<svg" in html
    assert 'data-testid="member-ratio"' not in html  # not the association's recruitment target
    assert 'data-testid="home-today"' not in html


def test_an_auditor_sees_problems_review_queue_and_overdue_tasks(world, make_client):
    client = make_client(world.county_auditor.login)
    html = _home(client, world.county)
    slug = world.county.slug
    assert _tile_link(html, "tile-problems") == f"/a/{slug}/dashboard/problems"
    assert _tile_link(html, "tile-review-queue") == f"/a/{slug}/oversight/reviews"
    assert _tile_link(html, "tile-overdue") == f"/a/{slug}/oversight/tasks?state=overdue"
    assert 'data-testid="home-today"' not in html


def _queries(count_queries, client, url) -> int:
    client.get(url)  # the first request also stores what the session learns once
    with count_queries() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_each_home_page_runs_a_fixed_number_of_queries(world, make_client, count_queries):
    from tests.factories import create_event, create_member, create_task

    create_event(world.village_a1, "第一场", starts_at=utcnow() + timedelta(days=1))
    village = f"/a/{world.village_a1.slug}/"
    county = f"/a/{world.county.slug}/"
    secretary = make_client(world.secretary_a1.login)
    member = make_client(world.member_a1.login)
    auditor = make_client(world.county_auditor.login)
    before = {
        "secretary": _queries(count_queries, secretary, village),
        "member": _queries(count_queries, member, village),
        "auditor": _queries(count_queries, auditor, county),
    }
    events = []
    for i in range(6):
        create_member(world.village_a1, f"会员{i}")
        events.append(
            create_event(world.village_a1, f"活动{i}", starts_at=utcnow() + timedelta(days=i + 2))
        )
        create_task(world.village_a1, opened_by=world.township_a_secretary, title=f"整改{i}")
    for event in events[:3]:
        assert (
            member.post(f"/a/{world.village_a1.slug}/events/{event.id}/signup").status_code == 303
        )
    after = {
        "secretary": _queries(count_queries, secretary, village),
        "member": _queries(count_queries, member, village),
        "auditor": _queries(count_queries, auditor, county),
    }
    assert after == before, after


def test_every_dashboard_tile_opens_its_list(world, make_client):
    for login, slug in (
        (world.secretary_a1.login, world.village_a1.slug),
        (world.county_auditor.login, world.county.slug),
    ):
        client = make_client(login)
        html = client.get(f"/a/{slug}/dashboard/").text
        tiles = dict(
            re.findall(
                r'<a class="tile tile-link" data-testid="(tile-[a-z]+)" href="([^"]+)"', html
            )
        )
        assert {"tile-associations", "tile-members", "tile-activities", "tile-checklist"} <= set(
            tiles
        )
        assert html.count('class="tile"') == 0  # no tile that leads nowhere
        for href in tiles.values():
            assert client.get(href.replace("&amp;", "&")).status_code == 200, href
        if slug == world.village_a1.slug:
            assert tiles["tile-members"] == f"/a/{slug}/members/"
        else:
            assert "target=members" in tiles["tile-members"]


def test_staff_see_today_but_the_first_steps_are_the_secretarys(world, make_client):
    html = _home(make_client(world.staff_a1.login), world.village_a1)
    assert 'data-testid="home-today"' in html
    assert 'data-testid="first-steps"' not in html
