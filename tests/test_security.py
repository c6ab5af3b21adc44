"""Security headers, production settings, error pages and bad URLs."""

import pytest

from app import create_app
from app.extensions import db
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


def test_the_sign_in_rate_limit_comes_from_the_environment(monkeypatch, database_url):
    monkeypatch.setenv("RATELIMIT_LOGIN", "3 per minute")
    config = base_config(database_url, WTF_CSRF_ENABLED=False)
    del config["RATELIMIT_LOGIN"]  # the tests' own generous limit
    app = create_app(config)
    assert app.config["RATELIMIT_LOGIN"] == "3 per minute"
    client = app.test_client()
    codes = [
        client.post("/login", data={"login": "nobody@x.cn", "password": "wrong"}).status_code
        for _ in range(4)
    ]
    assert codes[-1] == 429 and 429 not in codes[:3] and max(codes[:3]) < 500, codes
    with app.app_context():
        db.engine.dispose()


def test_a_malformed_rate_limit_refuses_to_start(monkeypatch):
    monkeypatch.setenv("RATELIMIT_LOGIN", "twenty a minute")
    with pytest.raises(RuntimeError, match="RATELIMIT_LOGIN"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


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
