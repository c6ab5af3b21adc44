"""On a phone: a resident whose number is in two registers signs in with an SMS code, sees both
records and claims hers; then the secretary's SMS page and the group message form fit too."""

import pytest
from playwright.sync_api import expect

from app.core.sms import sms_backend
from tests import factories
from tests.e2e.helpers import e2e_login, screenshot

pytestmark = pytest.mark.e2e

PHONE = "13900139000"


def _fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_resident_signs_in_by_sms_and_claims_her_record_on_a_phone(live_server, browser, page):
    world = factories.build_world()
    mine = factories.create_member(world.village_a1, "李梅", phone=PHONE).id
    factories.create_member(world.village_a2, "李梅", phone=PHONE)

    page.goto(f"{live_server.url}/login")
    page.click("[data-testid=phone-login-link]")
    page.fill("input[name=phone]", PHONE)
    _fits_the_phone(page)
    page.click("[data-testid=phone-form] button[type=submit]")
    expect(page.get_by_test_id("phone-code-form")).to_be_visible()
    expect(page.locator("main")).to_contain_text("139****9000")
    with live_server.app.app_context():
        code = sms_backend().outbox[-1].params["code"]
    page.fill("input[name=code]", code)
    _fits_the_phone(page)
    screenshot(page, "sms-code-phone")
    page.click("[data-testid=phone-code-form] button[type=submit]")
    expect(page.get_by_test_id("claim-list")).to_contain_text(world.village_a2.name)
    _fits_the_phone(page)
    screenshot(page, "claim-record-phone")
    page.click(f"[data-testid=claim-{mine}]")
    expect(page).to_have_url(f"{live_server.url}/a/village-a1/")

    secretary = browser.new_context(
        viewport={"width": 375, "height": 812}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    secretary_page = secretary.new_page()
    e2e_login(secretary_page, live_server, world.secretary_a1.login)
    secretary_page.goto(f"{live_server.url}/a/village-a1/sms")
    expect(secretary_page.get_by_test_id("sms-usage")).to_be_visible()
    _fits_the_phone(secretary_page)
    secretary_page.click("[data-testid=new-group-message]")
    secretary_page.fill("textarea[name=body]", "周六上午九点在活动室举办健康讲座，欢迎参加。")
    secretary_page.click("[data-testid=preview-group-message]")
    expect(secretary_page.get_by_test_id("preview-recipients")).to_have_text("1")
    _fits_the_phone(secretary_page)
    screenshot(secretary_page, "group-sms-preview-phone")
    secretary.close()
