"""Values entered by hand for the targets no figure measures (知晓率, 自治开展面, 满意率 without
a residents' evaluation, a level's own targets entered by hand): entered once a year by each
grassroots association's secretary, validated, audit-logged, and read by the level above in
the subtree sheet (page and .xlsx) with met / not met against the target in force."""

import io

import openpyxl
from sqlalchemy import select

from app.core.audit import AuditLog
from app.core.clock import china_today
from app.dashboards.models import ManualTargetValue
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tests.dashboards.helpers import YEAR
from tests.factories import create_survey_response


def url(association, path: str = "/manual", year: int = YEAR) -> str:
    return f"/a/{association.slug}/dashboard{path}?year={year}"


def stored(year: int = YEAR) -> dict:
    with UNSCOPED_BYPASS("test reads the values entered"):
        rows = db.session.scalars(select(ManualTargetValue).where(ManualTargetValue.year == year))
        return {(row.association_id, row.key): (row.value_centi, row.note) for row in rows}


def test_a_secretary_enters_the_years_values_and_the_level_above_sees_them(world, client_for):
    village = client_for(world.secretary_a1.login)
    page = village.get(url(world.village_a1))
    assert page.status_code == 200
    assert 'data-testid="manual-form"' in page.text
    assert "residents' evaluation" in page.text  # says where 满意率 comes from
    response = village.post(
        url(world.village_a1),
        {
            "value_awareness": "96.5",
            "note_awareness": "问卷 200 户",
            "value_self_governance": "90",
            "value_satisfaction": "",
        },
    )
    assert response.status_code == 303
    assert stored() == {
        (world.village_a1.id, "awareness"): (9650, "问卷 200 户"),
        (world.village_a1.id, "self_governance"): (9000, ""),
    }
    page = village.get(url(world.village_a1)).text
    assert "96.5%" in page and world.secretary_a1.name in page and "问卷 200 户" in page
    with UNSCOPED_BYPASS("test reads the audit log"):
        logged = db.session.scalars(
            select(AuditLog.action).where(AuditLog.target_type == "ManualTargetValue")
        ).all()
    assert sorted(logged) == ["create", "create"]

    sheet = client_for(world.township_a_secretary.login).get(url(world.township_a, "/associations"))
    row = sheet.text.split(f'data-slug="{world.village_a1.slug}"')[1].split("</tr>")[0]
    awareness = row.split('data-testid="manual-awareness"')[1].split("</td>")[0]
    assert "96.5%" in awareness and "status-met" in awareness
    governance = row.split('data-testid="manual-self_governance"')[1].split("</td>")[0]
    assert "90.0%" in governance and "status-missed" in governance  # target 100 %
    other = sheet.text.split(f'data-slug="{world.village_a2.slug}"')[1].split("</tr>")[0]
    assert other.count("not entered") == 3

    export = client_for(world.county_auditor.login).get(url(world.county, "/export.xlsx"))
    grassroots = openpyxl.load_workbook(io.BytesIO(export.data))["基层协会"]
    header = [cell.value for cell in grassroots[1]]
    rows = {row[2]: row for row in grassroots.iter_rows(2, values_only=True)}
    first = header.index("未达标目标") + 1  # the values entered by hand come after the figures
    assert len(header) == first + 2 * 3
    assert header[first : first + 2] == ["群众满意率 (%)", "群众满意率达标"]
    values = rows[world.village_a1.name][first:]
    assert values[4:6] == (0.965, "是")  # awareness, after satisfaction and self-governance
    assert values[0] == "未填报" and values[2:4] == (0.9, "否")
    assert rows[world.village_b1.name][first:][4] == "未填报"


def test_bad_values_are_refused_and_nothing_is_written(world, make_client):
    village = make_client(world.secretary_a1.login)  # Chinese
    response = village.post(
        url(world.village_a1), {"value_awareness": "120", "value_self_governance": "80"}
    )
    assert response.status_code == 422
    assert "请输入 0 到 100 之间的百分数" in response.text
    assert stored() == {}
    assert village.post(url(world.village_a1), {}).status_code == 422  # nothing entered
    assert stored() == {}


def test_an_own_target_entered_by_hand_has_its_row_and_unit(world, client_for):
    township = client_for(world.township_a_secretary.login)
    township.post(
        f"/a/{world.township_a.slug}/dashboard/targets/own?year={YEAR}",
        {"name": "入户宣传", "unit": "次", "value": "12", "figure": ""},
    )
    village = client_for(world.secretary_a1.login)
    page = village.get(url(world.village_a1)).text
    assert "入户宣传 (次)" in page and "≥ 12 次" in page
    (field,) = [
        part.split('"')[0]
        for part in page.split('name="value_own_')[1:]
        if not part.startswith("new")
    ]
    refused = village.post(url(world.village_a1), {f"value_own_{field}": "-1"})
    assert refused.status_code == 422 and "Enter a number of 0 or more." in refused.text
    assert stored() == {}
    assert village.post(url(world.village_a1), {f"value_own_{field}": "14"}).status_code == 303
    sheet = township.get(url(world.township_a, "/associations")).text
    row = sheet.split(f'data-slug="{world.village_a1.slug}"')[1].split("</tr>")[0]
    cell = row.split(f'data-testid="manual-own_{field}"')[1].split("</td>")[0]
    assert "14 次" in cell and "status-met" in cell


def test_satisfaction_comes_from_the_residents_evaluation_when_there_is_one(world, client_for):
    year = china_today().year
    create_survey_response(world.village_a1, overall=5)
    village = client_for(world.secretary_a1.login)
    page = village.get(url(world.village_a1, year=year)).text
    assert "From the residents' evaluation (1 answers)" in page
    assert 'name="value_satisfaction"' not in page and 'name="value_awareness"' in page
    sheet = client_for(world.county_auditor.login).get(
        url(world.county, "/associations", year=year)
    )
    row = sheet.text.split(f'data-slug="{world.village_a1.slug}"')[1].split("</tr>")[0]
    cell = row.split('data-testid="manual-satisfaction"')[1].split("</td>")[0]
    assert "100.0%" in cell and "status-met" in cell and "evaluation" in cell


def test_only_grassroots_associations_enter_values(world, client_for):
    township = client_for(world.township_a_secretary.login)
    page = township.get(url(world.township_a))
    assert page.status_code == 200 and 'data-testid="not-grassroots"' in page.text
    assert 'data-testid="manual-form"' not in page.text
    assert township.post(url(world.township_a), {"value_awareness": "90"}).status_code == 404
    auditor = client_for(world.county_auditor.login)
    assert auditor.get(url(world.village_a1)).status_code == 200
    assert auditor.post(url(world.village_a1), {"value_awareness": "90"}).status_code == 403
    assert stored() == {}
