"""My account → Sessions on a phone: two browsers signed in as one person; the phone sees both,
marks itself, and signs the other out."""

from playwright.sync_api import expect

from tests import factories
from tests.e2e.helpers import e2e_login, open_menu, screenshot


def test_a_phone_lists_its_sessions_and_signs_the_other_browser_out(live_server, browser, page):
    world = factories.build_world()
    laptop = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    laptop_page = laptop.new_page()
    e2e_login(laptop_page, live_server, world.secretary_a1.login)
    e2e_login(page, live_server, world.secretary_a1.login)

    open_menu(page)
    page.click("[data-testid=nav-sessions]")
    expect(page.locator("h1")).to_have_text("登录设备")
    expect(page.get_by_test_id("session")).to_have_count(2)
    expect(page.locator("[data-this-device]")).to_contain_text("本设备")
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "sessions-phone")

    page.click("[data-testid=end-other-sessions]")
    expect(page.locator(".flash")).to_contain_text("已退出其他 1 处登录")
    expect(page.get_by_test_id("session")).to_have_count(1)

    laptop_page.goto(f"{live_server.url}/a/{world.village_a1.slug}/members/")
    expect(laptop_page.locator("h1")).to_have_text("登录")
    expect(laptop_page.locator(".flash")).to_contain_text("登录已超时")
    laptop.close()
