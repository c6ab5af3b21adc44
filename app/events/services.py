"""Rules of events: publishing, reading what members may see, the locked event row and the
waitlist moving up when places free, and the calendar file. Signing up and cancelling are in
app.events.signups, the door and the activity record in app.events.attendance. No request, no
flask.g: testable on their own.

Places are handed out with the event row locked (SELECT … FOR UPDATE on PostgreSQL; SQLite
serialises writers), so the capacity holds also when many sign up at the same moment.
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
from app.core.clock import CHINA
from app.core.dates import date_problem
from app.core.notifications import Person, notify_person
from app.core.problems import Problem
from app.events.models import Event, EventScope, Registration, RegistrationStatus
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tenants.models import Association

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
    locked = lock_event(event.id)
    confirmed = confirmed_count(locked.id)
    if "capacity" not in problems and data.capacity < confirmed:
        problems["capacity"] = _l(
            "%(n)d people already have a place: the capacity cannot be less.", n=confirmed
        )
    if problems:
        raise EventInvalid(problems)
    _apply(locked, data)
    db.session.flush()
    return promote_from_waitlist(locked)


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


# --- the locked event and the waitlist --------------------------------------------------------


def association_scope(association_id: int, *, writable: bool = True):
    """The tenant scope of an association by id: registrations are read and written in their
    event's association (or checked in the member's own), whatever the request's scope."""
    association = db.session.get(Association, association_id)
    return tenant_context(scope_for(association, writable=writable))


def lock_event(event_id: int) -> Event:
    """The event row, locked until the transaction ends (PostgreSQL); fresh from the database."""
    return db.session.scalar(
        select(Event)
        .where(Event.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def confirmed_count(event_id: int) -> int:
    return db.session.scalar(
        select(func.count()).where(
            Registration.event_id == event_id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
    )


def promote_from_waitlist(event: Event) -> list[Registration]:
    """Fill free places from the waitlist, first come first served, and tell each person.
    Runs with the event row locked."""
    free = event.capacity - confirmed_count(event.id)
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
