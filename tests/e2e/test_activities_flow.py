"""A secretary records an activity with two photos on a phone; an auditor above accepts a 七有
item."""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from app.checklist.views import this_year
from tests import factories
from tests.e2e.helpers import e2e_login, open_menu, screenshot


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_ROOT": str(tmp_path / "uploads")}


def _photo(color, size=(1600, 1200), kind="JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, kind)
    return out.getvalue()


def test_secretary_records_an_activity_with_two_photos_and_auditor_accepts(live_server, page):
    world = factories.build_world()
    factories.create_checklist(world.village_a1, year=this_year(), submitted=True)
    factories.create_member(world.village_a1, "张秀英", phone="13912345678")

    e2e_login(page, live_server, world.secretary_a1.login)
    open_menu(page)
    page.click("[data-testid=nav-activities]")
    expect(page.get_by_test_id("compliance")).to_contain_text("第1季度")
    page.click("[data-testid=record-activity]")
    page.fill("input[name=title]", "5.29会员活动日 健康讲座")
    page.select_option("select[name=type]", "member_day")
    page.fill("input[name=participant_count]", "42")
    page.fill("input[name=place]", "社区活动室")
    page.fill("[data-testid=member-search]", "zxy")  # pinyin initials
    page.check("#member-results >> text=张秀英")
    expect(page.get_by_test_id("picked-members")).to_contain_text("张秀英")
    page.get_by_test_id("photos").set_input_files(
        [
            {"name": "现场1.jpg", "mimeType": "image/jpeg", "buffer": _photo((200, 40, 40))},
            {
                "name": "现场2.png",
                "mimeType": "image/png",
                "buffer": _photo((40, 90, 200), kind="PNG"),
            },
        ]
    )
    screenshot(page, "activities-form-phone")
    page.click("[data-testid=save-activity]")
    expect(page.get_by_test_id("activity")).to_contain_text("5.29会员活动日 健康讲座")
    expect(page.get_by_test_id("participant-count")).to_have_text("42")
    expect(page.get_by_test_id("participants")).to_have_text("张秀英")
    expect(page.locator(".flash-success")).to_contain_text("活动已记录,含 2 张照片")
    assert "/activities/" in page.url and page.url.rstrip("/").split("/")[-1].isdigit()
    photos = page.locator("[data-testid=photos] img")
    expect(photos).to_have_count(2)
    for index in range(2):
        photos.nth(index).scroll_into_view_if_needed()
        expect(photos.nth(index)).to_have_js_property("complete", True)
        assert photos.nth(index).evaluate("img => img.naturalWidth") > 0
    screenshot(page, "activities-detail-phone")
    page.click(".breadcrumb >> text=活动")  # back to the timeline
    expect(page.get_by_test_id("timeline")).to_contain_text("5.29会员活动日 健康讲座")
    screenshot(page, "activities-timeline-phone")

    open_menu(page)
    page.click("[data-testid=logout]")
    e2e_login(page, live_server, world.county_auditor.login)
    page.goto(f"{live_server.url}/a/{world.village_a1.slug}/checklist/")
    expect(page.get_by_test_id("item-4-state")).to_have_text("已提交,等待审核")
    page.check("[data-testid=accept-4]")
    page.click("[data-testid=review-submit-4]")
    expect(page.get_by_test_id("item-4-state")).to_have_text("已通过")
    expect(page.get_by_test_id("history")).to_contain_text("县审核员")
    screenshot(page, "checklist-accepted-phone")
