"""On a phone: a member asks to move household from her own details, the secretary approves it
into a new household, and the member sees where she is registered now."""

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.helpers import e2e_login, screenshot

pytestmark = pytest.mark.e2e


def _fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_member_asks_to_move_and_the_secretary_approves_on_a_phone(live_server, browser, page):
    world = factories.build_world()
    home = factories.create_household(world.village_a1, "梨花街道幸福路1号楼2单元301室").id
    factories.create_household(world.village_a1, "别人家9号")
    factories.create_member(
        world.village_a1, "会员甲", household_id=home, user_id=world.member_a1.id
    )
    me = f"{live_server.url}/a/village-a1/members/me"

    e2e_login(page, live_server, world.member_a1.login)
    page.goto(me)
    expect(page.get_by_test_id("my-household")).to_contain_text("幸福路1号楼")
    expect(page.locator("select[name=household_id]")).to_have_count(0)
    page.fill("input[name=new_address]", "梨花街道和平路18号院3号楼1单元502室")
    page.fill("textarea[name=note]", "六月搬家")
    page.click("[data-testid=ask-to-move]")
    expect(page.get_by_test_id("move-pending")).to_contain_text("和平路18号院")
    _fits_the_phone(page)
    screenshot(page, "household-move-asked-phone")

    secretary = browser.new_context(
        viewport={"width": 375, "height": 812}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    secretary_page = secretary.new_page()
    e2e_login(secretary_page, live_server, world.secretary_a1.login)
    secretary_page.goto(f"{live_server.url}/a/village-a1/members/")
    secretary_page.click("[data-testid=household-moves]")
    expect(secretary_page.locator("article[data-testid^=move-]")).to_contain_text("会员甲")
    _fits_the_phone(secretary_page)
    screenshot(secretary_page, "household-moves-list-phone")
    secretary_page.click("[data-testid^=approve-]")
    expect(secretary_page.locator("article[data-testid^=move-]")).to_contain_text("已同意")
    secretary.close()

    page.goto(me)
    expect(page.get_by_test_id("my-household")).to_contain_text("和平路18号院")
    expect(page.get_by_test_id("move-outcomes")).to_contain_text("已同意")
    _fits_the_phone(page)
