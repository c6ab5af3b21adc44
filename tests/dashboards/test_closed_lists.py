"""A closed year stays closed on every page: the problems list and the subtree sheet (page and
.xlsx) read the frozen rows through the one read path (app/dashboards/reading.py), as the
dashboard does; the values entered by hand count as targets and are frozen with the period;
the tree a period is frozen with is the tree on the day it closed."""

import io

import openpyxl
from sqlalchemy import select

from app.core.clock import china_today
from app.dashboards import periods, reading, totals
from app.dashboards.models import PeriodFigures
from app.dashboards.targets import targets_in_force
from app.extensions import db
from tenants import tree
from tenants.context import UNSCOPED_BYPASS, scope_for, subtree_reads, tenant_context
from tenants.models import Association
from tests.dashboards.helpers import YEAR, in_quarter
from tests.factories import create_activity, create_survey_response


def url(association, path: str = "/", **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"year": YEAR, **params}.items())
    return f"/a/{association.slug}/dashboard{path}?{query}"


def close(quarter: int = 4) -> None:
    periods.close_period(YEAR, quarter)
    db.session.commit()


def move(association, new_parent) -> None:
    with UNSCOPED_BYPASS("test: move an association to another parent"):
        moved = db.session.get(Association, association.id)
        with totals.carried(moved):
            tree.move_association(moved, db.session.get(Association, new_parent.id))
        db.session.commit()


def row_of(page: str, association) -> str:
    return page.split(f'data-slug="{association.slug}"')[1].split("</tr>")[0]


def problem_of(page: str, association) -> str | None:
    marker = f'data-testid="problem" data-slug="{association.slug}"'
    return page.split(marker)[1].split("</li>")[0] if marker in page else None


def test_the_problems_list_and_the_sheet_of_a_closed_year_read_its_frozen_rows(figures, client_for):
    world = figures  # village_a2: an activity in Q1 only, so it missed the year's requirement
    close()
    for quarter in (2, 3, 4):  # back-dated after the close: the live year now meets it
        create_activity(world.village_a2, held_on=in_quarter(quarter))
    move(world.village_a2, world.township_b)  # after the close: frozen where it stood
    client = client_for(world.county_auditor.login)

    problems = client.get(url(world.county, "/problems")).text
    assert 'data-testid="closed-period"' in problems
    assert 'data-testid="missed-activities"' in problem_of(problems, world.village_a2)
    live = client.get(url(world.county, "/problems", quarter=0)).text
    assert 'data-testid="closed-period"' not in live
    assert 'data-testid="missed-activities"' not in problem_of(live, world.village_a2)

    sheet = client.get(url(world.county, "/associations")).text
    assert 'data-testid="closed-period"' in sheet
    frozen_row = row_of(sheet, world.village_a2)
    assert "1/0/0/0" in frozen_row and world.township_a.name in frozen_row
    behind = client.get(url(world.county, "/associations", target="activities")).text
    assert f'data-slug="{world.village_a2.slug}"' in behind
    live_row = row_of(
        client.get(url(world.county, "/associations", quarter=0)).text, world.village_a2
    )
    assert "1/1/1/1" in live_row and world.township_b.name in live_row

    export = client.get(url(world.county, "/export.xlsx"))
    workbook = openpyxl.load_workbook(io.BytesIO(export.data))
    rows = {row[2]: row for row in workbook["基层协会"].iter_rows(min_row=2, values_only=True)}
    assert rows[world.village_a2.name][1] == world.township_a.name  # the township it stood in
    assert rows[world.village_a2.name][14] == 1
    problems_sheet = {row[0] for row in workbook["问题清单"].iter_rows(2, values_only=True)}
    assert world.village_a2.name in problems_sheet


def test_the_read_api_gives_the_frozen_rows_of_a_closed_period(figures):
    world = figures
    close()
    create_activity(world.village_b1, held_on=in_quarter(2))
    period = reading.period_shown(YEAR)
    assert (period.year, period.quarter, period.frozen) == (YEAR, 4, True)
    assert not reading.period_shown(YEAR, 0).frozen
    with tenant_context(scope_for(world.county, writable=False)), subtree_reads():
        targets = targets_in_force(world.county, YEAR)
        rows = {
            row.association.id: row
            for row in reading.association_rows(world.county, period, targets)
        }
        live = {
            row.association.id: row
            for row in reading.association_rows(world.county, reading.Period(YEAR), targets)
        }
        total, amended = reading.subtree_figures(world.county, period)
    assert rows[world.village_b1.id].figures.activities == 0
    assert live[world.village_b1.id].figures.activities == 1
    assert (total.activities, amended.activities) == (5, 6)


def test_a_value_entered_by_hand_below_its_target_is_a_missed_target(world, client_for):
    year = china_today().year
    village = client_for(world.secretary_a1.login)
    response = village.post(
        f"/a/{world.village_a1.slug}/dashboard/manual?year={year}", {"value_awareness": "90"}
    )
    assert response.status_code == 303
    create_survey_response(world.village_a2, overall=2)  # 满意率 0 % from the evaluation
    client = client_for(world.county_auditor.login)

    problems = client.get(url(world.county, "/problems", year=year)).text
    a1 = problem_of(problems, world.village_a1)
    assert 'data-testid="missed-manual"' in a1 and "知晓率" in a1
    a2 = problem_of(problems, world.village_a2)
    assert 'data-testid="missed-manual"' in a2 and "满意率" in a2
    only = client.get(url(world.county, "/problems", year=year, target="manual")).text
    assert only.count('data-testid="problem"') == 2
    sheet = client.get(url(world.county, "/associations", year=year, target="manual")).text
    assert sheet.count('data-testid="association-row"') == 2

    export = client.get(url(world.county, "/export.xlsx", year=year))
    grassroots = openpyxl.load_workbook(io.BytesIO(export.data))["基层协会"]
    header = [cell.value for cell in grassroots[1]]
    rows = {
        row[2]: dict(zip(header, row, strict=True))
        for row in grassroots.iter_rows(2, values_only=True)
    }
    assert "知晓率" in rows[world.village_a1.name]["未达标目标"]
    assert "满意率" not in rows[world.village_a1.name]["未达标目标"]


def test_values_entered_by_hand_are_frozen_and_a_later_edit_is_an_amendment(figures, client_for):
    world = figures
    village = client_for(world.secretary_a1.login)
    manual_url = f"/a/{world.village_a1.slug}/dashboard/manual?year={YEAR}"
    assert village.post(manual_url, {"value_awareness": "96.5"}).status_code == 303
    close()
    with UNSCOPED_BYPASS("test reads the frozen row"):
        frozen = db.session.scalar(
            select(PeriodFigures.frozen).where(
                PeriodFigures.association_id == world.village_a1.id,
                PeriodFigures.year == YEAR,
                PeriodFigures.quarter == 4,
            )
        )
    assert frozen["manual"] == {"awareness": 9650}

    page = village.get(manual_url).text
    assert 'data-testid="manual-closed"' in page
    assert village.post(manual_url, {"value_awareness": "90"}).status_code == 303
    client = client_for(world.county_auditor.login)
    sheet = client.get(url(world.county, "/associations")).text
    cell = row_of(sheet, world.village_a1).split('data-testid="manual-awareness"')[1]
    cell = cell.split("</td>")[0]
    assert "96.5%" in cell and "status-met" in cell
    assert 'data-testid="manual-amended"' in cell and "90.0%" in cell
    problems = client.get(url(world.county, "/problems")).text
    assert problem_of(problems, world.village_a1) is None  # frozen: 96.5 % met
    live = client.get(url(world.county, "/problems", quarter=0)).text
    assert 'data-testid="missed-manual"' in problem_of(live, world.village_a1)


def test_the_first_close_freezes_the_tree_as_it_stands_on_the_day_it_closes(figures, client_for):
    world = figures
    move(world.village_a2, world.township_b)  # before the period closed: no move history
    close()
    with tenant_context(scope_for(world.county, writable=False)), subtree_reads():
        township_a = periods.read_period(world.township_a, YEAR, 4).dashboard.total
        township_b = periods.read_period(world.township_b, YEAR, 4).dashboard.total
    assert (township_a.grassroots, township_b.grassroots) == (1, 2)
    page = client_for(world.county_auditor.login).get(url(world.county)).text
    assert "where it stood in the tree on the day it closed" in page
