"""Security headers, production settings, error pages and bad URLs."""

import pytest

from app import create_app
from tests.conftest import base_config


def test_pages_carry_security_headers(world, make_client):
    response = make_client(world.secretary_a1.login).get(f"/a/{world.village_a1.slug}/")
    headers = response.headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"
    assert "HX-Request" in headers["Vary"]


def test_session_cookie_is_httponly_and_samesite(world, make_client):
    response = make_client().post(
        "/login", {"login": world.secretary_a1.login, "password": "Test-Password-2026"}
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("secret", [None, "short", "dev-only-insecure-secret"])
def test_production_refuses_to_start_with_a_weak_secret(secret):
    config = base_config("sqlite://", ENV="production")
    config["SECRET_KEY"] = secret
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(config)


def test_production_sets_secure_cookies_and_hsts(monkeypatch):
    monkeypatch.setenv("XIEHUI_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/login")
    assert "max-age" in response.headers["Strict-Transport-Security"]


@pytest.mark.parametrize(
    "path",
    [
        "/a/no-such-slug/",
        "/a/village-a1/people/invitations/not-a-number/revoke",
        "/a/village-a1/people/invitations/99999999999999999999/revoke",
        "/nothing-here",
        "/a/%00/",
    ],
)
def test_bad_urls_answer_404_with_a_friendly_page(world, make_client, path):
    client = make_client(world.secretary_a1.login)
    response = client.post(path) if "revoke" in path else client.get(path)
    assert response.status_code == 404
    assert "找不到该页面" in response.text


def test_an_oversize_field_is_a_translated_form_error(world, make_client):
    client = make_client(world.secretary_a1.login)
    response = client.post(
        f"/a/{world.village_a1.slug}/people/invite",
        {"name": "x" * (300 * 1024), "login": "a@b.cn", "role": "staff"},
    )
    assert response.status_code == 422
    assert "字段长度" in response.text


def test_a_request_over_the_size_limit_is_refused_cleanly(app, world, make_client):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    client = make_client(world.secretary_a1.login)
    response = client.post(
        f"/a/{world.village_a1.slug}/people/invite",
        {"name": "x" * (2 * 1024 * 1024), "login": "a@b.cn", "role": "staff"},
    )
    assert response.status_code == 413
    assert "过大" in response.text
