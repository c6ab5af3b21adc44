"""The second factor in a phone browser: forced enrolment by scanning (or typing) the key, the
recovery codes, and the code step at the next sign-in."""

import pyotp
from playwright.sync_api import expect

from tenants.models import Role
from tests import factories
from tests.e2e.helpers import open_menu, screenshot
from tests.factories import PASSWORD


def test_a_new_county_auditor_enrols_on_a_phone_and_signs_in_with_a_code(live_server, page):
    world = factories.build_world()
    auditor = factories.create_user(
        "fresh.auditor@test.cn", roles=[(world.county, Role.AUDITOR)], second_factor=False
    )
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=login]", auditor.login)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    # Whatever page comes next, it is the enrolment page first.
    expect(page).to_have_url(f"{live_server.url}/account/second-factor/enrol")
    page.goto(f"{live_server.url}/a/county/people")
    expect(page).to_have_url(f"{live_server.url}/account/second-factor/enrol")
    expect(page.get_by_test_id("qr-code").locator("svg")).to_be_visible()
    screenshot(page, "second-factor-enrol-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    key = page.get_by_test_id("totp-secret").inner_text().replace(" ", "")
    code_input = page.locator("input[name=code]")
    assert code_input.get_attribute("inputmode") == "numeric"
    assert code_input.get_attribute("autocomplete") == "one-time-code"
    code_input.fill(pyotp.TOTP(key).now())
    page.click("button[type=submit].primary")
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    screenshot(page, "second-factor-recovery-codes-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.click("[data-testid=recovery-codes-done]")
    expect(page.get_by_test_id("current-association")).to_contain_text(world.county.name)

    # Next sign-in: password, then a code (the next time step: the first one is used).
    open_menu(page)
    page.click("[data-testid=logout]")
    page.fill("input[name=login]", auditor.login)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    expect(page).to_have_url(f"{live_server.url}/login/code")
    screenshot(page, "second-factor-code-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.fill("input[name=code]", factories.next_code(auditor.login, secret=key))
    page.click("[data-testid=code-form] button[type=submit]")
    expect(page.get_by_test_id("current-association")).to_contain_text(world.county.name)
