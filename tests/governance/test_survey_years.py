"""A resident with last year's slip answers last year's evaluation: the public form serves the
survey of the year it is asked for, not only the latest one."""

from sqlalchemy import func, select

from app.core.clock import china_today
from app.extensions import db
from app.governance.models import Survey, SurveyResponse
from tenants.context import UNSCOPED_BYPASS
from tests.factories import create_survey

YEAR = china_today().year


def _responses(survey_id: int) -> int:
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        return db.session.scalar(
            select(func.count())
            .select_from(SurveyResponse)
            .where(SurveyResponse.survey_id == survey_id)
        )


def test_a_survey_other_than_the_latest_is_served_by_its_year(world, make_client):
    last_id, (last_code,) = create_survey(world.village_a1, codes=1, year=YEAR - 1)
    this_id, _codes = create_survey(world.village_a1, codes=1)
    resident = make_client()

    latest = resident.get("/p/village-a1/survey").get_data(as_text=True)
    assert f"year={YEAR}" in latest and f"year={YEAR - 1}" not in latest
    earlier = resident.get(f"/p/village-a1/survey?year={YEAR - 1}")
    assert earlier.status_code == 200
    assert f"/p/village-a1/survey?year={YEAR - 1}" in earlier.get_data(as_text=True)

    # Last year's code is unknown to this year's survey …
    answer = {"code": last_code, "overall": "4"}
    assert resident.post("/p/village-a1/survey", answer).status_code == 409
    # … and counts for last year's when the form names that year.
    assert resident.post(f"/p/village-a1/survey?year={YEAR - 1}", answer).status_code == 200
    assert (_responses(last_id), _responses(this_id)) == (1, 0)

    assert resident.get(f"/p/village-a1/survey?year={YEAR - 2}").status_code == 404
    assert resident.get("/p/village-a1/survey?year=1").status_code == 404
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        assert db.session.scalar(select(func.count()).select_from(Survey)) == 2
