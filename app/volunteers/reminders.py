"""Reminders a day before each volunteer shift and each event: a scheduled job, never a request.

Every hour the job looks for shifts and events that start within the next 24 hours and tells
each volunteer on the shift and each person with a confirmed place, once: the reminder is
recorded (the assignment's `reminded_at`, an `EventReminder` row) and committed before the
message is handed to the notification backend, so a rerun never sends it again. Each
association's rows are read and written under that association's own tenant context; only the
list of associations with something due is read across tenants.
"""

from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.accounts.models import User
from app.core import crypto
from app.core.clock import CHINA, utcnow
from app.core.jobs import periodic
from app.core.notifications import Person, notify_person
from app.events.models import Event, Registration, RegistrationStatus
from app.extensions import db
from app.members.models import Member
from app.volunteers.models import Assignment, AssignmentStatus, EventReminder, Shift, Volunteer
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tenants.models import Association

CHINA_FORMAT = "%Y-%m-%d %H:%M"
AHEAD = timedelta(hours=24)


def _start(instant: datetime) -> str:
    return instant.astimezone(CHINA).strftime(CHINA_FORMAT)


def _associations_with_something_due(now: datetime) -> list[Association]:
    until = now + AHEAD
    with UNSCOPED_BYPASS("reminder job: which associations have a shift or event starting soon"):
        ids = set(
            db.session.scalars(
                select(Shift.association_id).where(Shift.starts_at > now, Shift.starts_at <= until)
            )
        ) | set(
            db.session.scalars(
                select(Event.association_id).where(Event.starts_at > now, Event.starts_at <= until)
            )
        )
        if not ids:
            return []
        return list(
            db.session.scalars(
                select(Association)
                .where(Association.id.in_(ids), Association.suspended_at.is_(None))
                .order_by(Association.id)
            )
        )


def _shift_messages(now: datetime) -> list[tuple]:
    """(login, phone, key, subject, body, user id) for each volunteer not yet reminded; marks
    them reminded."""
    rows = db.session.execute(
        select(Assignment, Shift, Volunteer, User.login, User.id)
        .join(Shift, Shift.id == Assignment.shift_id)
        .join(Volunteer, Volunteer.id == Assignment.volunteer_id)
        .outerjoin(Member, Member.id == Volunteer.member_id)
        .outerjoin(User, User.id == Member.user_id)
        .where(
            Assignment.status == AssignmentStatus.SIGNED_UP,
            Assignment.reminded_at.is_(None),
            Shift.starts_at > now,
            Shift.starts_at <= now + AHEAD,
        )
        .order_by(Assignment.id)
        .with_for_update(of=Assignment, skip_locked=True)
    ).unique()
    messages = []
    for assignment, shift, volunteer, login, user_id in rows:
        assignment.reminded_at = now
        with force_locale("zh_Hans_CN"):
            subject = _("Reminder: your volunteer shift %(title)s", title=shift.title)
            body = _(
                "%(name)s, you are on the shift %(title)s at %(start)s, %(place)s. "
                "Thank you for volunteering!",
                name=volunteer.display_name,
                title=shift.title,
                start=_start(shift.starts_at),
                place=shift.place or "-",
            )
        phone = None
        if not login:
            encrypted = (
                volunteer.member.phone_encrypted if volunteer.member else volunteer.phone_encrypted
            )
            phone = crypto.decrypt(encrypted) if encrypted else None
        messages.append((login, phone, f"shift:{assignment.id}", subject, body, user_id))
    return messages


def _event_messages(now: datetime) -> list[tuple]:
    reminded = select(EventReminder.registration_id)
    rows = db.session.execute(
        select(Registration, Event, User.login, User.id)
        .join(Event, Event.id == Registration.event_id)
        .join(User, User.id == Registration.user_id)
        .where(
            Registration.status == RegistrationStatus.CONFIRMED,
            Registration.id.not_in(reminded),
            Event.starts_at > now,
            Event.starts_at <= now + AHEAD,
        )
        .order_by(Registration.id)
    )
    messages = []
    for registration, event, login, user_id in rows:
        db.session.add(EventReminder(registration_id=registration.id))
        with force_locale("zh_Hans_CN"):
            subject = _("Reminder: %(title)s starts soon", title=event.title)
            body = _(
                "%(name)s, you have a place at %(title)s at %(start)s, %(place)s. "
                "If you cannot come, please cancel so someone else can go.",
                name=registration.name,
                title=event.title,
                start=_start(event.starts_at),
                place=event.place or "-",
            )
        messages.append((login, None, f"event:{registration.id}", subject, body, user_id))
    return messages


def send_reminders(now: datetime | None = None) -> int:
    """Remind everyone due, association by association, each by her channel
    (`notify_person`); returns how many could be reached."""
    now = now or utcnow()
    sent = 0
    for association in _associations_with_something_due(now):
        with tenant_context(scope_for(association, writable=True)):
            messages = _shift_messages(now) + _event_messages(now)
            for login, phone, key, subject, body, user_id in messages:
                person = Person(
                    login=login, phone=phone, association_id=association.id, user_id=user_id
                )
                sent += notify_person(person, subject, body, key=key) is not None
            db.session.flush()
        # Recorded with the SMS rows: a crash before this commit sends nothing and loses
        # nothing; an e-mail leaves after it.
        db.session.commit()
    return sent


@periodic(minute="5")
def volunteer_reminders() -> None:
    """Hourly: reminders a day before shifts and events."""
    send_reminders()
