"""The second factor: forced enrolment where required, the code step of signing in, replay and
lock-out, recovery codes, turning it off, and resets by the level above or the operator."""

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from app.accounts import second_factor
from app.accounts.models import User
from app.accounts.second_factor_views import PENDING
from app.core.audit import AuditLog
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Membership, Role
from tests.factories import PASSWORD, TOTP_SECRET, create_user, next_code, reload

ENROL = "/account/second-factor/enrol"


def _audit(action: str) -> list[AuditLog]:
    """The entries, detached with their columns loaded (row-level security hides them later)."""
    with UNSCOPED_BYPASS("test reads the audit log"):
        entries = list(db.session.scalars(select(AuditLog).where(AuditLog.action == action)))
        for entry in entries:
            db.session.expunge(entry)
        db.session.commit()
    return entries


def _membership_id(user: User) -> int:
    with UNSCOPED_BYPASS("test looks up a membership"):
        return db.session.scalar(select(Membership.id).where(Membership.user_id == user.id))


def _password_step(client, login: str, url: str = "/login"):
    response = client.post(url, {"login": login, "password": PASSWORD})
    assert response.status_code == 302 and response.location == "/login/code"
    return response


def _enrol_through_the_page(client) -> list[str]:
    """Scan (read the key off the page), confirm with a code: the recovery codes shown."""
    page = client.get(ENROL)
    assert page.status_code == 200
    assert 'inputmode="numeric"' in page.text and 'autocomplete="one-time-code"' in page.text
    assert "<svg" in page.text  # the QR code, drawn on the server
    key = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page.text).group(1)
    assert re.fullmatch(r"([A-Z2-7]{4} )+[A-Z2-7]{4}", key)  # groups of four
    code = pyotp.TOTP(key.replace(" ", "")).now()
    done = client.post(ENROL, {"code": code})
    assert done.status_code == 200
    return re.findall(r"<code>([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})</code>", done.text)


# ---- who must have it ----------------------------------------------------------------------


def test_enrolment_is_forced_for_a_county_auditor_and_the_operator(world, make_client):
    auditor = create_user(
        "new.auditor@test.cn", roles=[(world.county, Role.AUDITOR)], second_factor=False
    )
    operator = create_user("new.admin@test.cn", admin=True, second_factor=False)
    for user, page in ((auditor, "/a/county/people"), (operator, "/admin/")):
        client = make_client(user.login)
        response = client.get(page)
        assert response.status_code == 302 and response.location == ENROL
        # htmx requests are sent there too, not swapped into a page.
        hx = client.get(page, headers={"HX-Request": "true"})
        assert hx.headers["HX-Redirect"] == ENROL
        codes = _enrol_through_the_page(client)
        assert len(codes) == 10 and len(set(codes)) == 10
        assert reload(User, user.id).has_second_factor
        assert client.get(page).status_code == 200
    enrolled = _audit("second_factor_enrolled")
    assert {entry.user_id for entry in enrolled} == {auditor.id, operator.id}


def test_a_village_secretary_and_a_township_secretary_are_not_forced(world, make_client):
    for user, slug in (
        (world.secretary_a1, "village-a1"),
        (world.township_a_secretary, "township-a"),
    ):
        assert not second_factor.is_required(user)
        assert make_client(user.login).get(f"/a/{slug}/people").status_code == 200
    assert second_factor.is_required(world.county_auditor)
    assert second_factor.is_required(world.admin)


def test_the_enrolment_page_lets_the_forced_user_sign_out_and_switch_language(world, make_client):
    auditor = create_user(
        "forced@test.cn", roles=[(world.county, Role.AUDITOR)], second_factor=False
    )
    client = make_client(auditor.login)
    assert client.post("/locale", {"locale": "en", "next": ENROL}).location == ENROL
    assert "Set up the second factor" in client.get(ENROL).text
    assert client.post("/logout").location == "/login"


def test_a_wrong_code_at_enrolment_turns_nothing_on(world, make_client):
    client = make_client(world.member_a1.login)
    client.get(ENROL)
    assert client.post(ENROL, {"code": "000000"}).status_code == 422
    assert not reload(User, world.member_a1.id).has_second_factor


def test_a_member_may_turn_it_on_and_off_with_password_and_code(world, make_client):
    client = make_client(world.member_a1.login)
    assert client.get("/a/village-a1/events/").status_code == 200  # not forced
    assert 'data-testid="second-factor-status"' in client.get("/account/second-factor").text
    codes = _enrol_through_the_page(client)
    download = client.post("/account/second-factor/recovery-codes.txt", {"code": codes})
    assert download.status_code == 200 and download.mimetype == "text/plain"
    assert "attachment" in download.headers["Content-Disposition"]
    assert all(code in download.text for code in codes)

    user = reload(User, world.member_a1.id)
    secret = second_factor._secret_of(user)
    wrong_password = client.post(
        "/account/second-factor/disable",
        {"password": "not-my-password", "code": pyotp.TOTP(secret).at(time.time() + 30)},
    )
    assert wrong_password.status_code == 303
    assert reload(User, user.id).has_second_factor
    done = client.post(
        "/account/second-factor/disable",
        {"password": PASSWORD, "code": pyotp.TOTP(secret).at(time.time() + 30)},
    )
    assert done.status_code == 303
    user = reload(User, user.id)
    assert not user.has_second_factor and user.totp_secret_encrypted is None
    assert [entry.user_id for entry in _audit("second_factor_disabled")] == [user.id]
    # Signing in needs only the password again.
    assert make_client().post("/login", {"login": user.login, "password": PASSWORD}).location == "/"


def test_a_required_second_factor_cannot_be_turned_off(world, make_client):
    client = make_client(world.county_auditor.login)
    page = client.get("/account/second-factor")
    assert 'data-testid="second-factor-required"' in page.text
    client.post(
        "/account/second-factor/disable",
        {"password": PASSWORD, "code": next_code(world.county_auditor.login)},
    )
    assert reload(User, world.county_auditor.id).has_second_factor


def test_new_recovery_codes_replace_the_old_ones(world, make_client):
    user = world.county_auditor
    old = second_factor.new_recovery_codes(reload(User, user.id))
    db.session.commit()
    client = make_client(user.login)
    page = client.post("/account/second-factor/recovery-codes", {"code": next_code(user.login)})
    new = re.findall(r"<code>([A-Z2-9-]{19})</code>", page.text)
    assert page.status_code == 200 and len(new) == 10 and not set(new) & set(old)
    signer = make_client()
    _password_step(signer, user.login)
    assert signer.post("/login/code", {"recovery_code": old[0]}).status_code == 422
    assert signer.post("/login/code", {"recovery_code": new[0]}).status_code == 302


# ---- signing in --------------------------------------------------------------------------


def test_after_the_password_a_code_is_needed_and_next_is_kept(world, make_client):
    login = world.county_auditor.login
    client = make_client()
    _password_step(client, login, "/login?next=/a/township-a/people")
    assert _audit("login") == []  # not signed in yet
    page = client.get("/login/code")
    assert 'inputmode="numeric"' in page.text and 'autocomplete="one-time-code"' in page.text
    response = client.post("/login/code", {"code": next_code(login)})
    assert response.status_code == 302 and response.location == "/a/township-a/people"
    assert client.get("/a/township-a/people").status_code == 200
    assert [entry.user_id for entry in _audit("login")] == [world.county_auditor.id]


def test_the_pending_marker_grants_nothing(world, make_client):
    client = make_client()
    _password_step(client, world.admin.login)
    assert client.get("/admin/").status_code in (302, 401)
    assert client.get("/admin/").location.startswith("/login")
    assert client.get("/a/county/").location.startswith("/login")
    assert client.get("/account/second-factor").location.startswith("/login")
    assert client.get("/").location == "/login"


def test_the_pending_marker_lasts_five_minutes(world, make_client):
    client = make_client()
    _password_step(client, world.county_auditor.login)
    with client.raw.session_transaction() as session:
        session[PENDING] = {**session[PENDING], "at": session[PENDING]["at"] - 301}
    response = client.post("/login/code", {"code": next_code(world.county_auditor.login)})
    assert response.status_code == 302 and response.location == "/login"
    assert not reload(User, world.county_auditor.id).totp_last_step


def test_a_wrong_code_is_refused_and_logged_and_five_lock_the_account(world, make_client):
    login = world.county_auditor.login
    client = make_client()
    _password_step(client, login)
    wrong = client.post("/login/code", {"code": "123456"})
    assert wrong.status_code == 422 and "验证码不正确" in wrong.text
    failed = _audit("second_factor_failed")
    assert [(e.user_id, e.outcome) for e in failed] == [(world.county_auditor.id, "failed")]
    # Entering the password again does not wipe the count of wrong codes.
    _password_step(client, login)
    for _ in range(3):
        assert client.post("/login/code", {"code": "123456"}).status_code == 422
    locked = client.post("/login/code", {"code": "123456"})
    assert locked.status_code == 302 and locked.location == "/login"
    assert reload(User, world.county_auditor.id).locked_until is not None
    # Locked: neither the password nor a right code gets in now.
    again = client.post("/login", {"login": login, "password": PASSWORD})
    assert again.status_code == 422


def test_a_code_is_accepted_once(world, make_client):
    login = world.county_auditor.login
    code = pyotp.TOTP(TOTP_SECRET).now()
    first = make_client()
    _password_step(first, login)
    assert first.post("/login/code", {"code": code}).status_code == 302
    second = make_client()
    _password_step(second, login)
    replay = second.post("/login/code", {"code": code})
    assert replay.status_code == 422
    assert _audit("second_factor_failed")


def test_a_recovery_code_signs_in_once(world, make_client):
    user = reload(User, world.county_auditor.id)
    codes = second_factor.new_recovery_codes(user)
    db.session.commit()
    client = make_client()
    _password_step(client, user.login)
    response = client.post("/login/code", {"recovery_code": codes[3].lower().replace("-", " ")})
    assert response.status_code == 302
    assert client.get("/a/county/people").status_code == 200
    assert [entry.user_id for entry in _audit("recovery_code_used")] == [user.id]
    assert second_factor.unused_recovery_codes(reload(User, user.id)) == 9
    other = make_client()
    _password_step(other, user.login)
    assert other.post("/login/code", {"recovery_code": codes[3]}).status_code == 422


def test_the_login_page_never_shows_a_secret(world, make_client, app):
    from app.demo import DEMO_TOTP_SECRET

    client = make_client()
    for page in ("/login", "/login/code"):
        assert DEMO_TOTP_SECRET not in client.get(page).text
        assert TOTP_SECRET not in client.get(page).text


# ---- resets --------------------------------------------------------------------------------


@pytest.fixture
def staff_with_factor(world):
    """Staff of village_a1 who turned the optional second factor on."""
    return create_user(
        "careful.staff@test.cn", roles=[(world.village_a1, Role.STAFF)], second_factor=True
    )


def test_a_secretary_above_resets_a_lost_second_factor(world, make_client, staff_with_factor):
    victim_session = make_client(staff_with_factor.login)
    assert victim_session.get("/a/village-a1/people").status_code == 200
    township = make_client(world.township_a_secretary.login)
    people = township.get("/a/village-a1/people")
    assert 'data-testid="reset-second-factor"' in people.text
    url = f"/a/village-a1/people/{_membership_id(staff_with_factor)}/reset-second-factor"
    assert township.post(url).status_code == 303
    assert not reload(User, staff_with_factor.id).has_second_factor
    (entry,) = _audit("second_factor_reset")
    assert entry.user_id == world.township_a_secretary.id
    assert (entry.target_type, entry.target_id) == ("User", staff_with_factor.id)
    assert entry.association_id == world.village_a1.id
    # Every session of theirs has ended.
    assert victim_session.get("/a/village-a1/people").status_code == 302


@pytest.mark.parametrize(
    ("actor", "slug", "status"),
    [
        ("secretary_a2", "village-a1", 404),  # a sibling
        ("secretary_a1", "township-a", 404),  # a child reaching up
        ("secretary_a1", "village-a1", 403),  # the same association, not the level above
        ("county_auditor", "village-a1", 403),  # above, but an auditor
        ("member_a1", "village-a1", 403),
    ],
)
def test_only_a_secretary_above_may_reset(world, make_client, actor, slug, status):
    target = create_user(
        "target@test.cn",
        roles=[(getattr(world, slug.replace("-", "_")), Role.STAFF)],
        second_factor=True,
    )
    client = make_client(getattr(world, actor).login)
    url = f"/a/{slug}/people/{_membership_id(target)}/reset-second-factor"
    assert client.post(url).status_code == status
    assert reload(User, target.id).has_second_factor
    assert _audit("second_factor_reset") == []


def test_no_reset_of_someone_who_also_works_outside_the_secretarys_subtree(world, make_client):
    target = create_user(
        "two.places@test.cn",
        roles=[(world.village_a1, Role.STAFF), (world.village_b1, Role.STAFF)],
        second_factor=True,
    )
    client = make_client(world.township_a_secretary.login)
    url = f"/a/village-a1/people/{_membership_id(target)}/reset-second-factor"
    response = client.post(url)
    assert response.status_code == 303
    assert reload(User, target.id).has_second_factor
    assert _audit("second_factor_reset") == []


def test_after_a_reset_a_county_auditor_must_enrol_again(world, make_client):
    province_secretary = create_user(
        "sec.province@test.cn", roles=[(world.province, Role.SECRETARY)]
    )
    client = make_client(province_secretary.login)
    url = f"/a/county/people/{_membership_id(world.county_auditor)}/reset-second-factor"
    assert client.post(url).status_code == 303
    auditor = make_client()
    signed_in = auditor.post("/login", {"login": world.county_auditor.login, "password": PASSWORD})
    assert signed_in.location == "/"  # no code step: there is no second factor now
    assert auditor.get("/a/county/").location == ENROL


def test_the_operator_resets_from_the_platform_console(world, make_client):
    operator = make_client(world.admin.login)
    found = operator.get("/admin/users?q=auditor.c")
    assert found.status_code == 200 and world.county_auditor.login in found.text
    reset = operator.post(f"/admin/users/{world.county_auditor.id}/second-factor/reset")
    assert reset.status_code == 303
    assert not reload(User, world.county_auditor.id).has_second_factor
    (entry,) = _audit("second_factor_reset")
    assert entry.user_id == world.admin.id and entry.target_id == world.county_auditor.id
    # Nobody else may.
    secretary = make_client(world.secretary_a1.login)
    assert secretary.get("/admin/users").status_code == 403
    url = f"/admin/users/{world.admin.id}/second-factor/reset"
    assert secretary.post(url).status_code == 403
    assert reload(User, world.admin.id).has_second_factor
