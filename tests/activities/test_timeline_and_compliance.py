"""The timeline with its filters, the quarterly compliance rule and the yearly report."""

from datetime import date

import pytest

from app.activities.services import compliance_from_dates, special_days_near
from app.core.clock import china_today
from tests.factories import create_activity

URL = "/a/village-a1/activities/"


# --- the rule ---------------------------------------------------------------------------------


def test_an_ended_quarter_without_activity_is_flagged_and_the_current_one_is_not():
    result = compliance_from_dates(
        2026, [date(2026, 2, 3), date(2026, 8, 1)], today=date(2026, 8, 20)
    )
    assert [q.count for q in result.quarters] == [1, 0, 1, 0]
    assert result.gaps == [2]  # Q2 ended empty; Q3 has one; Q4 has not started
    assert [q.current for q in result.quarters] == [False, False, True, False]
    assert result.total == 2 and not result.met


def test_four_activities_in_one_quarter_do_not_meet_the_rule():
    dates = [date(2026, 1, d) for d in (5, 6, 7, 8)]
    result = compliance_from_dates(2026, dates, today=date(2026, 12, 31))
    assert result.total == 4 and not result.met
    assert result.gaps == [2, 3]  # Q4 ends on 1 January


def test_one_activity_every_quarter_meets_the_rule_once_the_year_is_over():
    dates = [date(2025, m, 15) for m in (3, 5, 9, 12)]
    result = compliance_from_dates(2025, dates, today=date(2026, 1, 1))
    assert result.met and result.gaps == []
    assert all(q.ended for q in result.quarters)


def test_activities_of_other_years_do_not_count():
    result = compliance_from_dates(2026, [date(2025, 12, 31)], today=date(2026, 4, 1))
    assert result.total == 0 and result.gaps == [1]


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 5, 20), ["2026-05-29", "2026-06-01"]),
        (date(2026, 7, 12), ["2026-07-11"]),
        (date(2026, 3, 1), []),
    ],
)
def test_special_days_are_suggested_around_them(today, expected):
    assert [day.isoformat() for day, _ in special_days_near(today)] == expected


# --- the pages --------------------------------------------------------------------------------


def test_the_activities_page_shows_each_quarter_and_the_yearly_count(app, world, make_client):
    this_year = china_today().year
    create_activity(world.village_a1, title="年初宣传", held_on=date(this_year, 1, 10))
    text = make_client(world.secretary_a1.login).get(URL).get_data(as_text=True)
    assert "年初宣传" in text
    assert "本年已开展 1 次活动,要求不少于 4 次" in text


def test_an_ended_empty_quarter_is_flagged_on_the_page(app, world, make_client):
    create_activity(world.village_a1, title="去年三季度", held_on=date(2025, 8, 1))
    text = make_client(world.county_auditor.login).get(URL + "?year=2025").get_data(as_text=True)
    assert "第 1, 2, 4 季度已结束但没有开展活动" in text


def test_filters_by_year_quarter_and_type(app, world, make_client):
    create_activity(world.village_a1, title="春季培训", held_on=date(2025, 3, 3), type="training")
    create_activity(
        world.village_a1, title="夏季义诊", held_on=date(2025, 6, 6), type="free_clinic"
    )
    create_activity(world.village_a1, title="今年宣传", held_on=date(2026, 1, 6), type="publicity")
    client = make_client(world.secretary_a1.login)

    def titles(query):
        text = client.get(URL + query).get_data(as_text=True)
        return [t for t in ("春季培训", "夏季义诊", "今年宣传") if t in text]

    assert titles("") == ["春季培训", "夏季义诊", "今年宣传"]
    assert titles("?year=2025") == ["春季培训", "夏季义诊"]
    assert titles("?year=2025&quarter=2") == ["夏季义诊"]
    assert titles("?type=training") == ["春季培训"]
    assert titles("?year=2025&type=publicity") == []


def test_the_timeline_answers_an_htmx_request_with_the_fragment_only(app, world, make_client):
    create_activity(world.village_a1, title="片段")
    response = make_client(world.secretary_a1.login).get(URL, headers={"HX-Request": "true"})
    text = response.get_data(as_text=True)
    assert "片段" in text and "<html" not in text


def test_the_timeline_runs_a_fixed_number_of_queries(app, world, make_client, count_queries):
    client = make_client(world.secretary_a1.login)
    create_activity(world.village_a1, photos=1)
    client.get(URL)  # warm up: session, translations
    with count_queries() as few:
        assert client.get(URL).status_code == 200
    for day in range(1, 15):
        create_activity(world.village_a1, held_on=date(2025, 1, day), photos=2)
    with count_queries() as many:
        assert client.get(URL).status_code == 200
    assert len(many) == len(few)


def test_the_yearly_report_lists_that_years_activities_oldest_first(app, world, make_client):
    create_activity(
        world.village_a1, title="十月文艺", held_on=date(2025, 10, 1), type="performance"
    )
    create_activity(world.village_a1, title="五月活动日", held_on=date(2025, 5, 29))
    create_activity(world.village_a1, title="别的年份", held_on=date(2024, 5, 29))
    response = make_client(world.county_auditor.login).get(URL + "report?year=2025")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert text.index("五月活动日") < text.index("十月文艺")
    assert "别的年份" not in text
    assert "2 / 4" in text
    assert "尚未达标" in text


def test_activities_of_another_association_never_show(app, world, make_client):
    create_activity(world.village_a2, title="邻村的活动")
    text = make_client(world.secretary_a1.login).get(URL).get_data(as_text=True)
    assert "邻村的活动" not in text
    auditor_text = make_client(world.township_b_auditor.login).get(URL)
    assert auditor_text.status_code == 404
