"""The statistics report's key flow on phones (375 px): the township secretary defines a form;
the village secretary fills it in, sees a check fail in Chinese, submits; the township returns it
with a comment; the village corrects and submits again; the township accepts it, frozen. No page
scrolls sideways."""

from datetime import timedelta

from playwright.sync_api import expect

from app.core.clock import china_today
from tests import factories
from tests.e2e.helpers import e2e_login, screenshot


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 375


def test_define_fill_submit_return_resubmit_accept(live_server, page, browser):
    world = factories.build_world()
    township = browser.new_page(viewport={"width": 375, "height": 812}, locale="zh-CN")
    e2e_login(township, live_server, world.township_a_secretary.login)
    township.goto(f"{live_server.url}/a/{world.township_a.slug}/reports/forms/new")
    township.fill("[data-testid=form-name]", "第四季度宣传统计")
    township.fill("[data-testid=deadline]", (china_today() + timedelta(days=7)).isoformat())
    township.fill("[data-testid=field-label-1]", "宣传次数")
    township.fill("[data-testid=field-label-2]", "其中入户宣传")
    township.select_option("[data-testid=check-left-1]", "m2")
    township.select_option("[data-testid=check-kind-1]", "le")
    township.select_option("[data-testid=check-right-1]", "m1")
    assert fits(township)
    screenshot(township, "reports-define-phone")
    township.click("[data-testid=publish-form]")
    expect(township.get_by_test_id("form-submissions")).to_contain_text("第四季度宣传统计")
    assert fits(township)

    e2e_login(page, live_server, world.secretary_a1.login)
    page.goto(f"{live_server.url}/a/{world.village_a1.slug}/reports")
    page.locator("[data-testid^=start-]").first.click()
    page.fill("[data-testid=input-m1]", "3")
    page.fill("[data-testid=input-m2]", "5")
    page.click("[data-testid=submit-report]")
    expect(page.get_by_test_id("error-m2")).to_contain_text("不能多于宣传次数")
    assert fits(page)
    screenshot(page, "reports-check-failed-phone")
    page.fill("[data-testid=input-m2]", "2")
    page.click("[data-testid=submit-report]")
    expect(page.get_by_test_id("report-state")).to_contain_text("已提交")
    report_url = page.url

    township.goto(report_url)
    township.click("[data-testid=decision-return]")
    township.fill("[data-testid=decision-comment]", "入户宣传次数请核实")
    township.click("[data-testid=record-decision]")
    expect(township.get_by_test_id("report-state")).to_contain_text("已退回")

    page.goto(report_url)
    expect(page.get_by_test_id("return-comment")).to_contain_text("入户宣传次数请核实")
    page.fill("[data-testid=input-m2]", "1")
    page.click("[data-testid=submit-report]")
    expect(page.get_by_test_id("report-state")).to_contain_text("已提交")

    township.goto(report_url)
    township.click("[data-testid=decision-accept]")
    township.click("[data-testid=record-decision]")
    expect(township.get_by_test_id("report-state")).to_contain_text("已接受")
    assert fits(township)

    page.goto(report_url)
    expect(page.get_by_test_id("frozen-note")).to_be_visible()
    expect(page.get_by_test_id("value-m2")).to_contain_text("1")
    assert fits(page)
    screenshot(page, "reports-accepted-phone")
    township.close()
