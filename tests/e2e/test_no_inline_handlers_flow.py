"""What the content-security policy used to block silently: the delete confirmation on a member
and a household, and the dues page's year selector (now wired by static/js/app.js)."""

import pytest
from playwright.sync_api import expect

from app.members.models import Household, Member
from tests import factories
from tests.e2e.helpers import e2e_login, screenshot

pytestmark = pytest.mark.e2e


def test_cancelling_the_delete_confirmation_keeps_the_member(live_server, page):
    world = factories.build_world()
    member = factories.create_member(world.village_a1, "李四")
    e2e_login(page, live_server, world.secretary_a1.login)
    page.goto(f"{live_server.url}/a/village-a1/members/{member.id}")
    dialogs = []

    def dismiss(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="删除").click()
    page.wait_for_timeout(500)
    assert dialogs and "删除" in dialogs[0]
    expect(page.get_by_test_id("member-name")).to_have_text("李四")
    with live_server.app.app_context():
        assert factories.reload(Member, member.id) is not None
    screenshot(page, "member-show-after-cancel-phone")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="删除").click()
    expect(page.locator(".flash, [role=status], .notice").first).to_contain_text("李四")
    with live_server.app.app_context():
        assert factories.reload(Member, member.id) is None


def test_cancelling_the_household_delete_keeps_the_household(live_server, page):
    world = factories.build_world()
    household = factories.create_household(world.village_a1, "幸福路9号")
    e2e_login(page, live_server, world.secretary_a1.login)
    page.goto(f"{live_server.url}/a/village-a1/households/{household.id}")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator(f"form[action$='/households/{household.id}/delete'] button").click()
    page.wait_for_timeout(500)
    with live_server.app.app_context():
        assert factories.reload(Household, household.id) is not None


def test_changing_the_dues_year_reloads_the_page_for_that_year(live_server, page):
    world = factories.build_world()
    e2e_login(page, live_server, world.secretary_a1.login)
    page.goto(f"{live_server.url}/a/village-a1/dues")
    select = page.get_by_test_id("year-select")
    year = int(select.input_value())
    select.select_option(str(year - 1))
    page.wait_for_url(f"**/dues/?year={year - 1}")
    expect(page.locator("h1")).to_contain_text(str(year - 1))
    screenshot(page, "dues-year-changed-phone")
