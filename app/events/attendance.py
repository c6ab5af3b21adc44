"""At the door and after: the door list, ticking people in (by name or by their check-in
code), walk-ins, and the activity record (活动记录) a held event becomes. No request, no
flask.g."""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.accounts.models import User
from app.activities import services as activities
from app.activities.models import ActivityType
from app.core.clock import CHINA
from app.events.checkin_card import read_card
from app.events.models import Event, Registration, RegistrationStatus
from app.events.services import EventInvalid, EventRefused, association_scope
from app.events.signups import DELETED_RECORD, may_sign_up, record_deleted
from app.extensions import db
from app.members.models import Member
from app.members.pinyin import pinyin_initials
from tenants.models import Association, Membership


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
    with association_scope(home.id, writable=False):
        membership = db.session.scalar(
            select(Membership).where(
                Membership.id == holder.membership_id,
                Membership.user_id == holder.user_id,
            )
        )
        if membership is not None and record_deleted(holder.user_id):
            raise EventRefused(DELETED_RECORD)
    user = db.session.get(User, holder.user_id) if membership is not None else None
    if user is None:
        raise EventRefused(_l("This check-in code is no longer valid: the membership has ended."))
    with association_scope(event.association_id):
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
