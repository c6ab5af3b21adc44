"""Server-side sessions in Redis (SESSION_TYPE=redis, production with several workers): the same
promises as in the database. Skipped where no Redis answers on 127.0.0.1:6379."""

import pytest

from app.accounts.session import RECORD_KEY
from tests.accounts.test_sessions import cookie_of, is_signed_out, members_page, replay

redis = pytest.importorskip("redis", reason="the redis package is not installed (.[redis])")
REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_answers() -> bool:
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.exceptions.RedisError:
        return False


pytestmark = pytest.mark.skipif(not _redis_answers(), reason="no Redis on 127.0.0.1:6379")


@pytest.fixture
def app_config():
    return {"SESSION_TYPE": "redis", "SESSION_REDIS_URL": REDIS_URL}


def test_a_redis_session_holds_only_an_id_and_ends_at_logout(app, world, make_client):
    client = make_client()
    client.login(world.secretary_a1.login)
    copied = cookie_of(client)
    store = redis.Redis.from_url(REDIS_URL)
    assert store.exists("session:" + copied)
    with client.raw.session_transaction() as session:
        assert session[RECORD_KEY]
    assert replay(app, copied).get(members_page(world)).status_code == 200

    client.post("/logout")
    assert not store.exists("session:" + copied)
    assert is_signed_out(replay(app, copied).get(members_page(world)))
    assert is_signed_out(client.get(members_page(world)))


def test_a_session_ended_from_another_browser_is_signed_out(world, client_for):
    laptop = client_for(world.secretary_a1.login)
    phone = client_for(world.secretary_a1.login)
    laptop.post("/account/sessions/end-others")
    assert is_signed_out(phone.get(members_page(world)))
    assert laptop.get(members_page(world)).status_code == 200


def test_a_visitors_redis_session_expires_in_two_hours_a_signed_in_one_in_twelve(
    world, make_client
):
    store = redis.Redis.from_url(REDIS_URL)
    client = make_client()
    assert client.get("/login").status_code == 200
    assert 2 * 3600 - 60 < store.ttl("session:" + cookie_of(client)) <= 2 * 3600
    client.login(world.secretary_a1.login)
    assert store.ttl("session:" + cookie_of(client)) > 12 * 3600 - 60
