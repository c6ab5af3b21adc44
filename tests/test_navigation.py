"""The menu of an association's pages is kept per association, role and language: each page
still shows the menu of its own association, for the viewer's role, in the viewer's language."""

import re


def _menu_links(page: str) -> list[str]:
    nav = re.search(r"<nav>(.*?)</nav>", page, re.S).group(1)
    return re.findall(r'<a href="(/a/[^"]+)"', nav)


def test_the_menu_follows_the_role_and_the_association(world, make_client):
    secretary = make_client(world.secretary_a1.login).get("/a/village-a1/").text
    staff = make_client(world.staff_a1.login).get("/a/village-a1/").text
    member = make_client(world.member_a1.login).get("/a/village-a1/").text
    other = make_client(world.secretary_a2.login).get("/a/village-a2/").text
    assert "/a/village-a1/settings" in _menu_links(secretary)
    assert "/a/village-a1/settings" not in _menu_links(staff)
    assert 'data-testid="nav-members"' in staff and 'data-testid="nav-members"' not in member
    assert 'data-testid="nav-my-details"' in member
    assert all(link.startswith("/a/village-a1/") for link in _menu_links(secretary))
    assert _menu_links(other) and all(
        link.startswith("/a/village-a2/") for link in _menu_links(other)
    )


def test_the_menu_shows_the_oversight_pages_above_the_grassroots(world, make_client):
    auditor = make_client(world.county_auditor.login).get("/a/county/").text
    village = make_client(world.county_auditor.login).get("/a/village-a1/").text
    assert 'data-testid="nav-reviews"' in auditor and 'data-testid="nav-children"' not in auditor
    assert 'data-testid="nav-reviews"' not in village
    township = make_client(world.township_a_secretary.login).get("/a/township-a/").text
    assert 'data-testid="nav-children"' in township


def test_the_menu_speaks_the_viewers_language(world, make_client, client_for):
    chinese = make_client(world.secretary_a1.login).get("/a/village-a1/").text
    english = client_for(world.secretary_a1.login).get("/a/village-a1/").text
    assert ">会员</a>" in chinese and ">Members</a>" not in chinese
    assert ">Members</a>" in english
