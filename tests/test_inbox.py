"""The notification centre: a notice sent to a user is kept for her in the app, listed newest
first in pages of a fixed cost, marked read one by one or all at once, and counted unread in
the page header — her own notices only."""

import io

from flask import g
from sqlalchemy import select

from app.checklist.views import this_year
from app.core import inbox
from app.core.inbox import Notification
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tests.uploads import samples


def _unread_badge(html: str) -> str | None:
    marker = 'data-testid="unread-count">'
    if marker not in html:
        return None
    return html.split(marker, 1)[1].split("<", 1)[0]


def _submit_checklist(secretary) -> None:
    url = "/a/village-a1/checklist/"
    for number in (4, 5, 6):
        secretary.post(
            url + "evidence",
            {
                "year": str(this_year()),
                "number": str(number),
                "note": "",
                "file": (io.BytesIO(samples.jpeg()), "照片.jpg"),
            },
            content_type="multipart/form-data",
        )
    assert secretary.post(url + "submit", {"year": str(this_year())}).status_code == 303


def test_a_notice_is_kept_in_the_notification_centre_and_marked_read(world, make_client):
    township = make_client(world.township_a_secretary.login)
    assert _unread_badge(township.get("/notifications").text) is None

    _submit_checklist(make_client(world.secretary_a1.login))

    page = township.get("/notifications").text
    assert _unread_badge(page) == "1"
    assert page.count('data-testid="notification"') == 1
    assert 'data-read="no"' in page and "village-a1" in page  # the association it concerns
    # The header shows the count on every page, also inside an association.
    assert _unread_badge(township.get("/a/township-a/").text) == "1"

    with UNSCOPED_BYPASS("test finds the notification's id"):
        notification_id = db.session.scalar(
            select(Notification.id).where(Notification.user_id == world.township_a_secretary.id)
        )
    # Someone else's notice is not found, and stays unread.
    other = make_client(world.secretary_a1.login)
    assert other.post(f"/notifications/{notification_id}/read").status_code == 404
    assert _unread_badge(township.get("/notifications").text) == "1"
    assert "七有" not in other.get("/notifications").text

    assert township.post(f"/notifications/{notification_id}/read").status_code == 303
    page = township.get("/notifications").text
    assert _unread_badge(page) is None and 'data-read="yes"' in page


def test_mark_all_read_and_pages_newest_first(world, make_client):
    user_id = world.member_a1.id
    for number in range(25):
        inbox.keep(user_id, f"通知{number:02d}", "内容", key=f"test:{number}", association_id=None)
    inbox.keep(user_id, "通知00", "重复", key="test:0", association_id=None)  # kept once
    db.session.commit()
    member = make_client(world.member_a1.login)
    first = member.get("/notifications").text
    assert _unread_badge(first) == "25"
    assert first.count('data-testid="notification"') == inbox.PER_PAGE
    assert first.index("通知24") < first.index("通知23")  # newest first
    assert "通知04" not in first
    second = member.get("/notifications?page=2").text
    assert second.count('data-testid="notification"') == 5 and "通知00" in second
    assert "重复" not in second

    assert member.post("/notifications/read-all").status_code == 303
    assert _unread_badge(member.get("/notifications").text) is None
    # Another user's notices were not touched.
    with UNSCOPED_BYPASS("test counts unread notices"):
        assert inbox.unread_count(user_id) == 0


def test_the_page_costs_the_same_for_3_or_30_notices(world, make_client, count_queries):
    member = make_client(world.member_a1.login)

    def queries() -> int:
        member.get("/notifications")
        with count_queries() as statements:
            assert member.get("/notifications").status_code == 200
        return len(statements)

    def add(start: int, count: int) -> None:
        for number in range(start, start + count):
            inbox.keep(
                world.member_a1.id,
                f"通知{number}",
                "内容",
                key=None,
                association_id=world.village_a1.id,
            )
        db.session.commit()

    add(0, 3)
    few = queries()
    add(3, 27)
    assert queries() == few


def test_the_header_count_rides_on_the_session_check_and_visitors_cost_none(
    world, make_client, count_queries
):
    member = make_client(world.member_a1.login)
    url = "/a/village-a1/"
    member.get(url)
    with count_queries() as without:
        member.get(url)
    inbox.keep(world.member_a1.id, "通知", "内容", key=None, association_id=None)
    db.session.commit()
    with count_queries() as with_one:
        page = member.get(url).text
    assert _unread_badge(page) == "1"
    assert len(with_one) == len(without)
    counting = [statement for statement in with_one if "notifications" in statement]
    assert len(counting) == 1 and "user_sessions" in counting[0]

    visitor = make_client()
    login_page = visitor.get("/login")
    assert login_page.status_code == 200
    assert 'data-testid="nav-notifications"' not in login_page.text
    answer = visitor.get("/notifications")
    assert answer.status_code == 302 and "/login" in answer.location


def test_a_notice_kept_during_the_request_is_counted_in_its_header(app, world):
    """The count read with the session is dropped when the request keeps or marks a notice,
    so a page rendered after that shows the new figure."""
    with app.test_request_context("/"):
        inbox.remember_header_count(0)
        inbox.keep(world.member_a1.id, "通知", "内容", key=None, association_id=None)
        db.session.flush()
        with UNSCOPED_BYPASS("test counts unread notices"):
            assert "unread_notifications" not in g
            assert inbox.unread_count(world.member_a1.id) == 1
        inbox.remember_header_count(1)
        inbox.mark_all_read(world.member_a1.id)
        assert "unread_notifications" not in g
        db.session.rollback()
