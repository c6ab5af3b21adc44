"""The self-governance cycle on the dashboards (监督): plans and reports published and the
residents' satisfaction are stored figures of each association, summed over every subtree, so
the children table, the subtree sheet and the .xlsx show them per child and rolled up, and a
closed year still shows the report published after it closed."""

import io

import openpyxl

from app.core.clock import china_today
from app.dashboards import periods, rollup
from app.extensions import db
from app.governance import services as governance
from tenants.context import scope_for, subtree_reads, tenant_context
from tests.factories import create_plan, create_survey

THIS_YEAR = china_today().year


def url(association, path: str = "/", year: int = THIS_YEAR) -> str:
    return f"/a/{association.slug}/dashboard{path}?year={year}"


def answers(association, overalls) -> None:
    _survey_id, codes = create_survey(association, codes=len(overalls))
    with tenant_context(scope_for(association, writable=True)):
        survey = governance.survey_for(THIS_YEAR)
        for code, overall in zip(codes, overalls, strict=True):
            governance.answer_survey(
                survey, code, governance.Answers(overall, {}), today=china_today()
            )
        db.session.commit()


def publish_report(association, year: int = THIS_YEAR) -> None:
    with tenant_context(scope_for(association, writable=True)):
        governance.save_report(year, "报告")
        governance.publish_report(association, year, user_id=None)
        db.session.commit()


def the_cycle(world, *, plan_b1: bool = True) -> None:
    """village_a1: plan and report published, 3 answers of which 2 satisfied; village_b1: plan
    published, 1 satisfied answer; village_a2: a draft plan (counts for nothing)."""
    create_plan(world.village_a1, published=True)
    publish_report(world.village_a1)
    answers(world.village_a1, (5, 4, 2))
    if plan_b1:
        create_plan(world.village_b1, published=True)
    answers(world.village_b1, (5,))
    create_plan(world.village_a2)


def cell(page: str, association, testid: str) -> str:
    row = page.split(f'data-slug="{association.slug}"')[1].split("</tr>")[0]
    return row.split(f'data-testid="{testid}"')[1].split("</td>")[0].partition(">")[2]


def stored(association, year: int = THIS_YEAR) -> rollup.Figures:
    with tenant_context(scope_for(association, writable=False)), subtree_reads():
        return rollup.rollup(association, year)


def test_the_children_table_shows_each_childs_cycle_rolled_up(world, client_for):
    the_cycle(world)
    county = client_for(world.county_auditor.login).get(url(world.county)).get_data(as_text=True)
    township_a = (
        cell(county, world.township_a, "child-plans"),
        cell(county, world.township_a, "child-reports"),
        cell(county, world.township_a, "child-satisfaction"),
    )
    assert township_a[0] == "1 / 3" and township_a[1] == "1 / 3"
    # 2 of 3 answers satisfied, below 80 % of the 95 % target: red.
    assert "66.7%" in township_a[2] and 'data-flag="red"' in township_a[2]
    assert "3 responses" in township_a[2]
    township_b = cell(county, world.township_b, "child-satisfaction")
    assert cell(county, world.township_b, "child-plans") == "1 / 2"
    assert cell(county, world.township_b, "child-reports") == "0 / 2"
    assert "100.0%" in township_b and 'data-flag="green"' in township_b

    township = client_for(world.township_a_secretary.login).get(url(world.township_a))
    page = township.get_data(as_text=True)
    assert cell(page, world.village_a1, "child-plans") == "1 / 1"
    assert cell(page, world.village_a2, "child-plans") == "0 / 1"  # a draft is not published
    a2 = cell(page, world.village_a2, "child-satisfaction")
    assert "—" in a2 and 'data-flag="none"' in a2


def test_a_plan_published_in_a_village_counts_in_every_subtree_above_it(world):
    create_plan(world.village_b1, published=True)
    for association in (world.village_b1, world.township_b, world.county, world.province):
        assert stored(association).plans_published == 1
    for association in (world.township_a, world.village_a1):
        assert stored(association).plans_published == 0
    the_cycle(world, plan_b1=False)
    for association in (world.county, world.township_a, world.township_b, world.village_a1):
        with tenant_context(scope_for(association, writable=False)), subtree_reads():
            naive = rollup.naive_rollup(association, THIS_YEAR).comparable()
        assert stored(association).comparable() == naive
    county = stored(world.county)
    assert (county.plans_published, county.reports_published) == (2, 1)
    assert (county.survey_responses, county.satisfied_responses) == (4, 3)


def test_a_village_sees_only_its_own_cycle(world, client_for):
    the_cycle(world)
    village = client_for(world.secretary_b1.login)
    page = village.get(f"/a/village-b1/dashboard/?year={THIS_YEAR}").get_data(as_text=True)
    text = page.split('data-testid="tile-governance"')[1].split("</a>")[0]
    assert "100.0%" in text and "66.7%" not in text and "75.0%" not in text
    own = stored(world.village_b1)
    assert (own.associations, own.plans_published, own.reports_published) == (1, 1, 0)
    assert (own.survey_responses, own.satisfied_responses) == (1, 1)
    assert village.get(url(world.township_b)).status_code == 404


def test_the_subtree_sheet_and_the_export_have_the_cycles_columns(world, client_for):
    the_cycle(world)
    auditor = client_for(world.county_auditor.login)
    sheet = auditor.get(url(world.county, "/associations")).get_data(as_text=True)
    assert "✓" in cell(sheet, world.village_a1, "plan-published")
    assert "✓" in cell(sheet, world.village_a1, "report-published")
    assert cell(sheet, world.village_a1, "survey-responses") == "3"
    assert "✗" in cell(sheet, world.village_a2, "plan-published")
    assert "✗" in cell(sheet, world.village_b1, "report-published")

    workbook = openpyxl.load_workbook(
        io.BytesIO(auditor.get(url(world.county, "/export.xlsx")).data)
    )
    cycle = workbook["群众自治"]
    assert [c.value for c in cycle[1]] == [
        "协会",
        "类型",
        "协会数",
        "已发布计划",
        "已发布报告",
        "评议答卷数",
        "满意答卷数",
        "满意率",
    ]
    rows = {row[0].value: [c.value for c in row][2:] for row in cycle.iter_rows(min_row=2)}
    assert rows[world.township_a.name] == [3, 1, 1, 3, 2, 0.667]
    assert rows[world.township_b.name] == [2, 1, 0, 1, 1, 1.0]
    assert cycle.cell(2, 8).number_format == "0.0%"
    grassroots = workbook["基层协会"]
    headers = [c.value for c in grassroots[1]]
    columns = [headers.index(h) for h in ("年度计划已公开", "年终报告已公开", "评议答卷数")]
    by_name = {row[2].value: [row[i].value for i in columns] for row in grassroots.iter_rows(2)}
    assert by_name[world.village_a1.name] == ["是", "是", 3]
    assert by_name[world.village_a2.name] == ["否", "否", 0]
    assert by_name[world.village_b1.name] == ["是", "否", 1]


def test_a_closed_year_shows_its_report_published_after_it_closed(world, client_for):
    last_year = THIS_YEAR - 1
    create_plan(world.village_a1, year=last_year, published=True)
    periods.close_period(last_year, 4)
    db.session.commit()
    publish_report(world.village_a1, last_year)  # in January: after the year closed

    page = client_for(world.county_auditor.login).get(url(world.county, year=last_year))
    text = page.get_data(as_text=True)
    assert 'data-testid="closed-period"' in text  # the frozen year is shown
    assert cell(text, world.township_a, "child-plans") == "1 / 3"
    assert cell(text, world.township_a, "child-reports") == "1 / 3"
    with tenant_context(scope_for(world.county, writable=False)), subtree_reads():
        closed = periods.read_period(world.county, last_year, 4)
    assert closed.dashboard.total.reports_published == 1
    assert closed.amended is None  # a report published on time is no amendment
    sheet = client_for(world.county_auditor.login).get(
        url(world.county, "/associations", year=last_year)
    )
    assert "✓" in cell(sheet.get_data(as_text=True), world.village_a1, "report-published")
