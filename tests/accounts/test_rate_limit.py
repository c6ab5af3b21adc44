"""The per-address limit on sign-in attempts (Flask-Limiter)."""

import pytest

from tests.factories import PASSWORD


@pytest.fixture
def app_config():
    return {"RATELIMIT_LOGIN": "3 per minute"}


def test_login_attempts_are_rate_limited_per_address(world, make_client):
    client = make_client()
    statuses = [
        client.post("/login", {"login": f"nobody{i}@test.cn", "password": "x"}).status_code
        for i in range(4)
    ]
    assert statuses == [422, 422, 422, 429]
    assert "尝试次数过多" in client.post("/login", {"login": "a@b.cn", "password": "x"}).text


def test_second_factor_codes_are_rate_limited_like_the_password(world, make_client):
    client = make_client()
    assert client.post("/login", {"login": world.county_auditor.login, "password": PASSWORD})
    statuses = [client.post("/login/code", {"code": "000000"}).status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]
