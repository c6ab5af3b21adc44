"""Server-side sessions: the cookie is only an id; logout, expiry, password changes, disabling
and the Sessions page end sessions on the server, so a copied cookie opens nothing after."""

import re
from datetime import timedelta

import msgspec
import pytest
from flask_babel import force_locale
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from app.accounts import services
from app.accounts.models import StoredSession, User, UserSession
from app.accounts.session import RECORD_KEY
from app.accounts.session_records import TOUCH_INTERVAL, describe_user_agent
from app.core.audit import AuditLog
from app.core.clock import utcnow
from app.core.jobs import PERIODIC
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tests.conftest import Client
from tests.factories import PASSWORD

COOKIE = "xiehui_session"
NEW_PASSWORD = "Brand-new-Pass-77"


def members_page(world) -> str:
    return f"/a/{world.village_a1.slug}/members/"


def cookie_of(client: Client) -> str:
    return client.raw.get_cookie(COOKIE).value


def replay(app, cookie: str) -> Client:
    """Another browser holding a copy of the cookie."""
    thief = Client(app.test_client())
    thief.raw.set_cookie(COOKIE, cookie)
    return thief


def record_id_of(client: Client) -> str:
    with client.raw.session_transaction() as session:
        return session[RECORD_KEY]


def records_of(user: User) -> list[UserSession]:
    db.session.expire_all()
    return list(db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)))


def is_signed_out(response) -> bool:
    return response.status_code == 302 and "/login" in response.location


def ended_reasons(user: User) -> list[str]:
    with UNSCOPED_BYPASS("test reads the audit log"):
        entries = db.session.scalars(
            select(AuditLog)
            .where(AuditLog.action == "session_ended", AuditLog.target_id == user.id)
            .order_by(AuditLog.id)
        )
        return [entry.detail["reason"] for entry in entries]


def test_a_cookie_copied_before_logout_opens_nothing_after_it(app, world, make_client):
    client = make_client()
    client.login(world.secretary_a1.login)  # the real sign-in form
    copied = cookie_of(client)
    assert replay(app, copied).get(members_page(world)).status_code == 200

    assert client.post("/logout").status_code == 302
    assert is_signed_out(client.get(members_page(world)))
    assert is_signed_out(replay(app, copied).get(members_page(world)))
    assert records_of(world.secretary_a1) == []
    assert db.session.get(StoredSession, "session:" + copied) is None
    assert ended_reasons(world.secretary_a1) == ["logout"]


def test_the_cookie_holds_only_a_random_id(app, world, make_client):
    client = make_client()
    client.login(world.secretary_a1.login)
    cookie = cookie_of(client)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", cookie)  # 32 random bytes, nothing else
    for salt in ("cookie-session", "flask-session"):
        with pytest.raises(BadSignature):
            URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=salt).loads(cookie)
    # What the session holds stays on the server, under that id.
    stored = msgspec.msgpack.decode(db.session.get(StoredSession, "session:" + cookie).data)
    assert stored[RECORD_KEY] == records_of(world.secretary_a1)[0].id
    assert stored["_user_id"] == str(world.secretary_a1.id)


def test_each_sign_in_gets_a_new_session_id(world, make_client):
    client = make_client()
    client.get("/login")
    before = cookie_of(client)
    client.login(world.secretary_a1.login)
    assert cookie_of(client) != before
    assert db.session.get(StoredSession, "session:" + before) is None


def test_the_sessions_page_lists_only_my_own_sessions(world, client_for):
    laptop = client_for(world.secretary_a1.login)
    client_for(world.secretary_a1.login)  # the phone
    client_for(world.staff_a1.login)  # someone else
    page = laptop.get("/account/sessions")
    assert page.status_code == 200
    assert page.text.count('data-testid="session"') == 2
    assert page.text.count("data-this-device") == 1 and "This device" in page.text
    assert record_id_of(laptop) in page.text
    for other in records_of(world.staff_a1):
        assert other.id not in page.text


def test_ending_a_session_from_the_sessions_page_signs_that_browser_out(world, client_for):
    laptop = client_for(world.secretary_a1.login)
    phone = client_for(world.secretary_a1.login)
    response = laptop.post(f"/account/sessions/{record_id_of(phone)}/end")
    assert response.status_code == 303
    # The browser that was signed out is sent to the sign-in page and told why.
    signed_out = phone.get(members_page(world), follow_redirects=True)
    assert signed_out.request.path == "/login"
    assert "Your session has expired" in signed_out.text
    assert is_signed_out(phone.get(members_page(world)))
    assert laptop.get(members_page(world)).status_code == 200
    assert [r.id for r in records_of(world.secretary_a1)] == [record_id_of(laptop)]
    assert ended_reasons(world.secretary_a1) == ["ended_by_user"]


def test_ending_someone_elses_session_is_not_found_and_ends_nothing(world, client_for):
    staff = client_for(world.staff_a1.login)
    secretary = client_for(world.secretary_a1.login)
    response = secretary.post(f"/account/sessions/{record_id_of(staff)}/end")
    assert response.status_code == 404
    assert secretary.post("/account/sessions/no-such-session/end").status_code == 404
    assert staff.get(members_page(world)).status_code == 200
    assert len(records_of(world.staff_a1)) == 1


def test_ending_sessions_needs_the_csrf_token(world, client_for):
    laptop = client_for(world.secretary_a1.login)
    phone = client_for(world.secretary_a1.login)
    url = f"/account/sessions/{record_id_of(phone)}/end"
    assert laptop.post(url, csrf=False).status_code == 400
    assert laptop.post("/account/sessions/end-all", csrf=False).status_code == 400
    assert phone.get(members_page(world)).status_code == 200


def test_sign_out_everywhere_else_keeps_this_browser(world, client_for):
    laptop = client_for(world.secretary_a1.login)
    phones = [client_for(world.secretary_a1.login) for _ in range(2)]
    response = laptop.post("/account/sessions/end-others", follow_redirects=True)
    assert "2 other sessions have been signed out." in response.text
    assert laptop.get(members_page(world)).status_code == 200
    assert all(is_signed_out(phone.get(members_page(world))) for phone in phones)
    assert ended_reasons(world.secretary_a1) == ["ended_by_user", "ended_by_user"]


def test_sign_out_everywhere_ends_every_session_including_this_one(app, world, client_for):
    laptop = client_for(world.secretary_a1.login)
    phone = client_for(world.secretary_a1.login)
    copied = cookie_of(laptop)
    response = laptop.post("/account/sessions/end-all")
    assert response.status_code == 303 and "/login" in response.location
    for client in (laptop, phone, replay(app, copied)):
        assert is_signed_out(client.get(members_page(world)))
    assert records_of(world.secretary_a1) == []


def test_a_password_change_keeps_this_session_and_ends_the_others(world, make_client):
    laptop = make_client(world.secretary_a1.login)
    phone = make_client(world.secretary_a1.login)
    kept = record_id_of(laptop)
    old_cookie = cookie_of(laptop)
    response = laptop.post(
        "/password/change",
        {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert laptop.get(members_page(world)).status_code == 200
    assert is_signed_out(phone.get(members_page(world)))
    assert [r.id for r in records_of(world.secretary_a1)] == [kept]
    assert cookie_of(laptop) != old_cookie  # the same session, under a new id
    assert ended_reasons(world.secretary_a1) == ["password_change"]


def test_a_password_reset_ends_every_session(world, make_client):
    clients = [make_client(world.secretary_a1.login) for _ in range(2)]
    services.set_password(db.session.get(User, world.secretary_a1.id), NEW_PASSWORD)
    db.session.commit()
    assert all(is_signed_out(client.get(members_page(world))) for client in clients)
    assert records_of(world.secretary_a1) == []


def test_disabling_a_login_ends_all_its_sessions(world, client_for):
    phone = client_for(world.staff_a1.login)
    laptop = client_for(world.staff_a1.login)
    secretary = client_for(world.secretary_a1.login)
    with UNSCOPED_BYPASS("test looks up the staff member's role"):
        membership = next(m for m in _memberships(world.staff_a1))
    assert secretary.post(f"/a/village-a1/people/{membership.id}/disable").status_code == 303
    assert records_of(world.staff_a1) == []
    assert is_signed_out(phone.get("/associations"))
    assert is_signed_out(laptop.get("/associations"))
    assert ended_reasons(world.staff_a1) == ["disabled", "disabled"]


def _memberships(user: User):
    from tenants.models import Membership

    return db.session.scalars(select(Membership).where(Membership.user_id == user.id)).all()


def age(client: Client, *, idle: timedelta = timedelta(0), started: timedelta = timedelta(0)):
    record = db.session.get(UserSession, record_id_of(client))
    record.last_seen_at -= idle
    record.created_at -= started
    db.session.commit()


def test_an_idle_staff_session_expires_after_thirty_minutes(world, client_for):
    client = client_for(world.secretary_a1.login)
    age(client, idle=timedelta(minutes=29))
    assert client.get(members_page(world)).status_code == 200
    age(client, idle=timedelta(minutes=31))
    response = client.get(members_page(world), follow_redirects=True)
    assert "Your session has expired. Please sign in again." in response.text
    assert records_of(world.secretary_a1) == []
    assert ended_reasons(world.secretary_a1) == ["expired"]


def test_a_member_may_stay_idle_longer_but_no_session_outlives_twelve_hours(
    app, world, make_client
):
    client = make_client(world.member_a1.login)
    age(client, idle=timedelta(minutes=90))
    assert client.get("/associations").status_code == 200
    age(client, idle=timedelta(minutes=app.config["IDLE_TIMEOUT_MEMBER_MINUTES"] + 1))
    assert is_signed_out(client.get("/associations"))

    client = make_client(world.member_a1.login)
    age(client, started=timedelta(hours=12, seconds=1))
    assert is_signed_out(client.get("/associations"))


def test_last_seen_moves_at_most_once_a_minute(world, make_client):
    client = make_client(world.secretary_a1.login)
    age(client, idle=timedelta(seconds=30))
    seen = records_of(world.secretary_a1)[0].last_seen_at
    client.get("/associations")
    assert records_of(world.secretary_a1)[0].last_seen_at == seen  # no write for this request
    age(client, idle=TOUCH_INTERVAL)
    client.get("/associations")
    assert records_of(world.secretary_a1)[0].last_seen_at > utcnow() - timedelta(seconds=5)


def test_an_unchanged_session_is_not_written_on_each_request(world, make_client):
    client = make_client(world.secretary_a1.login)
    client.get("/associations")
    stored = db.session.get(StoredSession, "session:" + cookie_of(client))
    expires_at = stored.expires_at
    client.get("/associations")
    db.session.expire_all()
    assert db.session.get(StoredSession, "session:" + cookie_of(client)).expires_at == expires_at


def test_the_nightly_job_deletes_expired_sessions_and_stored_data(app, world, make_client):
    fresh = make_client(world.secretary_a1.login)
    stale = make_client(world.secretary_a1.login)
    age(stale, idle=timedelta(hours=1))
    abandoned = make_client()
    abandoned.get("/login")  # an anonymous visitor's stored session (the CSRF token)
    row = db.session.get(StoredSession, "session:" + cookie_of(abandoned))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    ended, deleted = PERIODIC["delete_expired_sessions"]()
    db.session.commit()
    assert (ended, deleted) == (1, 1)
    assert [r.id for r in records_of(world.secretary_a1)] == [record_id_of(fresh)]
    assert ended_reasons(world.secretary_a1) == ["expired"]
    assert fresh.get(members_page(world)).status_code == 200


@pytest.mark.parametrize(
    ("user_agent", "words"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36",
            "Chrome on Windows",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50",
            "WeChat on iPhone",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) Version/17.5 Safari/605.1.15",
            "Safari on macOS",
        ),
        ("curl/8.5.0", "Unknown browser"),
        (None, "Unknown browser"),
    ],
)
def test_a_user_agent_is_described_in_plain_words(app, user_agent, words):
    with app.test_request_context(), force_locale("en"):
        assert describe_user_agent(user_agent) == words


def test_a_visitors_session_is_kept_two_hours_a_signed_in_one_twelve(world, make_client):
    visitor = make_client()
    assert visitor.get("/login").status_code == 200
    stored = db.session.get(StoredSession, "session:" + cookie_of(visitor))
    assert stored is not None
    left = stored.expires_at - utcnow()
    assert timedelta(hours=1, minutes=55) < left <= timedelta(hours=2)

    visitor.login(world.secretary_a1.login)
    db.session.expire_all()
    stored = db.session.get(StoredSession, "session:" + cookie_of(visitor))
    assert stored.expires_at - utcnow() > timedelta(hours=11, minutes=55)
