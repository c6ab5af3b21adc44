import pytest

from tests.dashboards.helpers import fill_figures


@pytest.fixture
def app_config() -> dict:
    # These tests follow the figures as records change: keep the after-commit refresh on.
    return {"DASHBOARD_LIVE_REFRESH": True}


@pytest.fixture
def figures(world):
    return fill_figures(world)
