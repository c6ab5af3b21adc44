"""A secretary imports a spreadsheet of members on a phone, corrects a flagged row, confirms,
and finds the member."""

import io

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from app.members.idnumbers import check_digit
from tests import factories
from tests.e2e.helpers import e2e_login, open_menu, screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture
def app_config(tmp_path):
    return {"MEMBER_IMPORT_DIR": str(tmp_path / "imports")}


def _id(first17: str) -> str:
    return first17 + check_digit(first17)


def _spreadsheet() -> bytes:
    good = _id("34010419900303003")
    typo = good[:-1] + ("1" if good[-1] != "1" else "2")
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["姓名", "性别", "手机号码", "身份证号", "家庭住址", "入会日期"])
    sheet.append(["张秀英", "女", "13900000001", _id("34010419700101002"), "幸福路1号", "2020/5/1"])
    sheet.append(["王五", "男", "13900000003", typo, "幸福路3号", "2021年3月8日"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_secretary_imports_fixes_a_row_confirms_and_finds_the_member(live_server, page):
    world = factories.build_world()
    login = world.secretary_a1.login
    e2e_login(page, live_server, login)
    open_menu(page)
    page.click("[data-testid=nav-members]")
    page.click("text=从 Excel 导入")
    page.set_input_files(
        "input[name=file]",
        {
            "name": "会员名册.xlsx",
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "buffer": _spreadsheet(),
        },
    )
    page.click("[data-testid=upload]")
    expect(page.get_by_test_id("mapping")).to_contain_text("手机号码")
    screenshot(page, "members-import-mapping-phone")
    page.click("[data-testid=check-rows]")
    expect(page.get_by_test_id("import-summary")).to_contain_text("1 行可以导入")
    expect(page.get_by_test_id("import-problems")).to_contain_text("校验位")
    screenshot(page, "members-import-report-phone")
    page.click("[data-testid=fix-row-3]")
    page.fill("#field-id_number", _id("34010419900303003"))
    page.click("[data-testid=save-row]")
    expect(page.get_by_test_id("import-summary")).to_contain_text("2 行可以导入")
    page.click("[data-testid=confirm-import]")
    expect(page.get_by_test_id("import-done")).to_contain_text("已导入 2 名会员")
    page.click("text=查看会员")
    page.wait_for_load_state()  # htmx listens to the search box only once the page has loaded
    page.fill("[data-testid=member-search]", "ww")
    expect(page.get_by_test_id("members")).to_contain_text("王五")
    expect(page.get_by_test_id("members")).not_to_contain_text("张秀英")
    expect(page.get_by_test_id("members")).to_contain_text("3401**********")
    screenshot(page, "members-search-phone")
