"""A member's section of the personal-data download (their event sign-ups), and the sign-ups
erased with their record."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from app.core import personal_data
from app.core.i18n import local_datetime
from app.core.personal_data import Section
from app.events.models import Event, Registration, RegistrationStatus
from app.extensions import db
from app.members.models import Member

REGISTRATION_STATUS_LABELS = {
    RegistrationStatus.CONFIRMED: _l("Signed up"),
    RegistrationStatus.WAITLISTED: _l("On the waitlist"),
    RegistrationStatus.CANCELLED: _l("Cancelled"),
}


@personal_data.eraser
def _erase_registrations(member: Member) -> None:
    if member.user_id is not None:
        db.session.execute(delete(Registration).where(Registration.user_id == member.user_id))


@personal_data.section(30)
def _event_registrations(member: Member) -> Section:
    rows = []
    if member.user_id is not None:
        found = db.session.execute(
            select(Event, Registration)
            .join(Registration, Registration.event_id == Event.id)
            .where(Registration.user_id == member.user_id)
            .order_by(Event.starts_at, Event.id)
        ).all()
        rows = [
            [
                local_datetime(event.starts_at),
                event.title,
                str(REGISTRATION_STATUS_LABELS.get(registration.status, registration.status)),
            ]
            for event, registration in found
        ]
    return Section(
        str(_l("Event sign-ups")), [str(_l("Starts")), str(_l("Event")), str(_l("Status"))], rows
    )
