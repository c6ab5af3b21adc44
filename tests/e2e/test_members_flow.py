"""A secretary imports a spreadsheet of members on a phone, corrects flagged rows in place,
confirms, and finds the member; a roster as kept (title row, totals, signatures) included."""

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
    page.fill(
        "[data-testid=row-form-3] [data-testid=row-field-id_number]", _id("34010419900303003")
    )
    page.click("[data-testid=row-form-3] [data-testid=save-row]")
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


def _roster_as_kept() -> bytes:
    """A title row merged across the table, a 序号 column, two rows with problems (a gender
    that contradicts the ID number, a mobile number short of a digit), totals and signatures."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["XX社区计划生育协会会员花名册(2026年)"])
    sheet.merge_cells("A1:G1")
    sheet.append(["序号", "姓名", "性别", "身份证号", "联系电话", "家庭住址", "入会时间"])
    people = [
        ("张秀英", "女", "34010419700101002", "13900000001"),
        ("李建国", "女", "34010419650505011", "13900000002"),  # the ID number says male
        ("王桂英", "女", "34010419720303004", "1390000003"),  # ten digits
        ("赵志强", "男", "34010419800808013", "13900000004"),
    ]
    for number, (name, gender, first17, phone) in enumerate(people, start=1):
        sheet.append([number, name, gender, _id(first17), phone, f"幸福路{number}号", "2021-03-08"])
    sheet.append(["合计", "4人"])
    sheet.append(["填表人:王芳", "", "审核人:李强", "", "填报日期:2026年1月5日"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_secretary_imports_a_roster_with_a_title_row_and_fixes_two_rows_in_place(live_server, page):
    world = factories.build_world()
    e2e_login(page, live_server, world.secretary_a1.login)
    page.goto(f"{live_server.url}/a/village-a1/members/import")
    page.set_input_files(
        "input[name=file]",
        {
            "name": "花名册.xlsx",
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "buffer": _roster_as_kept(),
        },
    )
    page.click("[data-testid=upload]")
    expect(page.get_by_test_id("heading-found")).to_contain_text("标题在第 2 行")
    # At phone width every column's field is a full-width select showing its value, with
    # two sample values above it.
    name_select = page.get_by_test_id("column-0")
    expect(name_select).to_have_value("name")
    box = name_select.bounding_box()
    assert box["width"] >= 280, box
    expect(page.get_by_test_id("mapping")).to_contain_text("张秀英 · 李建国")
    expect(page.get_by_test_id("mapping")).not_to_contain_text("序号")
    screenshot(page, "members-import-roster-mapping-phone")
    page.click("[data-testid=check-rows]")
    expect(page.get_by_test_id("import-summary")).to_contain_text("2 行可以导入")
    page.click("[data-testid=skipped-rows] summary")
    expect(page.get_by_test_id("skipped-rows")).to_contain_text("合计行")
    expect(page.get_by_test_id("skipped-rows")).to_contain_text("填表人、审核人或日期")
    screenshot(page, "members-import-roster-report-phone")
    # Row 4: the gender, corrected in place.
    page.click("[data-testid=fix-row-4]")
    page.fill("[data-testid=row-form-4] [data-testid=row-field-gender]", "男")
    page.click("[data-testid=row-form-4] [data-testid=save-row]")
    expect(page.get_by_test_id("import-notice")).to_contain_text("第 4 行可以导入了")
    expect(page.get_by_test_id("import-summary")).to_contain_text("3 行可以导入")
    # Row 5: the mobile number, corrected in place.
    page.click("[data-testid=fix-row-5]")
    page.fill("[data-testid=row-form-5] [data-testid=row-field-phone]", "13900000003")
    page.click("[data-testid=row-form-5] [data-testid=save-row]")
    expect(page.get_by_test_id("import-summary")).to_contain_text("4 行可以导入")
    screenshot(page, "members-import-roster-fixed-phone")
    page.click("[data-testid=confirm-import]")
    expect(page.get_by_test_id("import-done")).to_contain_text("已导入 4 名会员")
