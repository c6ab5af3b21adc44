"""Undo on a phone: the secretary deletes a member, finds her under "Recently deleted" and
restores her."""

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.helpers import e2e_login, screenshot

pytestmark = pytest.mark.e2e


def test_the_secretary_restores_a_deleted_member_from_her_phone(live_server, page):
    world = factories.build_world()
    factories.create_member(world.village_a1, "王五")
    member_id = factories.create_member(world.village_a1, "李四", phone="13800001234").id
    e2e_login(page, live_server, world.secretary_a1.login)
    base = f"{live_server.url}/a/village-a1"
    page.goto(f"{base}/members/{member_id}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="删除会员").click()
    expect(page.locator(".flashes")).to_contain_text("最近删除")
    expect(page.get_by_test_id("members")).not_to_contain_text("李四")

    page.get_by_test_id("recently-deleted").click()
    row = page.get_by_test_id(f"deleted-member-{member_id}")
    expect(row).to_contain_text("李四")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "undo-recently-deleted-phone")
    row.get_by_role("button", name="恢复 李四").click()
    expect(page.locator(".flashes")).to_contain_text("李四 已恢复到名册")
    expect(page.get_by_test_id("member-name")).to_have_text("李四")
