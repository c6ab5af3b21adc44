"""Without a proxy (PROXY_FIX_HOPS=0, the default) X-Forwarded-For is not trusted at all."""

import pytest


@pytest.fixture
def app_config():
    return {"RATELIMIT_LOGIN": "3 per minute"}


def test_x_forwarded_for_is_ignored_without_a_proxy(world, make_client):
    client = make_client()
    statuses = [
        client.post(
            "/login",
            {"login": f"nobody{i}@test.cn", "password": "x"},
            headers={"X-Forwarded-For": f"198.51.100.{i}"},
        ).status_code
        for i in range(4)
    ]
    assert statuses == [422, 422, 422, 429]


def test_static_urls_carry_a_content_fingerprint(app):
    from flask import url_for

    with app.test_request_context():
        url = url_for("static", filename="css/app.css")
        missing = url_for("static", filename="css/no-such-file.css")
    assert url.startswith("/static/css/app.css?v=") and len(url.split("v=")[1]) == 12
    assert missing == "/static/css/no-such-file.css"
    assert app.test_client().get(url).status_code == 200


def test_the_too_large_page_is_the_apps_own_translated_page(client):
    response = client.get("/errors/too-large")
    assert response.status_code == 413
    assert "文件或表单过大" in response.text
