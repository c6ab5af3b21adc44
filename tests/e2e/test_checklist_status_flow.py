"""The 七有 status a secretary reads, in the browser, after each step of the review (issue 18: "the
七有 banner stays stale after submission"): the status line of the checklist page, the "sent back"
tile of her home page and the 七有 tile of her dashboard all follow the upload (sent by script,
the answer written into the page), the submission, a return by the auditor and the corrected
resubmission, without her reloading anything by hand."""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests import factories
from tests.e2e.helpers import e2e_login, screenshot

SUBMITTED = "已提交:等待上级计生协审核。"
RETURNED = "有项目被退回:请查看意见,修改后重新提交。"


@pytest.fixture
def app_config(tmp_path):
    # The dashboard's figures follow each change as in production.
    return {"UPLOAD_ROOT": str(tmp_path / "uploads"), "DASHBOARD_LIVE_REFRESH": True}


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (30, 120, 60)).save(out, "JPEG")
    return out.getvalue()


def _upload(page, number: int) -> None:
    item = page.get_by_test_id(f"item-{number}")
    details = item.locator("details.aid")
    if not details.evaluate("element => element.open"):
        details.locator("summary").click()
    expect(page.get_by_test_id(f"upload-evidence-{number}")).to_be_visible()
    page.get_by_test_id(f"evidence-file-{number}").set_input_files(
        {"name": f"证明{number}.jpg", "mimeType": "image/jpeg", "buffer": _photo()}
    )
    page.get_by_test_id(f"upload-evidence-{number}").click()
    expect(page.locator(".flash-success")).to_contain_text(f"第 {number} 项的证明材料已上传")


def _home_and_dashboard(page, base: str, *, returned: int, status: str) -> None:
    page.goto(f"{base}/")
    expect(page.get_by_test_id("tile-returned").locator(".tile-value")).to_have_text(str(returned))
    page.goto(f"{base}/dashboard/")
    expect(page.get_by_test_id("tile-checklist")).to_contain_text(f"{status} 1")


def test_every_place_showing_the_checklist_status_follows_each_step(live_server, page):
    world = factories.build_world()
    base = f"{live_server.url}/a/{world.village_a1.slug}"
    e2e_login(page, live_server, world.secretary_a1.login)
    page.goto(f"{base}/checklist/")
    expect(page.get_by_test_id("checklist-status")).to_contain_text("尚未提交")
    for number in (4, 5, 6):
        _upload(page, number)
    expect(page.get_by_test_id("checklist-status")).to_contain_text("尚未提交")
    page.get_by_test_id("submit-checklist").click()
    expect(page.get_by_test_id("checklist-status")).to_have_text(SUBMITTED)
    expect(page.get_by_test_id("item-4-state")).to_have_text("已提交,等待审核")
    _home_and_dashboard(page, base, returned=0, status="已提交")

    auditor = page.context.browser.new_context(viewport={"width": 375, "height": 812})
    reviewer = auditor.new_page()
    e2e_login(reviewer, live_server, world.county_auditor.login)
    reviewer.goto(f"{base}/checklist/")
    reviewer.check("[data-testid=return-4]")
    reviewer.fill("[data-testid=review-4] textarea[name=comment]", "照片看不清")
    reviewer.click("[data-testid=review-submit-4]")
    expect(reviewer.get_by_test_id("item-4-state")).to_have_text("已退回")
    auditor.close()

    page.goto(f"{base}/checklist/")
    expect(page.get_by_test_id("checklist-status")).to_have_text(RETURNED)
    _home_and_dashboard(page, base, returned=1, status="已退回")
    page.goto(f"{base}/checklist/")
    _upload(page, 4)
    expect(page.get_by_test_id("checklist-status")).to_have_text(RETURNED)
    page.get_by_test_id("submit-checklist").click()
    expect(page.get_by_test_id("checklist-status")).to_have_text(SUBMITTED)
    screenshot(page, "checklist-resubmitted-phone")
    _home_and_dashboard(page, base, returned=0, status="已提交")
