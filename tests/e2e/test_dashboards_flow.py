"""A county auditor on a phone drills from the county to one village and back, sees the charts
drawn, and downloads the .xlsx."""

import io
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from app.core.clock import china_today
from tests import factories
from tests.e2e.helpers import e2e_login, open_menu, screenshot


@pytest.fixture
def app_config() -> dict:
    # The figures follow the records here: keep the after-commit refresh on.
    return {"DASHBOARD_LIVE_REFRESH": True}


def test_county_auditor_drills_down_to_a_village_and_back_and_downloads(live_server, page):
    world = factories.build_world()
    factories.create_member(world.village_a1, "张秀英")
    factories.create_activity(world.village_a1, held_on=date(china_today().year, 1, 15))

    e2e_login(page, live_server, world.county_auditor.login)
    page.goto(f"{live_server.url}/a/{world.county.slug}/")
    open_menu(page)
    page.click("[data-testid=nav-dashboard]")
    expect(page.get_by_test_id("dashboard")).to_contain_text("统计看板")
    expect(page.get_by_test_id("tile-members")).to_contain_text("1")
    # ECharts draws each chart into a canvas (the script is served locally, CSP intact).
    expect(page.locator("[data-chart=quarters] canvas")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "dashboards-county-phone")

    page.click(f"[data-testid=drill-{world.township_a.slug}]")
    expect(page.get_by_test_id("breadcrumb")).to_contain_text(world.county.name)
    page.click(f"[data-testid=drill-{world.village_a1.slug}]")
    crumbs = page.get_by_test_id("breadcrumb")
    expect(crumbs).to_contain_text(world.township_a.name)
    expect(crumbs).not_to_contain_text(world.province.name)
    expect(page.get_by_test_id("tile-activities")).to_contain_text("第1季度 1")
    screenshot(page, "dashboards-village-phone")

    crumbs.get_by_role("link", name=world.county.name).click()
    expect(page.get_by_test_id("children")).to_contain_text(world.township_b.name)
    with page.expect_download() as download_info:
        page.click("[data-testid=export-link]")
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    assert workbook.sheetnames[0] == "会员"
    assert workbook["会员"].cell(2, 3).value == 1
