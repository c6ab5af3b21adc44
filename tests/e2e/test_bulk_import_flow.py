"""A county-level secretary sets up associations from a workbook on a phone: chooses the
sheet, moves the heading row, sees the skipped rows of totals, confirms (issue 13)."""

import io

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from tests import factories
from tests.e2e.helpers import e2e_login, screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture
def app_config(tmp_path):
    return {"ASSOCIATION_IMPORT_DIR": str(tmp_path / "association-imports")}


def _workbook() -> bytes:
    workbook = Workbook()
    notes = workbook.active
    notes.title = "填表说明"
    for row in (["说明", "备注"], ["名称", "填协会全称"], ["服务人口", "填户籍人口"]):
        notes.append(row)
    villages = workbook.create_sheet("村级协会")
    for row in (
        ["名称：协会全称", "类型：村或社区", "上级：可不填", "服务人口：人数"],
        ["名称", "类型", "服务人口"],
        ["东湖村", "村", "1200"],
        ["西湖村", "村", "900"],
        ["合计", "", "2100"],
    ):
        villages.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_secretary_chooses_the_sheet_moves_the_heading_and_creates_the_associations(
    live_server, page
):
    world = factories.build_world()
    e2e_login(page, live_server, world.township_a_secretary.login)
    page.goto(f"{live_server.url}/a/township-a/children/import")
    page.set_input_files(
        "input[name=file]",
        {
            "name": "村级协会.xlsx",
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "buffer": _workbook(),
        },
    )
    page.click("[data-testid=upload]")
    expect(page.get_by_test_id("choose-sheet")).to_contain_text("2 个有数据的工作表")
    expect(page.get_by_test_id("bulk-confirm")).to_have_count(0)
    screenshot(page, "associations-bulk-choose-sheet-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    page.select_option("[data-testid=sheet]", "村级协会")
    page.click("[data-testid=use-sheet]")
    expect(page.get_by_test_id("heading-found")).to_contain_text("1")
    page.click("[data-testid=layout] details > summary")
    page.select_option("[data-testid=heading-row]", "2")
    page.click("[data-testid=use-heading-row]")
    expect(page.get_by_test_id("bulk-counts")).to_contain_text("2 行可以导入")
    page.click("[data-testid=skipped-rows] > summary")
    expect(page.get_by_test_id("skipped-rows")).to_contain_text("第 5 行")
    screenshot(page, "associations-bulk-report-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    page.click("[data-testid=bulk-confirm] button[type=submit]")
    expect(page.get_by_test_id("bulk-result")).to_contain_text("2")
    expect(page.get_by_test_id("bulk-invitations")).to_contain_text("东湖村")
