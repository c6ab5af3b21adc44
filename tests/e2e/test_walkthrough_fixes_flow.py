"""The pages changed for the walk-through's defects, at 375 px: nothing overflows sideways, and
screenshots land in test-artefacts/ for review. Hours recorded after the fact from the phone."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.core.clock import CHINA, utcnow
from tests import factories
from tests.e2e.helpers import e2e_login, screenshot
from tests.volunteers.makers import create_shift, create_volunteer

pytestmark = pytest.mark.e2e


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, (page.url, width)


def test_the_secretarys_changed_pages_fit_a_phone(live_server, page):
    world = factories.build_world()
    # Ids read at once: a later commit expires the objects, and row-level security hides them
    # outside their association's scope.
    member_id = factories.create_member(world.village_a1, "李四", phone="13800001234").id
    household_id = factories.create_household(world.village_a1, "幸福路9号").id
    volunteer_id = create_volunteer(world.village_a1, "王秀英", phone="13800005678").id
    create_volunteer(world.village_a1, "王秀英", phone="13900001111")
    shift_id = create_shift(world.village_a1, "周末值守").id
    e2e_login(page, live_server, world.secretary_a1.login)
    base = f"{live_server.url}/a/village-a1"
    for name, path in (
        ("member-show", f"/members/{member_id}"),
        ("household-show", f"/households/{household_id}"),
        ("dues-index", "/dues/"),
        ("audit-log", "/audit"),
        ("volunteer-past-hours", f"/volunteers/people/{volunteer_id}"),
        ("shift-picker", f"/volunteers/shifts/{shift_id}"),
        ("volunteer-certificate", f"/volunteers/people/{volunteer_id}/certificate"),
    ):
        page.goto(base + path)
        _fits(page)
        screenshot(page, f"walkthrough-{name}-phone")

    # Hours after the fact, from the phone.
    page.goto(f"{base}/volunteers/people/{volunteer_id}")
    served_on = (utcnow() - timedelta(days=2)).astimezone(CHINA).date()
    form = page.get_by_test_id("past-hours-form")
    form.locator("input[name=title]").fill("上门探访独居老人")
    form.locator("input[name=served_on]").fill(served_on.isoformat())
    form.locator("input[name=hours]").fill("2.5")
    form.locator("button[type=submit]").click()
    expect(page.locator(".flashes")).to_contain_text("时长已登记并确认")
    expect(page.get_by_test_id("year-hours")).to_contain_text("2.5")
    _fits(page)
    screenshot(page, "walkthrough-volunteer-hours-recorded-phone")


def test_the_members_changed_pages_fit_a_phone(live_server, page):
    world = factories.build_world()
    factories.create_member(world.village_a1, "会员甲", user_id=world.member_a1.id)
    e2e_login(page, live_server, world.member_a1.login)
    for name, path in (("my-data", "/members/me/data"), ("my-dues", "/dues/my")):
        page.goto(f"{live_server.url}/a/village-a1{path}")
        _fits(page)
        screenshot(page, f"walkthrough-{name}-phone")


def test_the_console_move_shows_what_changes_hands_on_a_phone(live_server, page):
    world = factories.build_world()
    factories.create_member(world.village_a2, "张一")
    e2e_login(page, live_server, world.admin.login)
    page.goto(f"{live_server.url}/admin/")
    _fits(page)
    screenshot(page, "walkthrough-console-phone")
    page.goto(f"{live_server.url}/admin/associations/{world.village_a2.id}/move")
    page.fill("input[name=new_parent]", world.township_b.slug)
    page.click("button[type=submit].primary")
    expect(page.get_by_test_id("move-preview")).to_contain_text("township-b计生协")
    _fits(page)
    screenshot(page, "walkthrough-console-move-preview-phone")
    page.fill("input[name=confirm_name]", world.village_a2.name)
    page.get_by_test_id("confirm-move").click()
    expect(page.locator(".flashes")).to_contain_text(world.village_a2.name)
