"""Overdue rectification tasks reach the dashboards' problems list (app/dashboards)."""

from datetime import timedelta

import pytest

from app.core.clock import china_today
from tests.factories import create_task


@pytest.fixture
def app_config() -> dict:
    # The figures follow the records here: keep the after-commit refresh on.
    return {"DASHBOARD_LIVE_REFRESH": True}


def test_an_association_with_an_overdue_task_is_in_the_problems_list(world, client_for):
    past = china_today() - timedelta(days=2)
    create_task(world.village_a2, opened_by=world.county_auditor, deadline_on=past)
    create_task(world.village_b1, opened_by=world.county_auditor)  # not due yet
    client = client_for(world.county_auditor.login)
    page = client.get("/a/county/dashboard/problems?target=rectification").get_data(True)
    assert "No overdue rectification task" in page  # the filter offers the target
    listed = [part.split('"')[0] for part in page.split('data-testid="problem" data-slug="')[1:]]
    assert listed == ["village-a2"]
    assert 'data-testid="missed-rectification"' in page
    # A task not yet due is no problem.
    other = client.get("/a/township-b/dashboard/problems?target=rectification").get_data(True)
    assert 'data-testid="problem"' not in other


def test_a_township_with_an_overdue_task_is_listed_too(world, client_for):
    """Register, activity and 七有 targets are grassroots ones, but a township can be behind
    on a 整改 task: the problems list covers every association of the subtree."""
    past = china_today() - timedelta(days=2)
    create_task(world.township_a, opened_by=world.county_auditor, deadline_on=past)
    client = client_for(world.county_auditor.login)
    page = client.get("/a/county/dashboard/problems?kind=township").get_data(True)
    listed = [part.split('"')[0] for part in page.split('data-testid="problem" data-slug="')[1:]]
    assert listed == ["township-a"]
    assert 'data-testid="missed-rectification"' in page
    # Its members and population are not judged against the grassroots targets.
    assert 'data-testid="missed-members"' not in page
    everything = client.get("/a/county/dashboard/problems").get_data(True)
    assert 'data-slug="township-a"' in everything
