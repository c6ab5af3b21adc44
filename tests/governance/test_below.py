"""The level above (监督) sees where each association below stands in the year's cycle — plans
and reports published, responses and satisfaction — per child and over the whole subtree."""

import re

import pytest

from app.core.clock import china_today
from app.extensions import db
from app.governance import services
from tenants.context import scope_for, subtree_reads, tenant_context
from tests.factories import create_plan, create_survey

YEAR = china_today().year


@pytest.fixture
def app_config() -> dict:
    # The page reads the dashboards' stored sums: keep the after-commit refresh on.
    return {"DASHBOARD_LIVE_REFRESH": True}


def _answers(association, overalls):
    _survey_id, codes = create_survey(association, codes=len(overalls))
    with tenant_context(scope_for(association, writable=True)):
        survey = services.survey_for(YEAR)
        for code, overall in zip(codes, overalls, strict=True):
            services.answer_survey(survey, code, services.Answers(overall, {}), today=china_today())
        db.session.commit()


def _publish_report(association):
    with tenant_context(scope_for(association, writable=True)):
        services.save_report(YEAR, "报告")
        services.publish_report(association, YEAR, user_id=None)
        db.session.commit()


def test_each_child_and_the_subtree_in_total(world, make_client, count_queries):
    create_plan(world.village_a1, published=True)
    _publish_report(world.village_a1)
    _answers(world.village_a1, (5, 4, 2))
    create_plan(world.village_b1, published=True)
    _answers(world.village_b1, (5,))
    create_plan(world.village_a2)  # a draft counts for nothing

    page = make_client(world.county_auditor.login).get("/a/county/governance/below")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    township_a = text.split('data-testid="below-township-a"')[1].split("</tr>")[0]
    assert "1 / 3" in township_a and "66.7%" in township_a
    township_b = text.split('data-testid="below-township-b"')[1].split("</tr>")[0]
    assert "1 / 2" in township_b and "0 / 2" in township_b and "100.0%" in township_b
    total = text.split('data-testid="below-total"')[1].split("</tr>")[0]
    # 4 answers, 3 satisfied: 75 %, not the average of the two rates (83.3 %).
    assert "2 / 6" in total and "1 / 6" in total and "75.0%" in total

    county_scope = tenant_context(scope_for(world.county, writable=False))
    with county_scope, subtree_reads(), count_queries() as statements:
        services.cycle_below(world.county, YEAR)
    assert len(statements) == 2  # the children, then their stored sums and the subtree's


def test_the_dashboard_shows_the_cycle_rolled_up_and_links_to_each_child(world, make_client):
    create_plan(world.village_a1, published=True)
    _publish_report(world.village_a1)
    _answers(world.village_a1, (5, 4, 2, 1))
    create_plan(world.village_b1, published=True)

    county = make_client(world.county_auditor.login).get(f"/a/county/dashboard/?year={YEAR}")
    assert county.status_code == 200
    tile = _tile(county)
    assert "50.0%" in tile  # 2 of 4 answers satisfied, over the whole subtree
    assert _numbers(tile, "governance-plans") == ["2", "6"]  # 6 associations in the county
    assert _numbers(tile, "governance-reports") == ["1", "6"]
    assert f"/a/county/governance/below?year={YEAR}" in tile

    # A village reads its own subtree only: its plan, no report, no answers.
    village = make_client(world.secretary_b1.login).get(f"/a/village-b1/dashboard/?year={YEAR}")
    tile = _tile(village)
    assert _numbers(tile, "governance-plans") == ["1", "1"]
    assert _numbers(tile, "governance-reports") == ["0", "1"]
    assert "50.0%" not in tile


def _tile(page) -> str:
    return page.get_data(as_text=True).split('data-testid="tile-governance"')[1].split("</div>")[0]


def _numbers(tile: str, testid: str) -> list[str]:
    return re.findall(r"\d+", tile.split(f'data-testid="{testid}">')[1].split("</span>")[0])
