import pytest


@pytest.fixture
def app_config() -> dict:
    # These tests follow the figures as records change: keep the after-commit refresh on.
    return {"DASHBOARD_LIVE_REFRESH": True}
