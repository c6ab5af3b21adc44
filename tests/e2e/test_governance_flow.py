"""The yearly plan on a phone: a secretary drafts it, records the approval with the minutes,
publishes it and notes progress; a resident reads the public page without signing in."""

import pytest
from playwright.sync_api import expect

from app.core.clock import china_today
from tests import factories
from tests.e2e.conftest import PHONE
from tests.e2e.helpers import e2e_login, open_menu, screenshot
from tests.uploads import samples


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_ROOT": str(tmp_path / "uploads")}


def _fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_secretary_publishes_the_plan_and_residents_read_it(live_server, page, browser):
    world = factories.build_world()
    factories.create_member(world.village_a1, "欧阳春花", phone="13912345678")

    e2e_login(page, live_server, world.secretary_a1.login)
    open_menu(page)
    page.click("[data-testid=nav-plan]")
    expect(page.get_by_test_id("plan-status")).to_contain_text("本年度尚无计划")
    form = page.get_by_test_id("commitment-form")
    form.locator("input[name=text]").fill("走访困难家庭")
    form.locator("select[name=measure]").select_option("manual")
    form.locator("input[name=unit]").fill("户")
    form.locator("input[name=target]").fill("10")
    form.locator("select[name=due_quarter]").select_option("4")
    page.click("[data-testid=add-commitment]")
    expect(page.get_by_test_id("commitment-1")).to_contain_text("走访困难家庭")
    planned = page.get_by_test_id("planned-form")
    planned.locator("select[name=month]").select_option("5")
    planned.locator("input[name=title]").fill("5·29 会员活动日")
    page.click("[data-testid=add-planned]")
    expect(page.get_by_test_id("planned-activities")).to_contain_text("5·29 会员活动日")

    approval = page.get_by_test_id("approval-form")
    approval.locator("input[name=approved_on]").fill(china_today().isoformat())
    approval.locator("input[name=attendance]").fill("36")
    page.get_by_test_id("minutes-file").set_input_files(
        {"name": "会议记录.pdf", "mimeType": "application/pdf", "buffer": samples.PDF}
    )
    page.click("[data-testid=record-approval]")
    expect(page.get_by_test_id("approval")).to_contain_text("36")
    assert _fits_the_phone(page)
    screenshot(page, "governance-plan-phone")
    page.click("[data-testid=publish]")
    expect(page.get_by_test_id("plan-status")).to_contain_text("已于")
    expect(page.get_by_test_id("commitment-form")).to_have_count(0)

    page.click("[data-testid=commitment-1] a")
    page.fill("textarea[name=note]", "已走访10户")
    page.fill("input[name=value]", "10")
    page.get_by_test_id("update-file").set_input_files(
        {"name": "走访.jpg", "mimeType": "image/jpeg", "buffer": samples.jpeg()}
    )
    page.click("[data-testid=add-update]")
    expect(page.get_by_test_id("commitment-state")).to_have_text("已完成")
    expect(page.get_by_test_id("updates")).to_contain_text("走访.jpg")
    assert _fits_the_phone(page)

    page.click("text=‹ ")
    page.click("[data-testid=survey-link]")
    page.click("[data-testid=open-survey]")
    expect(page.get_by_test_id("survey-results")).to_contain_text("0 / 0")
    page.fill("input[name=count]", "3")
    page.click("[data-testid=print-codes]")
    # all_inner_texts() does not wait for the slips page: wait for its three codes first.
    expect(page.get_by_test_id("slip-code")).to_have_count(3)
    codes = page.get_by_test_id("slip-code").all_inner_texts()
    screenshot(page, "governance-slips-phone")

    resident = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    answering = resident.new_page()
    answering.goto(f"{live_server.url}/p/{world.village_a1.slug}/survey")
    answering.fill("input[name=code]", codes[0])
    answering.get_by_test_id("score-1").select_option("5")
    answering.select_option("select[name=overall]", "4")
    answering.fill("textarea[name=comment]", "希望多办健康讲座")
    assert _fits_the_phone(answering)
    answering.click("[data-testid=send-answers]")
    expect(answering.get_by_test_id("survey-thanks")).to_be_visible()
    answering.goto(f"{live_server.url}/p/{world.village_a1.slug}/survey")
    answering.fill("input[name=code]", codes[0])
    answering.select_option("select[name=overall]", "5")
    answering.click("[data-testid=send-answers]")
    expect(answering.locator(".error")).to_contain_text("该编码无效或已被使用")

    auditor_context = browser.new_context(
        viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    auditor = auditor_context.new_page()
    e2e_login(auditor, live_server, world.county_auditor.login)
    auditor.goto(f"{live_server.url}/a/{world.village_a1.slug}/governance/survey")
    expect(auditor.get_by_test_id("survey-satisfaction")).to_contain_text("100.0%")
    expect(auditor.get_by_test_id("survey-comments")).to_contain_text("希望多办健康讲座")
    auditor.fill("textarea[name=body]", "请补充第三季度活动照片")
    auditor.click("[data-testid=send-supervision-comment]")
    expect(auditor.get_by_test_id("supervision-comments")).to_contain_text("请补充第三季度活动照片")
    auditor_context.close()

    public = resident.new_page()
    public.goto(f"{live_server.url}/p/{world.village_a1.slug}")
    expect(public.get_by_test_id("public-page")).to_contain_text(world.village_a1.name)
    expect(public.get_by_test_id("commitment-1-state")).to_have_text("已完成")
    expect(public.get_by_test_id("planned-activities")).to_contain_text("5·29 会员活动日")
    expect(public.get_by_test_id("public-satisfaction")).to_contain_text("100.0%")
    text = public.content()
    assert "欧阳春花" not in text and "13912345678" not in text and "已走访10户" not in text
    assert _fits_the_phone(public)
    screenshot(public, "governance-public-phone")
    resident.close()
