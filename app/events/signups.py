"""Signing up for an event and cancelling, with the waitlist. No request, no flask.g.

Registrations are rows of the event's association; members of an association below it sign up
to a subtree-open event through `sign_up`, which checks where they belong and writes under the
event association's tenant context explicitly, with the event row locked.
"""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.accounts.models import User
from app.core.soft_delete import INCLUDE_DELETED
from app.events.models import Event, EventScope, Registration, RegistrationStatus
from app.events.services import (
    EventRefused,
    association_scope,
    confirmed_count,
    lock_event,
    promote_from_waitlist,
)
from app.extensions import db
from app.members.models import Member
from tenants.models import Association


def waitlist_position(registration: Registration) -> int:
    with association_scope(registration.association_id, writable=False):
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


def record_deleted(user_id: int) -> bool:
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
    with association_scope(home.id, writable=False):
        if record_deleted(user.id):
            raise EventRefused(DELETED_RECORD)
    with association_scope(event.association_id):
        locked = lock_event(event.id)
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
        full = confirmed_count(locked.id) >= locked.capacity
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
    with association_scope(event.association_id):
        locked = lock_event(event.id)
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
        return promote_from_waitlist(locked)
