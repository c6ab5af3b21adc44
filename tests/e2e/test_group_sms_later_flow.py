"""On a phone (375 px): a secretary schedules a group message and cancels it; a county writes
to the secretaries below and sees each one's state; a secretary reads it in her notification
centre, the unread count in the header."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.core.clock import china_today
from app.core.sms_outbox import sending
from tenants.models import Role
from tests import factories
from tests.e2e.helpers import e2e_login, screenshot

pytestmark = pytest.mark.e2e


def _fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_schedule_cancel_and_message_the_secretaries_below_on_a_phone(
    live_server, browser, page, monkeypatch
):
    monkeypatch.setattr(sending, "next_morning", lambda now: None)
    world = factories.build_world()
    factories.create_member(world.village_a1, "李梅", phone="13900139001")
    e2e_login(page, live_server, world.secretary_a1.login)
    page.goto(f"{live_server.url}/a/village-a1/sms/group")
    page.fill("textarea[name=body]", "周六上午九点在活动室举办健康讲座，欢迎参加。")
    page.check("input[name=when][value=later]")
    page.fill("input[name=send_on]", (china_today() + timedelta(days=2)).isoformat())
    page.fill("input[name=send_at]", "10:30")
    _fits_the_phone(page)
    page.click("[data-testid=preview-group-message]")
    expect(page.get_by_test_id("preview-send-at")).to_be_visible()
    _fits_the_phone(page)
    page.click("[data-testid=send-group-message]")
    expect(page.get_by_test_id("scheduled-for")).to_be_visible()
    _fits_the_phone(page)
    screenshot(page, "group-sms-scheduled-phone")
    page.click("[data-testid=cancel-group-message]")
    expect(page.get_by_test_id("cancelled")).to_be_visible()
    _fits_the_phone(page)

    below = factories.create_user(
        "13700137001", "村秘书李", roles=[(world.village_a2, Role.SECRETARY)]
    )
    township = browser.new_context(
        viewport={"width": 375, "height": 812}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    township_page = township.new_page()
    e2e_login(township_page, live_server, world.township_a_secretary.login)
    township_page.goto(f"{live_server.url}/a/township-a/sms/group")
    township_page.select_option("select[name=group]", "secretaries_below")
    township_page.fill("textarea[name=body]", "请各村于本周五前上报季度统计表。")
    township_page.click("[data-testid=preview-group-message]")
    expect(township_page.get_by_test_id("preview-recipients")).to_have_text("3")
    township_page.click("[data-testid=send-group-message]")
    expect(township_page.get_by_test_id("recipient-states")).to_be_visible()
    expect(township_page.get_by_test_id("recipient")).to_have_count(3)
    _fits_the_phone(township_page)
    screenshot(township_page, "group-sms-secretaries-phone")
    township.close()

    reader = browser.new_context(
        viewport={"width": 375, "height": 812}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    reader_page = reader.new_page()
    e2e_login(reader_page, live_server, below.login)
    reader_page.goto(f"{live_server.url}/notifications")
    expect(reader_page.get_by_test_id("unread-count")).to_have_text("1")
    expect(reader_page.get_by_test_id("notification")).to_contain_text("季度统计表")
    _fits_the_phone(reader_page)
    screenshot(reader_page, "notifications-phone")
    reader_page.click("[data-testid=mark-read]")
    expect(reader_page.get_by_test_id("unread-count")).to_have_count(0)
    reader.close()
