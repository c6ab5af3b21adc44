"""On a phone: a volunteer sees the shift short of people, signs up in one tap, and finds it
under "my volunteering"; the secretary's shift page fits the phone too."""

from datetime import timedelta

from playwright.sync_api import expect

from tenants.models import Role
from tests import factories
from tests.e2e.helpers import e2e_login, open_menu, screenshot
from tests.volunteers.makers import create_shift, create_volunteer


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_volunteer_fills_a_gap_from_the_phone(live_server, page):
    world = factories.build_world()
    user = factories.create_user("13900000021", "冯志愿", roles=[(world.village_a1, Role.MEMBER)])
    create_volunteer(world.village_a1, "冯志愿", user=user)
    shift = create_shift(
        world.village_a1, "周六义诊现场引导", starts_in=timedelta(days=2), people_needed=1
    )

    e2e_login(page, live_server, user.login)
    page.goto(f"{live_server.url}/a/{world.village_a1.slug}/")
    open_menu(page)
    page.click("[data-testid=nav-volunteers]")
    expect(page.get_by_test_id("gap-count")).to_contain_text("有 1 个即将开始的班次缺人")
    assert fits_the_phone(page)
    page.get_by_test_id("gap-count").click()
    card = page.get_by_test_id(f"shift-{shift.id}")
    expect(card).to_contain_text("还差 1 人")
    card.get_by_test_id(f"signup-{shift.id}").click()
    expect(page.get_by_test_id("my-status")).to_contain_text("您已报名本班次")
    screenshot(page, "volunteers-signed-up")

    page.goto(f"{live_server.url}/a/{world.village_a1.slug}/volunteers/")
    expect(page.get_by_test_id("gap-count")).to_contain_text("人员均已到位")
    page.click("[data-testid=nav-my-volunteering]")
    expect(page.get_by_test_id("my-shifts")).to_contain_text("周六义诊现场引导")
    assert fits_the_phone(page)

    open_menu(page)
    page.click("[data-testid=logout]")
    e2e_login(page, live_server, world.secretary_a1.login)
    page.goto(f"{live_server.url}/a/{world.village_a1.slug}/volunteers/shifts/{shift.id}")
    expect(page.get_by_test_id("on-shift")).to_contain_text("冯志愿")
    assert fits_the_phone(page)
    screenshot(page, "volunteers-shift-secretary")
