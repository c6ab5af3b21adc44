"""Signing in: lock-out, rate limit, CSRF, session expiry, safe redirects."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts.models import User, UserSession
from app.accounts.session import RECORD_KEY
from app.core.audit import AuditLog
from app.core.clock import utcnow
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tests.factories import PASSWORD, reload


def test_wrong_password_is_refused_with_a_translated_message_and_logged(world, make_client):
    client = make_client()
    response = client.post("/login", {"login": world.secretary_a1.login, "password": "nope-nope"})
    assert response.status_code == 422
    assert "账号或密码错误" in response.text
    with UNSCOPED_BYPASS("test reads the audit log"):
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "login_failed"))
    assert entry.user_id == world.secretary_a1.id and entry.outcome == "failed"


def test_five_failures_lock_the_account_even_against_the_right_password(world, make_client):
    client = make_client()
    for _ in range(5):
        client.post("/login", {"login": world.secretary_a1.login, "password": "wrong-guess"})
    response = client.post("/login", {"login": world.secretary_a1.login, "password": PASSWORD})
    assert response.status_code == 422
    assert "失败次数过多" in response.text
    user = reload(User, world.secretary_a1.id)
    assert user.locked_until > utcnow()
    # The lock is short: once it has passed, the right password works again.
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.post("/login", {"login": user.login, "password": PASSWORD}).status_code == 302


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(world, make_client):
    client = make_client(world.secretary_a1.login)
    response = client.post(
        f"/a/{world.village_a1.slug}/people/invite",
        {"name": "新人", "login": "new@test.cn", "role": "staff"},
        csrf=False,
    )
    assert response.status_code == 400
    assert "表单已过期或来源不明" in response.text
    people = client.get(f"/a/{world.village_a1.slug}/people")
    assert "新人" not in people.text
    # Logging out needs the token too: without it the session survives.
    assert client.post("/logout", csrf=False).status_code == 400
    assert client.get(f"/a/{world.village_a1.slug}/").status_code == 200


def _age_session(client, **seconds_ago):
    """Move the client's session record back in time: `seen` (last_seen_at), `started`."""
    with client.raw.session_transaction() as session:
        record_id = session[RECORD_KEY]
    record = db.session.get(UserSession, record_id)
    for key, seconds in seconds_ago.items():
        column = {"seen": "last_seen_at", "started": "created_at"}[key]
        setattr(record, column, getattr(record, column) - timedelta(seconds=seconds))
    db.session.commit()


def test_an_idle_staff_session_expires_after_thirty_minutes(world, make_client):
    client = make_client(world.secretary_a1.login)
    _age_session(client, seen=29 * 60)
    assert client.get(f"/a/{world.village_a1.slug}/").status_code == 200
    _age_session(client, seen=31 * 60)
    response = client.get(f"/a/{world.village_a1.slug}/")
    assert response.status_code == 302 and "/login" in response.location
    assert client.get(f"/a/{world.village_a1.slug}/").status_code == 302


def test_members_get_a_longer_idle_time_but_every_session_ends_after_twelve_hours(
    world, make_client
):
    client = make_client(world.member_a1.login)
    _age_session(client, seen=60 * 60)
    assert client.get(f"/a/{world.village_a1.slug}/").status_code == 200
    _age_session(client, started=12 * 3600 + 1)
    assert client.get(f"/a/{world.village_a1.slug}/").status_code == 302


def test_logout_ends_the_session(world, make_client):
    client = make_client(world.secretary_a1.login)
    assert client.post("/logout").status_code == 302
    assert client.get(f"/a/{world.village_a1.slug}/").status_code == 302


def test_a_disabled_account_loses_its_open_sessions_at_once(world, make_client):
    client = make_client(world.staff_a1.login)
    user = reload(User, world.staff_a1.id)
    user.disabled_at = utcnow()
    db.session.commit()
    response = client.get(f"/a/{world.village_a1.slug}/")
    assert response.status_code == 302 and "/login" in response.location
    refused = client.post("/login", {"login": user.login, "password": PASSWORD})
    assert refused.status_code == 422 and "该账号已被停用" in refused.text


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "javascript:x"])
def test_login_never_redirects_off_site(world, make_client, target):
    client = make_client()
    response = client.post(
        f"/login?next={target}", {"login": world.secretary_a1.login, "password": PASSWORD}
    )
    assert response.status_code == 302 and response.location == "/"


def test_an_oversize_login_field_is_a_form_error_not_a_crash(world, make_client):
    response = make_client().post("/login", {"login": "x" * 5000, "password": "y"})
    assert response.status_code == 422
    assert "120" in response.text and "字段长度" in response.text  # WTForms' own zh messages


def test_each_login_starts_a_new_session(world, make_client):
    client = make_client()
    with client.raw.session_transaction() as session:
        session["planted"] = "by an attacker before login"
    client.login(world.secretary_a1.login)
    with client.raw.session_transaction() as session:
        assert "planted" not in session
