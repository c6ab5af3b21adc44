"""Behind nginx: the app trusts X-Forwarded-* from exactly PROXY_FIX_HOPS proxies."""

import pytest
from sqlalchemy import select

from app.core.audit import AuditLog
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS


@pytest.fixture
def app_config():
    return {"RATELIMIT_LOGIN": "3 per minute", "PROXY_FIX_HOPS": 1}


def _sign_in_attempts(client, forwarded_for: list[str]) -> list[int]:
    return [
        client.post(
            "/login",
            {"login": f"nobody{i}@test.cn", "password": "x"},
            headers={"X-Forwarded-For": value},
        ).status_code
        for i, value in enumerate(forwarded_for)
    ]


def test_a_forged_x_forwarded_for_does_not_change_the_address_the_login_limiter_counts(
    world, make_client
):
    # nginx appends the address it saw; whatever the client wrote before it is ignored.
    forged = [f"198.51.100.{i}, 203.0.113.7" for i in range(4)]
    assert _sign_in_attempts(make_client(), forged) == [422, 422, 422, 429]


def test_each_address_seen_by_the_proxy_has_its_own_count(world, make_client):
    client = make_client()
    assert _sign_in_attempts(client, ["203.0.113.7"] * 3) == [422, 422, 422]
    assert _sign_in_attempts(client, ["203.0.113.8"]) == [422]
    assert _sign_in_attempts(client, ["203.0.113.7"]) == [429]


def test_the_audit_log_records_the_address_the_proxy_saw(app, world, make_client):
    _sign_in_attempts(make_client(), ["10.9.9.9, 203.0.113.7"])
    with app.app_context(), UNSCOPED_BYPASS("the sign-in failures of the whole platform"):
        addresses = set(db.session.scalars(select(AuditLog.ip).where(AuditLog.ip.is_not(None))))
    assert addresses == {"203.0.113.7"}
