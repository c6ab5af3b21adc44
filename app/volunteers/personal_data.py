"""A member's section of the personal-data download: their volunteering and shifts."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.core import personal_data
from app.core.i18n import local_datetime
from app.core.personal_data import Section
from app.extensions import db
from app.members.models import Member
from app.volunteers.models import Assignment, Shift, Volunteer


@personal_data.section(50)
def _volunteering(member: Member) -> Section:
    volunteer = db.session.scalar(select(Volunteer).where(Volunteer.member_id == member.id))
    rows = []
    if volunteer is not None:
        rows.append([_l("Skills"), volunteer.skills, ""])
        rows.append([_l("Availability"), volunteer.availability, ""])
        shifts = db.session.execute(
            select(Shift, Assignment)
            .join(Assignment, Assignment.shift_id == Shift.id)
            .where(Assignment.volunteer_id == volunteer.id)
            .order_by(Shift.starts_at, Shift.id)
        ).all()
        rows += [
            [
                local_datetime(shift.starts_at),
                shift.title,
                f"{assignment.minutes / 60:g}" if assignment.minutes else "",
            ]
            for shift, assignment in shifts
        ]
    return Section(
        str(_l("Volunteering")),
        [str(_l("Item or shift")), str(_l("Details")), str(_l("Hours"))],
        rows,
    )
