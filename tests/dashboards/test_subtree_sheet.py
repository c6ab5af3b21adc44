"""The subtree sheet (one row per grassroots association, in the .xlsx and as a page), and the
新发展会员 and 5·29 figures."""

import io
from datetime import date

import openpyxl

from app.activities.models import ActivityType
from tenants.models import AssociationKind
from tests.dashboards.helpers import YEAR
from tests.factories import create_activity, create_member, create_tree_node


def url(association, path: str = "/", **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"year": YEAR, **params}.items())
    return f"/a/{association.slug}/dashboard{path}?{query}"


def test_the_export_has_a_row_per_grassroots_association_with_its_path(figures, client_for):
    world = figures
    response = client_for(world.county_auditor.login).get(url(world.county, "/export.xlsx"))
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = workbook["基层协会"]
    header = [cell.value for cell in sheet[1]]
    assert header[:6] == ["县（区）", "乡镇（街道）", "协会", "类型", "荣誉称号", "会员数"]
    rows = {
        row[2]: dict(zip(header, row, strict=True)) for row in sheet.iter_rows(2, values_only=True)
    }
    assert set(rows) == {world.village_a1.name, world.village_a2.name, world.village_b1.name}
    a1 = rows[world.village_a1.name]
    assert (a1["县（区）"], a1["乡镇（街道）"]) == (world.county.name, world.township_a.name)
    assert (a1["会员数"], a1["服务人口"], a1["会员比例"], a1["会员比例达标"]) == (3, 30, 0.1, "是")
    assert a1["活动要求"] == "达标" and a1["开展5·29会员活动日"] == "是"
    b1 = rows[world.village_b1.name]
    assert (b1["会员比例达标"], b1["活动要求"], b1["开展5·29会员活动日"]) == ("否", "未达标", "否")
    assert "会员比例" in b1["未达标目标"]


def test_the_sheet_page_filters_sorts_and_pages(figures, client_for):
    world = figures
    client = client_for(world.county_auditor.login)
    page = client.get(url(world.county, "/associations", sort="members", dir="desc")).text
    order = [world.village_a1.slug, world.village_a2.slug, world.village_b1.slug]
    positions = [page.index(f'data-slug="{slug}"') for slug in order]
    assert positions == sorted(positions)
    only = client.get(url(world.county, "/associations", q="village-a2")).text
    assert only.count('data-testid="association-row"') == 1
    behind = client.get(url(world.county, "/associations", target="members")).text
    assert f'data-slug="{world.village_b1.slug}"' in behind
    assert f'data-slug="{world.village_a1.slug}"' not in behind


def test_the_sheet_page_runs_a_fixed_number_of_queries(world, client_for, count_queries):
    client = client_for(world.county_auditor.login)

    def queries() -> int:
        client.get(url(world.county, "/associations"))  # takes any once-a-minute session touch
        with count_queries() as statements:
            assert client.get(url(world.county, "/associations")).status_code == 200
        return len(statements)

    few = queries()
    for number in range(30):
        township = create_tree_node(f"sheet-t{number}", AssociationKind.TOWNSHIP, world.county)
        create_tree_node(f"sheet-v{number}", AssociationKind.VILLAGE, township)
    assert queries() == few
    page = client.get(url(world.county, "/associations", page=2)).text
    assert page.count('data-testid="association-row"') == 8  # 33 rows, 25 a page


def test_new_members_and_the_member_day_are_figures(world, client_for):
    for name in ("新甲", "新乙"):
        create_member(world.village_a1, name, joined_on=date(YEAR, 3, 1))
    create_member(world.village_a1, "老会员", joined_on=date(YEAR - 3, 3, 1))
    create_activity(world.village_a1, held_on=date(YEAR, 5, 29), type=ActivityType.MEMBER_DAY)
    create_activity(world.village_a2, held_on=date(YEAR, 5, 29), type=ActivityType.PUBLICITY)
    client = client_for(world.county_auditor.login)
    client.post(url(world.county, "/refresh"))
    dashboard = client.get(url(world.county)).text
    assert "New members recruited: 2" in dashboard
    assert "5·29 member day held by 1 of 3 grassroots associations" in dashboard
    workbook = openpyxl.load_workbook(
        io.BytesIO(client.get(url(world.county, "/export.xlsx")).data)
    )
    members = workbook["会员"]
    assert members.cell(1, 6).value == "新发展会员" and members.cell(2, 6).value == 2
