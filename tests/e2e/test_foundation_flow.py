"""Signing in, switching language, switching association and signing out, in a real browser."""

from playwright.sync_api import expect

from tenants.models import Role
from tests import factories
from tests.e2e.helpers import e2e_login, open_menu, screenshot


def test_secretary_signs_in_switches_language_and_association_and_signs_out(live_server, any_page):
    page = any_page
    world = factories.build_world()
    factories.create_user(
        "two.hats@test.cn",
        "两地秘书",
        roles=[(world.village_a1, Role.SECRETARY), (world.village_a2, Role.STAFF)],
    )
    width = page.viewport_name

    e2e_login(page, live_server, "two.hats@test.cn")
    # Two associations: the chooser comes first, in Chinese by default.
    expect(page.locator("h1")).to_have_text("我的协会")
    screenshot(page, f"foundation-chooser-{width}")
    page.click(f"text={world.village_a1.name}")
    expect(page.get_by_test_id("current-association")).to_contain_text(world.village_a1.name)
    expect(page.get_by_test_id("current-association")).to_contain_text("秘书长")

    open_menu(page)
    page.click("[data-testid=locale-en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("current-association")).to_contain_text("Secretary")
    expect(page.locator("dl.facts")).to_contain_text("Population served")
    screenshot(page, f"foundation-home-en-{width}")

    open_menu(page)
    page.click("[data-testid=switch-association]")
    page.click(f"text={world.village_a2.name}")
    expect(page.get_by_test_id("current-association")).to_contain_text(world.village_a2.name)
    expect(page.get_by_test_id("current-association")).to_contain_text("Staff")

    open_menu(page)
    page.click("[data-testid=locale-zh_Hans_CN]")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    open_menu(page)
    page.click("[data-testid=logout]")
    expect(page.locator("h1")).to_have_text("登录")
    expect(page.locator(".flash")).to_contain_text("您已退出登录")
    # Signed out means signed out: the association page sends us back to the login.
    page.goto(f"{live_server.url}/a/{world.village_a1.slug}/")
    expect(page).to_have_url(f"{live_server.url}/login?next=%2Fa%2F{world.village_a1.slug}%2F")


def test_county_auditor_drills_down_the_tree_on_a_phone(live_server, page):
    world = factories.build_world()
    e2e_login(page, live_server, world.county_auditor.login)
    expect(page.get_by_test_id("current-association")).to_contain_text(world.county.name)
    page.click(f"[data-testid=children] >> text={world.township_a.name}")
    page.click(f"[data-testid=children] >> text={world.village_a1.name}")
    expect(page.get_by_test_id("breadcrumb")).to_contain_text(world.county.name)
    expect(page.get_by_test_id("breadcrumb")).not_to_contain_text(world.province.name)
    screenshot(page, "foundation-auditor-village-phone")
    # The page fits the phone: nothing wider than the viewport.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
