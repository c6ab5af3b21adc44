"""The running period: progress and risk of the activity requirement, in the same words on the
activities page, the dashboard, the problems list and the report."""

import re
from datetime import date, datetime

import pytest
from flask_babel import force_locale

from app.core import clock
from app.dashboards import definitions
from app.dashboards.definitions import AT_RISK, MET, MISSED, ON_TRACK, activity_progress
from app.dashboards.labels import progress_text
from app.dashboards.targets import DEFAULT_TARGETS, Targets
from tests.factories import create_activity

YEAR = 2026


@pytest.mark.parametrize(
    ("quarters", "today", "status"),
    [
        ([1, 1, 1, 0], date(YEAR, 11, 30), AT_RISK),  # Q4 empty, 31 days left
        ([1, 1, 1, 0], date(YEAR, 10, 2), ON_TRACK),  # Q4 empty but just begun
        ([1, 1, 1, 1], date(YEAR, 11, 30), MET),
        ([1, 0, 1, 0], date(YEAR, 11, 30), MISSED),  # Q2 ended empty
        ([1, 0, 0, 0], date(YEAR, 7, 1), MISSED),  # the day Q2 is over, not at year end
        ([2, 1, 1, 1], date(YEAR + 1, 1, 1), MET),
        ([0, 0, 0, 0], date(YEAR, 1, 3), ON_TRACK),
    ],
)
def test_the_activity_requirement_status_as_the_year_goes_on(quarters, today, status):
    assert activity_progress(quarters, YEAR, today, DEFAULT_TARGETS).status == status


def test_q4_without_activity_on_30_november_is_at_risk_with_the_days_left(app):
    progress = activity_progress([1, 1, 1, 0], YEAR, date(YEAR, 11, 30), DEFAULT_TARGETS)
    assert progress.days_left == 31
    with app.test_request_context(), force_locale("en"):
        assert progress_text(progress) == "Q4: no activity yet, 31 days left."
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        assert progress_text(progress) == "第4季度：尚无活动，还剩 31 天。"


def test_a_yearly_count_above_four_quarters_is_at_risk_in_q4_until_reached():
    six = Targets(activities_per_year=6)
    assert activity_progress([1, 1, 1, 1], YEAR, date(YEAR, 12, 10), six).status == AT_RISK
    assert activity_progress([2, 2, 1, 1], YEAR, date(YEAR, 12, 10), six).status == MET
    assert activity_progress([1, 1, 1, 1], YEAR, date(YEAR + 1, 1, 1), six).status == MISSED


def test_subtree_counts_come_from_the_stored_signatures():
    totals: dict[str, int] = {}
    for quarters in ([1, 1, 1, 0], [1, 0, 1, 0], [1, 1, 1, 1]):
        for key, value in definitions.activity_signatures(quarters).items():
            totals[key] = totals.get(key, 0) + value
    counts = definitions.activity_status_counts(totals, YEAR, date(YEAR, 11, 30), DEFAULT_TARGETS)
    assert counts == {MET: 1, ON_TRACK: 0, AT_RISK: 1, MISSED: 1}


@pytest.fixture
def on_30_november(monkeypatch):
    monkeypatch.setattr(
        clock, "china_now", lambda: datetime(YEAR, 11, 30, 10, 0, tzinfo=clock.CHINA)
    )


def progress_of(page: str) -> tuple[str, str]:
    status = re.search(r'data-testid="activity-status" data-status="(\w+)"', page).group(1)
    text = re.search(r'data-testid="activity-progress">([^<]+)<', page).group(1)
    return status, text


def test_every_page_says_the_same_about_the_running_quarter(world, client_for, on_30_november):
    for month in (2, 5, 8):
        create_activity(world.village_a1, held_on=date(YEAR, month, 10))
    secretary = client_for(world.secretary_a1.login)
    activities = secretary.get("/a/village-a1/activities/").get_data(as_text=True)
    dashboard = secretary.get(f"/a/village-a1/dashboard/?year={YEAR}").get_data(as_text=True)
    report = secretary.get(f"/a/village-a1/dashboard/report?year={YEAR}").get_data(as_text=True)
    assert progress_of(activities) == progress_of(dashboard) == progress_of(report)
    status, text = progress_of(dashboard)
    assert status == AT_RISK and "31" in text
    assert 'data-testid="flag-activities" data-flag="amber"' in dashboard

    auditor = client_for(world.county_auditor.login)
    problems = auditor.get(
        f"/a/{world.township_a.slug}/dashboard/problems?year={YEAR}&target=activities"
    ).get_data(as_text=True)
    entry = problems.split('data-slug="village-a1"')[1].split("</li>")[0]
    assert 'data-testid="at-risk-activities"' in entry
    assert progress_of(entry) == (status, text)
