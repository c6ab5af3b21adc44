"""Password reset by signed, expiring, single-use link; password change; strength rules."""

import re

import pytest

from app.accounts.models import User
from app.accounts.passwords import password_problem, verify_password
from tests.factories import PASSWORD, reload

NEW_PASSWORD = "Brand-new-Pass-77"


def _reset_link(outbox) -> str:
    assert outbox, "no message was sent"
    return re.search(r"https?://\S+/password/reset/\S+", outbox[-1].body).group(0)


def test_reset_link_is_sent_and_sets_a_new_password(world, make_client, outbox):
    client = make_client()
    response = client.post("/password/forgot", {"login": world.secretary_a1.login})
    assert response.status_code == 302
    link = _reset_link(outbox)
    assert outbox[-1].to == world.secretary_a1.login
    path = link.split("localhost", 1)[-1]
    assert client.get(path).status_code == 200
    done = client.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    assert verify_password(reload(User, world.secretary_a1.id).password_hash, NEW_PASSWORD)
    client.login(world.secretary_a1.login, NEW_PASSWORD)


def test_a_used_reset_link_cannot_be_used_again(world, make_client, outbox):
    client = make_client()
    client.post("/password/forgot", {"login": world.secretary_a1.login})
    path = "/password/reset/" + _reset_link(outbox).rsplit("/", 1)[-1]
    client.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    again = client.post(path, {"password": "Another-pass-99", "confirm": "Another-pass-99"})
    assert again.status_code == 410
    assert "已过期或已被使用" in again.text
    assert verify_password(reload(User, world.secretary_a1.id).password_hash, NEW_PASSWORD)


def test_an_expired_reset_link_is_refused(app, world, make_client, outbox):
    app.config["PASSWORD_RESET_MAX_AGE_SECONDS"] = -1  # every token is already too old
    client = make_client()
    client.post("/password/forgot", {"login": world.secretary_a1.login})
    path = "/password/reset/" + _reset_link(outbox).rsplit("/", 1)[-1]
    response = client.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 410
    assert verify_password(reload(User, world.secretary_a1.id).password_hash, PASSWORD)


def test_asking_for_an_unknown_account_reveals_nothing(world, make_client, outbox):
    response = make_client().post(
        "/password/forgot", {"login": "nobody@test.cn"}, follow_redirects=True
    )
    assert "如果该账号存在" in response.text
    assert outbox == []


def test_a_forged_reset_token_is_refused(world, make_client):
    assert make_client().get("/password/reset/not-a-real-token").status_code == 410


def test_changing_the_password_signs_out_other_sessions(world, make_client):
    phone = make_client(world.secretary_a1.login)
    laptop = make_client(world.secretary_a1.login)
    response = laptop.post(
        "/password/change",
        {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert laptop.get(f"/a/{world.village_a1.slug}/").status_code == 200
    assert phone.get(f"/a/{world.village_a1.slug}/").status_code == 302


def test_a_wrong_current_password_changes_nothing(world, make_client):
    client = make_client(world.secretary_a1.login)
    response = client.post(
        "/password/change", {"current": "wrong", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 422 and "当前密码不正确" in response.text
    assert verify_password(reload(User, world.secretary_a1.id).password_hash, PASSWORD)


@pytest.mark.parametrize(
    ("password", "staff", "weak"),
    [
        ("short1", False, True),
        ("12345678", False, True),
        ("password123", False, True),
        ("woaini1314", False, True),
        ("quiet-river-7", False, False),
        ("quiet-river-7", True, False),
        ("eightchr", True, True),  # staff need 12+
        ("onlylettersforever", True, True),  # staff mix letters with digits or symbols
    ],
)
def test_password_rules_are_stricter_for_staff(app, password, staff, weak):
    assert (password_problem(password, staff=staff) is not None) is weak


def test_a_password_containing_the_login_is_refused(app):
    assert password_problem("zhangwei-2026-x", staff=False, personal=("zhangwei@x.cn", "zhangwei"))
