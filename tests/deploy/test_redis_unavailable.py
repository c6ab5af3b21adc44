"""Redis down (sessions, the login limiter, the job queue): the translated, retryable 503,
not a 500 — bench/topology_drill.py saw 500s for every request while Redis was killed."""

import pytest

from tests.deploy.nginx_site import free_port

pytest.importorskip("redis", reason="the redis extra is not installed (pip install .[redis])")


@pytest.fixture
def app_config():
    return {
        "SESSION_TYPE": "redis",
        "SESSION_REDIS_URL": f"redis://127.0.0.1:{free_port()}/1",  # nothing listens there
        # As in production: an error while the session loads reaches the 500 handler instead
        # of propagating to the test.
        "PROPAGATE_EXCEPTIONS": False,
    }


def test_a_session_that_cannot_be_loaded_from_redis_answers_the_translated_503(app):
    client = app.test_client()
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], "a-session-id-kept-in-redis")
    response = client.get("/login")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "服务暂时不可用" in response.get_data(as_text=True)
