"""Events: publishing, sign-up with a waitlist, cancelling, check-in, activity record, .ics."""

import threading
from datetime import timedelta

import icalendar
import pytest
from sqlalchemy import select

from app.activities.models import Activity
from app.activities.participants import ActivityParticipant
from app.core.clock import utcnow
from app.events import services, signups
from app.events.models import Event, EventScope, Registration, RegistrationStatus
from app.extensions import db
from app.members.models import Member
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tenants.models import Association, Role
from tests.factories import create_event, create_member, create_user


def registrations(event_id: int) -> list[Registration]:
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        rows = db.session.scalars(
            select(Registration)
            .where(Registration.event_id == event_id)
            .order_by(Registration.id)
            .execution_options(populate_existing=True)
        ).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


def statuses(event_id: int) -> dict[str, str]:
    return {r.name: r.status.value for r in registrations(event_id)}


def member_of(association, login: str, name: str):
    return create_user(login, name, roles=[(association, Role.MEMBER)])


def url(association, path: str) -> str:
    return f"/a/{association.slug}/events{path}"


# --- publishing -------------------------------------------------------------------------------


def _form(**overrides):
    start = (utcnow() + timedelta(days=5)).astimezone(services.CHINA).replace(tzinfo=None)
    data = {
        "title": "健康讲座",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "signup_deadline": (start - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "capacity": "30",
        "place": "社区活动室",
        "scope": "association",
        "description": "优生优育知识",
    }
    data.update(overrides)
    return data, start


def test_secretary_publishes_an_event_members_see_it(world, client_for, make_client):
    data, start = _form()
    response = client_for(world.secretary_a1.login).post(url(world.village_a1, "/new"), data)
    assert response.status_code == 303
    with tenant_context(scope_for(world.village_a1, writable=False)):
        event = db.session.scalar(select(Event))
    assert event.title == "健康讲座" and event.capacity == 30
    # Typed in Beijing time, stored as the same instant.
    assert event.starts_at.astimezone(services.CHINA).replace(tzinfo=None) == start.replace(
        second=0, microsecond=0
    )
    page = make_client(world.member_a1.login).get(url(world.village_a1, "/")).get_data(True)
    assert "健康讲座" in page and "社区活动室" in page


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("ends_at", "The event must end after it starts."),
        ("capacity", "Capacity must be from 1 to 100,000."),
        ("signup_deadline", "The sign-up deadline cannot be after the event starts."),
    ],
)
def test_bad_event_input_is_refused_with_a_message(world, client_for, field, message):
    data, start = _form()
    if field == "ends_at":
        data["ends_at"] = (start - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    elif field == "capacity":
        data["capacity"] = "0"
    else:
        data["signup_deadline"] = (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = client_for(world.secretary_a1.login).post(url(world.village_a1, "/new"), data)
    assert response.status_code == 422
    assert message in response.get_data(True)
    with tenant_context(scope_for(world.village_a1, writable=False)):
        assert db.session.scalar(select(Event)) is None


def test_bad_input_messages_are_translated(world, make_client):
    data, _ = _form(capacity="-3")
    response = make_client(world.secretary_a1.login).post(url(world.village_a1, "/new"), data)
    assert response.status_code == 422
    assert "名额须在 1 到 100,000 之间。" in response.get_data(True)


def test_a_village_cannot_open_an_event_to_a_subtree_it_does_not_have(world):
    data = services.EventInput(
        title="x",
        starts_at=utcnow() + timedelta(days=1),
        ends_at=utcnow() + timedelta(days=1, hours=1),
        capacity=5,
        scope=EventScope.SUBTREE,
    )
    assert "scope" in services.event_problems(data, now=utcnow(), association=world.village_a1)


# --- sign-up, waitlist, cancelling ------------------------------------------------------------


def test_member_signs_up_in_one_tap_and_cancels(world, client_for):
    event = create_event(world.village_a1)
    client = client_for(world.member_a1.login)
    response = client.post(url(world.village_a1, f"/{event.id}/signup"))
    assert response.status_code == 303
    assert statuses(event.id) == {"会员甲": "confirmed"}
    assert "You are signed up." in client.get(url(world.village_a1, f"/{event.id}")).get_data(True)
    assert client.post(url(world.village_a1, f"/{event.id}/cancel")).status_code == 303
    assert statuses(event.id) == {"会员甲": "cancelled"}
    # Signing up again later reuses the row.
    assert client.post(url(world.village_a1, f"/{event.id}/signup")).status_code == 303
    assert statuses(event.id) == {"会员甲": "confirmed"}


def test_signing_up_twice_is_refused(world, client_for):
    event = create_event(world.village_a1)
    client = client_for(world.member_a1.login)
    client.post(url(world.village_a1, f"/{event.id}/signup"))
    response = client.post(url(world.village_a1, f"/{event.id}/signup"))
    assert response.status_code == 422
    assert "You are already signed up for this event." in response.get_data(True)
    assert len(registrations(event.id)) == 1


def test_signing_up_after_the_deadline_is_refused(world, client_for):
    start = utcnow() + timedelta(hours=3)
    event = create_event(
        world.village_a1, starts_at=start, signup_deadline=utcnow() - timedelta(minutes=1)
    )
    response = client_for(world.member_a1.login).post(url(world.village_a1, f"/{event.id}/signup"))
    assert response.status_code == 422
    assert "Sign-up for this event closed at its deadline." in response.get_data(True)
    assert registrations(event.id) == []


def test_another_associations_members_only_event_is_closed(world, client_for):
    sibling_event = create_event(world.village_a2)
    client = client_for(world.member_a1.login)
    # Not reachable through one's own association, and refused by the service itself.
    assert client.post(url(world.village_a1, f"/{sibling_event.id}/signup")).status_code == 404
    with pytest.raises(services.EventRefused) as refused:
        signups.sign_up(sibling_event, user=world.member_a1, home=world.village_a1, now=utcnow())
    assert str(refused.value) == "此活动仅限其他协会的会员报名。"
    assert registrations(sibling_event.id) == []
    # A township's members-only event is not open to its villages' members either.
    township_event = create_event(world.township_a)
    assert client.post(url(world.village_a1, f"/{township_event.id}/signup")).status_code == 404
    with pytest.raises(services.EventRefused):
        signups.sign_up(township_event, user=world.member_a1, home=world.village_a1, now=utcnow())


def test_member_of_a_village_signs_up_for_a_township_event_open_to_the_subtree(world, client_for):
    event = create_event(world.township_a, title="街道文艺汇演", scope=EventScope.SUBTREE)
    client = client_for(world.member_a1.login)
    assert "街道文艺汇演" in client.get(url(world.village_a1, "/")).get_data(True)
    assert client.post(url(world.village_a1, f"/{event.id}/signup")).status_code == 303
    [registration] = registrations(event.id)
    assert registration.association_id == world.township_a.id
    assert registration.home_association_id == world.village_a1.id
    # Another township's members see nothing of it.
    outsider = member_of(world.village_b1, "member.b1@test.cn", "会员乙")
    assert (
        client_for(outsider.login).post(url(world.village_b1, f"/{event.id}/signup")).status_code
        == 404
    )
    # The township sees the sign-up on its own event.
    page = client_for(world.township_a_secretary.login).get(url(world.township_a, f"/{event.id}"))
    assert "会员甲" in page.get_data(True)


def test_full_event_puts_people_on_the_waitlist_and_a_cancellation_promotes_the_first(
    world, client_for, outbox, sms_notices
):
    event = create_event(world.village_a1, capacity=1)
    second = member_of(world.village_a1, "13900000002", "会员二")
    third = member_of(world.village_a1, "third@test.cn", "会员三")
    first_client = client_for(world.member_a1.login)
    first_client.post(url(world.village_a1, f"/{event.id}/signup"))
    second_client = client_for(second.login)
    response = second_client.post(url(world.village_a1, f"/{event.id}/signup"))
    assert response.status_code == 303
    client_for(third.login).post(url(world.village_a1, f"/{event.id}/signup"))
    assert statuses(event.id) == {
        "会员甲": "confirmed",
        "会员二": "waitlisted",
        "会员三": "waitlisted",
    }
    page = second_client.get(url(world.village_a1, f"/{event.id}")).get_data(True)
    assert "You are number 1 on the waitlist." in page
    sent_before = len(outbox)

    assert first_client.post(url(world.village_a1, f"/{event.id}/cancel")).status_code == 303

    assert statuses(event.id) == {
        "会员甲": "cancelled",
        "会员二": "confirmed",
        "会员三": "waitlisted",
    }
    assert outbox[sent_before:] == []  # her login is a mobile number: by SMS
    [(phone, text)] = sms_notices()
    assert phone == "13900000002"
    assert event.title in text
    assert "A place became free" in text  # in the language the member chose (en)
    assert "You are signed up." in second_client.get(
        url(world.village_a1, f"/{event.id}")
    ).get_data(True)


def test_raising_the_capacity_moves_people_up_from_the_waitlist(world, client_for, outbox):
    event = create_event(world.village_a1, capacity=1)
    second = member_of(world.village_a1, "second@test.cn", "会员二")
    client_for(world.member_a1.login).post(url(world.village_a1, f"/{event.id}/signup"))
    client_for(second.login).post(url(world.village_a1, f"/{event.id}/signup"))
    with tenant_context(scope_for(world.village_a1, writable=True)):
        loaded = db.session.get(Event, event.id)
        data = services.EventInput(
            title=loaded.title,
            starts_at=loaded.starts_at,
            ends_at=loaded.ends_at,
            signup_deadline=loaded.signup_deadline,
            capacity=0,
        )
        with pytest.raises(services.EventInvalid):
            services.update_event(loaded, data, association=world.village_a1, now=utcnow())
        data.capacity = 2
        promoted = services.update_event(loaded, data, association=world.village_a1, now=utcnow())
        assert [r.name for r in promoted] == ["会员二"]
        db.session.commit()
    assert statuses(event.id) == {"会员甲": "confirmed", "会员二": "confirmed"}
    assert outbox[-1].to == "second@test.cn"


def test_cancelling_without_a_sign_up_is_refused(world, client_for):
    event = create_event(world.village_a1)
    response = client_for(world.member_a1.login).post(url(world.village_a1, f"/{event.id}/cancel"))
    assert response.status_code == 422
    assert "You are not signed up for this event." in response.get_data(True)


def test_an_auditor_from_above_cannot_sign_up(world, make_client):
    event = create_event(world.village_a1)
    response = make_client(world.county_auditor.login).post(
        url(world.village_a1, f"/{event.id}/signup")
    )
    assert response.status_code == 403
    assert registrations(event.id) == []


def test_capacity_holds_when_many_sign_up_at_once(app, world):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter; SQLite serialises writers")
    capacity, people = 3, 10
    event = create_event(world.village_a1, capacity=capacity)
    users = [member_of(world.village_a1, f"rush{i}@test.cn", f"抢{i}") for i in range(people)]
    association_id = world.village_a1.id
    barrier = threading.Barrier(people)
    errors = []

    def rush(user_id):
        try:
            with app.app_context():
                from app.accounts.models import User

                user = db.session.get(User, user_id)
                home = db.session.get(Association, association_id)
                with UNSCOPED_BYPASS("test thread loads the event"):
                    loaded = db.session.get(Event, event.id)
                barrier.wait(timeout=30)
                signups.sign_up(loaded, user=user, home=home, now=utcnow())
                db.session.commit()
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=rush, args=(user.id,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    counts = list(statuses(event.id).values())
    assert counts.count("confirmed") == capacity
    assert counts.count("waitlisted") == people - capacity


# --- at the door and afterwards ---------------------------------------------------------------


def _held_event(association, **fields):
    """An event that took place two hours ago."""
    start = utcnow() - timedelta(hours=3)
    return create_event(
        association,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        signup_deadline=start - timedelta(days=1),
        **fields,
    )


def _registered(event, user, association):
    """A confirmed place made before the deadline (the event is already held in these tests)."""
    with tenant_context(scope_for(association, writable=True)):
        registration = Registration(
            event_id=event.id,
            user_id=user.id,
            home_association_id=association.id,
            name=user.name,
            status=RegistrationStatus.CONFIRMED,
            queued_at=utcnow() - timedelta(days=3),
        )
        db.session.add(registration)
        db.session.commit()
        return registration.id


def test_secretary_ticks_names_at_the_door_and_adds_a_walk_in(world, client_for):
    event = _held_event(world.village_a1)
    registration_id = _registered(event, world.member_a1, world.village_a1)
    client = client_for(world.secretary_a1.login)
    page = client.get(url(world.village_a1, f"/{event.id}/checkin")).get_data(True)
    assert "会员甲" in page and "0 of 1 checked in" in page

    tick = client.post(url(world.village_a1, f"/{event.id}/checkin/{registration_id}"))
    assert tick.status_code == 303
    assert registrations(event.id)[0].checked_in_at is not None
    # htmx: only the row comes back, ticked.
    untick = client.post(
        url(world.village_a1, f"/{event.id}/checkin/{registration_id}"),
        headers={"HX-Request": "true"},
    )
    assert untick.status_code == 200 and "<html" not in untick.get_data(True)
    assert registrations(event.id)[0].checked_in_at is None

    assert (
        client.post(url(world.village_a1, f"/{event.id}/walk-in"), {"name": " "}).status_code == 422
    )
    response = client.post(url(world.village_a1, f"/{event.id}/walk-in"), {"name": "王大妈"})
    assert response.status_code == 303
    walk_in = registrations(event.id)[-1]
    assert walk_in.name == "王大妈" and walk_in.walk_in and walk_in.checked_in_at is not None
    page = client.get(url(world.village_a1, f"/{event.id}/checkin")).get_data(True)
    assert "1 of 2 checked in" in page


def test_held_event_becomes_an_activity_record_in_one_step(world, client_for):
    event = _held_event(world.village_a1, title="5.29会员活动日", place="村委会")
    member = create_member(world.village_a1, name="会员甲")
    with tenant_context(scope_for(world.village_a1, writable=True)):
        db.session.get(Member, member.id).user_id = world.member_a1.id
        db.session.commit()
    unlinked = member_of(world.village_a1, "nolink@test.cn", "没有档案")
    absent = member_of(world.village_a1, "absent@test.cn", "缺席者")
    for user in (world.member_a1, unlinked, absent):
        _registered(event, user, world.village_a1)
    client = client_for(world.secretary_a1.login)
    ids = {r.name: r.id for r in registrations(event.id)}
    for name in ("会员甲", "没有档案"):
        client.post(url(world.village_a1, f"/{event.id}/checkin/{ids[name]}"))
    client.post(url(world.village_a1, f"/{event.id}/walk-in"), {"name": "王大妈"})

    response = client.post(url(world.village_a1, f"/{event.id}/record"), {"type": "member_day"})

    assert response.status_code == 303 and "/activities/" in response.location
    with tenant_context(scope_for(world.village_a1, writable=False)):
        activity = db.session.scalar(select(Activity))
        participants = db.session.scalars(select(ActivityParticipant.member_id)).all()
        assert activity.title == "5.29会员活动日" and activity.place == "村委会"
        assert activity.held_on == event.starts_at.astimezone(services.CHINA).date()
        assert activity.participant_count == 3  # two who came, one walk-in; not the absent one
        assert activity.type.value == "member_day"
        assert participants == [member.id]
        assert db.session.get(Event, event.id).activity_id == activity.id
    page = client.get(response.location).get_data(True)
    assert "5.29会员活动日" in page and "会员甲" in page
    # Only once.
    again = client.post(url(world.village_a1, f"/{event.id}/record"))
    assert again.status_code == 422
    assert "already been recorded" in again.get_data(True)


def test_an_event_still_to_come_cannot_be_recorded(world, client_for):
    event = create_event(world.village_a1)
    response = client_for(world.secretary_a1.login).post(
        url(world.village_a1, f"/{event.id}/record")
    )
    assert response.status_code == 422
    assert "once it has taken place" in response.get_data(True)


def test_calendar_file_parses_back(world, make_client):
    event = create_event(world.village_a1, title="健康讲座", place="活动室")
    response = make_client(world.member_a1.login).get(
        url(world.village_a1, f"/{event.id}/calendar.ics")
    )
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert "attachment" in response.headers["Content-Disposition"]
    calendar = icalendar.Calendar.from_ical(response.data)
    [entry] = list(calendar.walk("VEVENT"))
    assert str(entry["SUMMARY"]) == "健康讲座"
    assert str(entry["LOCATION"]) == "活动室"
    assert entry.decoded("DTSTART") == event.starts_at.replace(microsecond=0)
    assert entry.decoded("DTEND") == event.ends_at.replace(microsecond=0)
    assert str(calendar["VERSION"]) == "2.0"
    assert entry["UID"]


def test_event_list_runs_a_fixed_number_of_queries(world, make_client, count_queries):
    client = make_client(world.member_a1.login)
    create_event(world.village_a1)
    client.get(url(world.village_a1, "/"))
    with count_queries() as few:
        client.get(url(world.village_a1, "/"))
    for i in range(8):
        create_event(world.village_a1, title=f"活动{i}")
    create_event(world.township_a, title="街道活动", scope=EventScope.SUBTREE)
    client.get(url(world.village_a1, "/"))
    with count_queries() as many:
        page = client.get(url(world.village_a1, "/")).get_data(True)
    assert "街道活动" in page and "活动7" in page
    assert len(many) == len(few), [q[:60] for q in many] + ["---"] + [q[:60] for q in few]


def test_no_one_is_told_of_a_place_that_was_rolled_back(world, outbox):
    event = create_event(world.village_a1, capacity=1)
    second = member_of(world.village_a1, "second@test.cn", "会员二")
    for user in (world.member_a1, second):
        signups.sign_up(event, user=user, home=world.village_a1, now=utcnow())
    db.session.commit()
    sent_before = len(outbox)
    signups.cancel(event, user=world.member_a1, now=utcnow())
    db.session.rollback()
    assert len(outbox) == sent_before
    assert statuses(event.id) == {"会员甲": "confirmed", "会员二": "waitlisted"}


def test_secretary_edits_an_event_and_cannot_go_below_the_places_given(world, client_for):
    event = create_event(world.village_a1, capacity=2)
    client_for(world.member_a1.login).post(url(world.village_a1, f"/{event.id}/signup"))
    second = member_of(world.village_a1, "second@test.cn", "会员二")
    client_for(second.login).post(url(world.village_a1, f"/{event.id}/signup"))
    client = client_for(world.secretary_a1.login)
    page = client.get(url(world.village_a1, f"/{event.id}/edit")).get_data(True)
    assert 'value="健康讲座"' in page
    data, _ = _form(title="健康讲座(改期)", capacity="1")
    response = client.post(url(world.village_a1, f"/{event.id}/edit"), data)
    assert response.status_code == 422
    assert "2 people already have a place: the capacity cannot be less." in response.get_data(True)
    data["capacity"] = "5"
    assert client.post(url(world.village_a1, f"/{event.id}/edit"), data).status_code == 303
    with tenant_context(scope_for(world.village_a1, writable=False)):
        saved = db.session.get(Event, event.id)
        assert (saved.title, saved.capacity) == ("健康讲座(改期)", 5)
    # Another association's secretary cannot touch it.
    assert (
        client_for(world.secretary_a2.login)
        .post(url(world.village_a2, f"/{event.id}/edit"), data)
        .status_code
        == 404
    )
