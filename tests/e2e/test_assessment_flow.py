"""The yearly assessment on phones (375 px): the township secretary publishes a scoring sheet,
the community's secretary self-assesses with a photo as evidence and submits, the township
scores, closes and names the community a model association (示范协会), which its home page then
shows. No page scrolls sideways."""

from datetime import timedelta

from playwright.sync_api import expect

from app.core.clock import china_today
from tests import factories
from tests.e2e.helpers import e2e_login, screenshot
from tests.uploads.samples import jpeg


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 375


def test_publish_self_assess_score_close_and_name_a_model(live_server, page, browser):
    world = factories.build_world()
    year = china_today().year
    base = live_server.url
    page.on("dialog", lambda dialog: dialog.accept())

    e2e_login(page, live_server, world.township_a_secretary.login)
    page.goto(f"{base}/a/{world.township_a.slug}/assessments/?year={year}")
    assert fits(page)
    page.select_option("#sheet-kind", "community")
    page.fill("#sheet-title", f"{year}年度社区考核")
    page.click("[data-testid=new-sheet] button[type=submit]")
    for title, rule, points in (("宣传阵地建设", "manual", "10"), ("七有合格", "qiyou", "10")):
        page.fill("#item-title", title)
        page.select_option("#item-rule", rule)
        page.fill("#item-points", points)
        page.click("[data-testid=add-item] button[type=submit]")
        expect(page.get_by_test_id("sheet")).to_contain_text(title)
    assert fits(page)
    screenshot(page, "assessment-sheet-phone")
    page.fill("#sheet-due-on", (china_today() + timedelta(days=30)).isoformat())
    page.click("[data-testid=publish]")
    expect(page.get_by_test_id("sheet-state")).to_contain_text("发布")
    expect(page.get_by_test_id("sheet-due")).to_be_visible()

    village = browser.new_context(
        viewport={"width": 375, "height": 812}, locale="zh-CN", timezone_id="Asia/Shanghai"
    ).new_page()
    village.on("dialog", lambda dialog: dialog.accept())
    e2e_login(village, live_server, world.secretary_a1.login)
    village.goto(f"{base}/a/{world.village_a1.slug}/assessments/own?year={year}")
    claim = village.locator("form.claim").first
    claim.locator("input[name=points]").fill("8")
    claim.locator("textarea[name=note]").fill("宣传栏照片")
    claim.locator("input[type=file]").set_input_files(
        files=[{"name": "board.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}]
    )
    claim.locator("button[type=submit]").click()
    expect(village.locator("[data-testid^=evidence-file]")).to_be_visible()
    assert fits(village)
    screenshot(village, "assessment-self-phone")
    village.click("[data-testid=submit]")
    expect(village.get_by_test_id("assessment-state")).to_contain_text("待评分")

    page.goto(f"{base}/a/{world.village_a1.slug}/assessments/own?year={year}")
    expect(page.get_by_test_id("score-form")).to_be_visible()
    assert fits(page)
    screenshot(page, "assessment-score-phone")
    page.click("[data-testid=score]")
    expect(page.get_by_test_id("assessment-state")).to_contain_text("已评分")

    page.goto(f"{base}/a/{world.township_a.slug}/assessments/scoring?year={year}")
    page.click("[data-testid=close]")
    expect(page.get_by_test_id("closed")).to_be_visible()
    page.fill("#model-citation", "宣传阵地规范，会员活动经常")
    page.click("[data-testid=name-model-button]")
    expect(page.get_by_test_id(f"model-{world.village_a1.slug}")).to_be_visible()
    assert fits(page)
    screenshot(page, "assessment-ranking-phone")
    # Marked on the township's subtree sheet, which still fits the phone.
    page.goto(f"{base}/a/{world.township_a.slug}/dashboard/associations?year={year}")
    expect(page.get_by_test_id(f"mark-model-{world.village_a1.slug}")).to_be_visible()
    assert fits(page)

    village.goto(f"{base}/a/{world.village_a1.slug}/")
    expect(village.get_by_test_id("model-association")).to_contain_text("示范协会")
    assert fits(village)
    village.goto(f"{base}/a/{world.village_a1.slug}/assessments/own?year={year}")
    expect(village.get_by_test_id("rank")).to_contain_text("第 1 名")
    screenshot(village, "assessment-result-phone")
    village.goto(f"{base}/a/{world.village_a1.slug}/assessments/statement?year={year}")
    expect(village.get_by_test_id("statement-targets")).to_contain_text("10%")
    assert fits(village)
    screenshot(village, "assessment-statement-phone")

    # Named by mistake: the township withdraws the naming, then reopens the closed assessment,
    # each with a reason; the earlier ranking stays on the page as history.
    scoring = f"{base}/a/{world.township_a.slug}/assessments/scoring?year={year}"
    page.goto(scoring)
    withdraw = page.get_by_test_id(f"withdraw-{world.village_a1.slug}")
    withdraw.locator("textarea").fill("评定有误")
    assert fits(page)
    withdraw.locator("button[type=submit]").click()
    expect(page.get_by_test_id(f"model-{world.village_a1.slug}")).to_have_count(0)
    page.fill("#reopen-reason", "漏评社区，重新评分")
    page.click("[data-testid=reopen-button]")
    expect(page.get_by_test_id("reopening")).to_be_visible()
    expect(page.get_by_test_id("close")).to_be_visible()
    assert fits(page)
    screenshot(page, "assessment-reopened-phone")
