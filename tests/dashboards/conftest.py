import pytest

from tests.conftest import built_once
from tests.dashboards.helpers import fill_figures


@pytest.fixture
def app_config() -> dict:
    # These tests follow the figures as records change: keep the after-commit refresh on.
    return {"DASHBOARD_LIVE_REFRESH": True}


@pytest.fixture
def figures(request, app, world):
    # Seconds through the services with the figures kept live: built once per worker, then
    # each test gets a copy of the database.
    return built_once(request, app, "dashboards.figures", lambda: fill_figures(world))
