"""A village secretary on a phone enters the year's values measured by hand (知晓率 from the
village's own survey, 自治开展面); a value over 100 % is refused with its message; the township
secretary reads them, judged against the targets, in the grassroots associations' sheet. No page
scrolls sideways at 375 px."""

from playwright.sync_api import expect

from app.core.clock import china_today
from tests import factories
from tests.e2e.helpers import e2e_login, screenshot


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 375


def test_village_secretary_enters_values_and_the_township_reads_them(live_server, page, browser):
    world = factories.build_world()
    year = china_today().year
    e2e_login(page, live_server, world.secretary_a1.login)
    page.goto(f"{live_server.url}/a/{world.village_a1.slug}/dashboard/manual?year={year}")
    expect(page.get_by_test_id("manual-awareness")).to_contain_text("未填报")
    assert fits(page)
    page.fill("#value_awareness", "120")
    page.click("[data-testid=manual-form] button[type=submit]")
    expect(page.locator("[data-testid=manual-form] .error").first).to_contain_text("0 到 100")
    assert fits(page)
    screenshot(page, "manual-values-refused-phone")
    page.fill("#value_awareness", "96.5")
    page.fill("#note_awareness", "入户问卷 200 户")
    page.fill("#value_self_governance", "100")
    page.click("[data-testid=manual-form] button[type=submit]")
    expect(page.get_by_test_id("manual-awareness")).to_contain_text("96.5%")
    expect(page.get_by_test_id("manual-awareness")).to_contain_text("达标")
    assert fits(page)
    screenshot(page, "manual-values-phone")

    township = browser.new_page(viewport={"width": 375, "height": 812}, locale="zh-CN")
    e2e_login(township, live_server, world.township_a_secretary.login)
    township.goto(f"{live_server.url}/a/{world.township_a.slug}/dashboard/associations?year={year}")
    row = township.locator(f"[data-slug={world.village_a1.slug}]")
    expect(row.get_by_test_id("manual-awareness")).to_contain_text("96.5%")
    expect(township.locator(f"[data-slug={world.village_a2.slug}]")).to_contain_text("未填报")
    assert fits(township)
    screenshot(township, "manual-values-sheet-phone")
    township.close()
