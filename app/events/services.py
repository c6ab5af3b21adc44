"""Rules of events: publishing, sign-up with a waitlist, cancelling, check-in, the activity
record an event becomes, and its calendar file. No request, no flask.g: testable on their own.

Places are handed out with the event row locked (SELECT … FOR UPDATE on PostgreSQL; SQLite
serialises writers), so the capacity holds also when many sign up at the same moment.
Registrations are rows of the event's association; members of an association below it sign up
to a subtree-open event through `sign_up`, which checks where they belong and writes under the
event association's tenant context explicitly.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import icalendar
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.accounts.models import User
from app.activities import services as activities
from app.activities.models import ActivityType
from app.core.clock import CHINA
from app.core.dates import date_problem
from app.core.notifications import Person, notify_person
from app.core.problems import Problem
from app.core.soft_delete import INCLUDE_DELETED
from app.events.checkin_card import read_card
from app.events.models import Event, EventScope, Registration, RegistrationStatus
from app.extensions import db
from app.members.models import Member
from app.members.pinyin import pinyin_initials
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tenants.models import Association, Membership

MAX_CAPACITY = 100_000


class EventRefused(Problem):
    """A sign-up, cancellation or conversion the rules refuse; `message` is translated (lazy)."""


class EventInvalid(Problem):
    """The input breaks a rule; `problems` maps a field name to a translated message."""


@dataclass
class EventInput:
    title: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    signup_deadline: datetime | None = None  # defaults to the start
    description: str = ""
    place: str = ""
    scope: EventScope = EventScope.ASSOCIATION


# --- publishing -------------------------------------------------------------------------------


def event_problems(data: EventInput, *, now: datetime, association: Association) -> dict:
    problems = {}
    if not data.title.strip():
        problems["title"] = _l("Give the event a title.")
    if data.ends_at <= data.starts_at:
        problems["ends_at"] = _l("The event must end after it starts.")
    if data.capacity is None or data.capacity <= 0:
        problems["capacity"] = _l("Capacity must be at least 1.")
    elif data.capacity > MAX_CAPACITY:
        problems["capacity"] = _l("Capacity can be at most %(n)d.", n=MAX_CAPACITY)
    deadline = data.signup_deadline or data.starts_at
    if deadline > data.starts_at:
        problems["signup_deadline"] = _l("The sign-up deadline cannot be after the event starts.")
    if data.starts_at < now - timedelta(days=1):
        problems["starts_at"] = _l("The event cannot start in the past.")
    for name in ("starts_at", "ends_at", "signup_deadline"):
        instant = getattr(data, name)
        if instant is not None and (problem := date_problem(instant.astimezone(CHINA))):
            problems[name] = problem
    if data.scope == EventScope.SUBTREE and association.kind.is_grassroots:
        problems["scope"] = _l(
            "Only an association with associations below it can open an event to them."
        )
    return problems


def _apply(event: Event, data: EventInput) -> None:
    event.title = data.title.strip()
    event.description = data.description.strip()
    event.place = data.place.strip()
    event.starts_at = data.starts_at
    event.ends_at = data.ends_at
    event.signup_deadline = data.signup_deadline or data.starts_at
    event.capacity = data.capacity
    event.scope = data.scope


def publish_event(
    data: EventInput, *, association: Association, created_by_id: int | None, now: datetime
) -> Event:
    problems = event_problems(data, now=now, association=association)
    if problems:
        raise EventInvalid(problems)
    event = Event(created_by_id=created_by_id)
    _apply(event, data)
    db.session.add(event)
    db.session.flush()
    return event


def update_event(
    event: Event, data: EventInput, *, association: Association, now: datetime
) -> list[Registration]:
    """Change an event; a larger capacity moves people up from the waitlist (returned, and
    told). A capacity below the places already given is refused."""
    problems = event_problems(data, now=now, association=association)
    locked = _lock(event.id)
    confirmed = _confirmed_count(locked.id)
    if "capacity" not in problems and data.capacity < confirmed:
        problems["capacity"] = _l(
            "%(n)d people already have a place: the capacity cannot be less.", n=confirmed
        )
    if problems:
        raise EventInvalid(problems)
    _apply(locked, data)
    db.session.flush()
    return _promote(locked)


# --- reading ----------------------------------------------------------------------------------


def upcoming_events(association: Association, *, now: datetime) -> list[Event]:
    """Events not yet over that members of `association` may see: its own, and those of the
    associations above it that are open to their whole subtree. One query."""
    ancestors = [a for a in association.ancestor_ids if a != association.id]
    with UNSCOPED_BYPASS("events of this association and subtree-open events from above"):
        return list(
            db.session.scalars(
                select(Event)
                .where(
                    Event.ends_at >= now,
                    (Event.association_id == association.id)
                    | (Event.association_id.in_(ancestors) & (Event.scope == EventScope.SUBTREE)),
                )
                .order_by(Event.starts_at, Event.id)
            )
        )


def past_events(*, now: datetime, limit: int = 20) -> list[Event]:
    """The current association's own events that are over, newest first."""
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.ends_at < now)
            .order_by(Event.starts_at.desc(), Event.id.desc())
            .limit(limit)
        )
    )


def find_event(event_id: int, association: Association) -> Event | None:
    """An event of `association`, or a subtree-open event of an association above it."""
    ancestors = association.ancestor_ids
    with UNSCOPED_BYPASS("an event of this association or a subtree-open one from above"):
        event = db.session.scalar(select(Event).where(Event.id == event_id))
        if event is None or event.association_id not in ancestors:
            return None
        if event.association_id != association.id and event.scope != EventScope.SUBTREE:
            return None
        return event


def event_association(event: Event) -> Association:
    return db.session.get(Association, event.association_id)


@dataclass(frozen=True)
class Places:
    confirmed: int
    waitlisted: int
    capacity: int

    @property
    def left(self) -> int:
        return max(self.capacity - self.confirmed, 0)


def places_of(events: list[Event]) -> dict[int, Places]:
    """Confirmed and waitlisted counts of several events in one query."""
    ids = [event.id for event in events]
    counts: dict[tuple[int, str], int] = {}
    if ids:
        with UNSCOPED_BYPASS("counts of the events listed (already checked visible)"):
            rows = db.session.execute(
                select(Registration.event_id, Registration.status, func.count())
                .where(Registration.event_id.in_(ids))
                .group_by(Registration.event_id, Registration.status)
            )
            counts = {(event_id, str(status)): n for event_id, status, n in rows}
    return {
        event.id: Places(
            confirmed=counts.get((event.id, RegistrationStatus.CONFIRMED.value), 0),
            waitlisted=counts.get((event.id, RegistrationStatus.WAITLISTED.value), 0),
            capacity=event.capacity,
        )
        for event in events
    }


def my_registrations(user_id: int, events: list[Event]) -> dict[int, Registration]:
    """The user's live (not cancelled) registration per event, one query."""
    ids = [event.id for event in events]
    if not ids:
        return {}
    with UNSCOPED_BYPASS("the signed-in user's own registrations for visible events"):
        rows = db.session.scalars(
            select(Registration).where(
                Registration.event_id.in_(ids),
                Registration.user_id == user_id,
                Registration.status != RegistrationStatus.CANCELLED,
            )
        )
        return {row.event_id: row for row in rows}


def waitlist_position(registration: Registration) -> int:
    with _writing(registration.association_id, writable=False):
        ahead = db.session.scalar(
            select(func.count()).where(
                Registration.event_id == registration.event_id,
                Registration.status == RegistrationStatus.WAITLISTED,
                (Registration.queued_at < registration.queued_at)
                | (
                    (Registration.queued_at == registration.queued_at)
                    & (Registration.id < registration.id)
                ),
            )
        )
    return ahead + 1


def attendance_list(event: Event) -> list[Registration]:
    """Everyone with a place, walk-ins last, by name (for the door)."""
    return list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
            .order_by(Registration.walk_in, Registration.name, Registration.id)
        )
    )


def waitlist(event: Event) -> list[Registration]:
    return list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.WAITLISTED,
            )
            .order_by(Registration.queued_at, Registration.id)
        )
    )


# --- sign-up and cancelling -------------------------------------------------------------------


def _writing(association_id: int, *, writable: bool = True):
    association = db.session.get(Association, association_id)
    return tenant_context(scope_for(association, writable=writable))


def _lock(event_id: int) -> Event:
    """The event row, locked until the transaction ends (PostgreSQL); fresh from the database."""
    return db.session.scalar(
        select(Event)
        .where(Event.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _confirmed_count(event_id: int) -> int:
    return db.session.scalar(
        select(func.count()).where(
            Registration.event_id == event_id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
    )


def _record_deleted(user_id: int) -> bool:
    """Whether the secretary deleted (restorably) the person's record in the register of the
    association in scope: while it can be restored, she takes part in nothing there, and her
    sign-ups are hidden with her (app.events.models)."""
    return (
        db.session.scalar(
            select(Member.id)
            .where(Member.user_id == user_id, Member.deleted_at.is_not(None))
            .execution_options(**INCLUDE_DELETED)
        )
        is not None
    )


DELETED_RECORD = _l(
    "This member's record was deleted from the register: the secretary can restore it under "
    "Recently deleted."
)


def may_sign_up(event: Event, home: Association) -> bool:
    """Members of the event's association; for subtree-open events also those below it."""
    if home.id == event.association_id:
        return True
    if event.scope != EventScope.SUBTREE:
        return False
    return event.association_id in home.ancestor_ids


def sign_up(event: Event, *, user: User, home: Association, now: datetime) -> Registration:
    """A place if one is free, else a place on the waitlist. `home` is the association where
    the user holds their role (the caller checked that role)."""
    if not may_sign_up(event, home):
        raise EventRefused(_l("This event is only open to members of another association."))
    with _writing(home.id, writable=False):
        if _record_deleted(user.id):
            raise EventRefused(DELETED_RECORD)
    with _writing(event.association_id):
        locked = _lock(event.id)
        if locked is None:
            raise EventRefused(_l("This event no longer exists."))
        if now > locked.signup_deadline:
            raise EventRefused(_l("Sign-up for this event closed at its deadline."))
        existing = db.session.scalar(
            select(Registration).where(
                Registration.event_id == locked.id, Registration.user_id == user.id
            )
        )
        if existing is not None and existing.status != RegistrationStatus.CANCELLED:
            raise EventRefused(_l("You are already signed up for this event."))
        full = _confirmed_count(locked.id) >= locked.capacity
        status = RegistrationStatus.WAITLISTED if full else RegistrationStatus.CONFIRMED
        registration = existing or Registration(event_id=locked.id, user_id=user.id)
        registration.name = user.name
        registration.home_association_id = home.id
        registration.status = status
        registration.queued_at = now
        registration.checked_in_at = None
        if existing is None:
            db.session.add(registration)
        db.session.flush()
        return registration


def cancel(event: Event, *, user: User, now: datetime) -> list[Registration]:
    """Give up one's place (or waitlist place); the first on the waitlist moves up and is told.
    Returns the registrations promoted."""
    with _writing(event.association_id):
        locked = _lock(event.id)
        if locked is None:
            raise EventRefused(_l("This event no longer exists."))
        if now >= locked.starts_at:
            raise EventRefused(_l("The event has started: sign-ups can no longer be cancelled."))
        registration = db.session.scalar(
            select(Registration).where(
                Registration.event_id == locked.id,
                Registration.user_id == user.id,
                Registration.status != RegistrationStatus.CANCELLED,
            )
        )
        if registration is None:
            raise EventRefused(_l("You are not signed up for this event."))
        registration.status = RegistrationStatus.CANCELLED
        db.session.flush()
        return _promote(locked)


def _promote(event: Event) -> list[Registration]:
    """Fill free places from the waitlist, first come first served, and tell each person.
    Runs with the event row locked."""
    free = event.capacity - _confirmed_count(event.id)
    if free <= 0:
        return []
    promoted = list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.WAITLISTED,
            )
            .order_by(Registration.queued_at, Registration.id)
            .limit(free)
        )
    )
    for registration in promoted:
        registration.status = RegistrationStatus.CONFIRMED
    db.session.flush()
    for registration in promoted:
        _tell_promoted(event, registration)
    return promoted


def _tell_promoted(event: Event, registration: Registration) -> None:
    """Queue the good news by the member's channel; it leaves once the transaction commits
    (never for a place that was rolled back)."""
    if registration.user_id is None:
        return
    user = db.session.get(User, registration.user_id)
    start = event.starts_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
    # In the member's own language (Chinese unless they chose another).
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = _("You have a place at %(title)s", title=event.title)
        body = _(
            "A place became free and it is yours: %(title)s, %(start)s, %(place)s. "
            "If you cannot come, please cancel so the next person can go.",
            title=event.title,
            start=start,
            place=event.place or "-",
        )
    notify_person(
        Person(login=user.login, association_id=event.association_id, user_id=user.id),
        subject,
        body,
        key=f"waitlist-place:{registration.id}",
    )


# --- at the door ------------------------------------------------------------------------------


def set_checked_in(registration: Registration, checked_in: bool, *, now: datetime) -> None:
    registration.checked_in_at = now if checked_in else None
    db.session.flush()


def add_walk_in(event: Event, name: str, *, now: datetime) -> Registration:
    """Someone who came without signing up, added by name and checked in at once."""
    name = (name or "").strip()
    if not name:
        raise EventInvalid({"name": _l("Enter the name of the person who came.")})
    if len(name) > 60:
        raise EventInvalid({"name": _l("A name can be at most 60 characters.")})
    registration = Registration(
        event_id=event.id,
        user_id=None,
        name=name,
        status=RegistrationStatus.CONFIRMED,
        queued_at=now,
        walk_in=True,
        checked_in_at=now,
    )
    db.session.add(registration)
    db.session.flush()
    return registration


@dataclass(frozen=True)
class CardCheckIn:
    registration: Registration
    already: bool  # she had been checked in before this scan


def check_in_by_card(event: Event, token: str, *, now: datetime) -> CardCheckIn:
    """Tick the member whose check-in code was scanned (app/events/checkin_card.py) on the door
    list of `event`: her place if she has one, else she is added as a walk-in. The code only
    identifies her; the caller is the event's secretary or staff at the door. A member of an
    association that may not come to the event, or a membership that has ended, is refused."""
    holder = read_card(token)
    if holder is None:
        raise EventRefused(_l("This is not a member's check-in code."))
    home = db.session.get(Association, holder.association_id)
    if home is None or not may_sign_up(event, home):
        raise EventRefused(
            _l(
                "This code belongs to a member of another association: "
                "she cannot be checked in at this event."
            )
        )
    with _writing(home.id, writable=False):
        membership = db.session.scalar(
            select(Membership).where(
                Membership.id == holder.membership_id,
                Membership.user_id == holder.user_id,
            )
        )
        if membership is not None and _record_deleted(holder.user_id):
            raise EventRefused(DELETED_RECORD)
    user = db.session.get(User, holder.user_id) if membership is not None else None
    if user is None:
        raise EventRefused(_l("This check-in code is no longer valid: the membership has ended."))
    with _writing(event.association_id):
        registration = db.session.scalar(
            select(Registration).where(
                Registration.event_id == event.id, Registration.user_id == user.id
            )
        )
        if registration is not None and registration.status == RegistrationStatus.CONFIRMED:
            if registration.checked_in_at is not None:
                return CardCheckIn(registration, already=True)
        elif registration is None:
            registration = Registration(
                event_id=event.id, user_id=user.id, walk_in=True, queued_at=now
            )
            db.session.add(registration)
        else:  # on the waitlist, or cancelled: she came anyway
            registration.walk_in = registration.status == RegistrationStatus.CANCELLED
        registration.name = user.name
        registration.home_association_id = home.id
        registration.status = RegistrationStatus.CONFIRMED
        registration.checked_in_at = now
        db.session.flush()
        return CardCheckIn(registration, already=False)


def door_search(registrations: list[Registration], text: str) -> list[Registration]:
    """The door list narrowed to names containing `text` or whose pinyin initials start with
    it (张三 → "zs"), for finding someone whose code cannot be scanned."""
    text = text.strip().lower()[:40]
    if not text:
        return registrations
    return [
        r
        for r in registrations
        if text in r.name.lower() or pinyin_initials(r.name).startswith(text)
    ]


# --- after the event --------------------------------------------------------------------------


def record_as_activity(
    event: Event,
    *,
    recorded_by_id: int | None,
    organiser: str,
    now: datetime,
    type: ActivityType = ActivityType.MEMBER_DAY,
):
    """The activity record (活动记录) of a held event in one step: date, place, title,
    description, the number who came and the registered members who came."""
    if event.activity_id is not None:
        raise EventRefused(_l("This event has already been recorded as an activity."))
    if now < event.starts_at:
        raise EventRefused(_l("An event can be recorded as an activity once it has taken place."))
    attending = attendance_list(event)
    checked_in = [r for r in attending if r.checked_in_at is not None]
    # With a check-in at the door, those who came; without one, those who had a place.
    came = checked_in or attending
    user_ids = {r.user_id for r in came if r.user_id is not None}
    member_ids = []
    if user_ids:
        member_ids = list(db.session.scalars(select(Member.id).where(Member.user_id.in_(user_ids))))
    today = now.astimezone(CHINA).date()
    activity = activities.record_activity(
        activities.ActivityInput(
            held_on=event.starts_at.astimezone(CHINA).date(),
            title=event.title[:120],
            type=type,
            place=event.place,
            organiser=organiser[:60],
            participant_count=len(came),
            description=event.description,
            member_ids=member_ids,
        ),
        recorded_by_id=recorded_by_id,
        today=today,
    )
    event.activity_id = activity.id
    db.session.flush()
    return activity


# --- calendar ---------------------------------------------------------------------------------


def calendar_file(event: Event, *, url: str, now: datetime) -> bytes:
    """An iCalendar (RFC 5545) file with the one event."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Xiehui//Events//ZH")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    entry = icalendar.Event()
    entry.add("uid", f"event-{event.id}-{event.association_id}@xiehui")
    entry.add("dtstamp", now)
    entry.add("dtstart", event.starts_at)
    entry.add("dtend", event.ends_at)
    entry.add("summary", event.title)
    if event.place:
        entry.add("location", event.place)
    if event.description:
        entry.add("description", event.description)
    entry.add("url", url)
    calendar.add_component(entry)
    return calendar.to_ical()
