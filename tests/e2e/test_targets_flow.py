"""A township secretary on a phone sets the year's targets for the villages below, and reads the
grassroots associations' sheet; neither page scrolls sideways at 375 px."""

from playwright.sync_api import expect

from app.core.clock import china_today
from tests import factories
from tests.e2e.helpers import e2e_login, screenshot


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 375


def test_township_secretary_sets_targets_and_reads_the_sheet_on_a_phone(live_server, page):
    world = factories.build_world()
    year = china_today().year
    e2e_login(page, live_server, world.township_a_secretary.login)
    base = f"{live_server.url}/a/{world.township_a.slug}/dashboard"

    page.goto(f"{base}/targets?year={year}")
    expect(page.get_by_test_id("targets-in-force")).to_contain_text("≥ 10%")
    assert fits(page)
    page.fill("#member_ratio", "12")
    page.click("[data-testid=targets-form] button[type=submit]")
    expect(page.get_by_test_id("target-member_ratio")).to_contain_text("≥ 12%")
    expect(page.get_by_test_id("target-member_ratio")).to_contain_text(world.township_a.name)
    assert fits(page)
    screenshot(page, "targets-phone")

    page.goto(f"{base}/associations?year={year}")
    expect(page.get_by_test_id("association-count")).to_contain_text("2")
    assert fits(page)
    screenshot(page, "grassroots-sheet-phone")
