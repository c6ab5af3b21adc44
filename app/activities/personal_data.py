"""A member's section of the personal-data download: the activities they took part in."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.activities.models import Activity
from app.activities.participants import ActivityParticipant
from app.core import personal_data
from app.core.i18n import local_date
from app.core.personal_data import Section
from app.extensions import db
from app.members.models import Member


@personal_data.section(20)
def _activities(member: Member) -> Section:
    activities = db.session.scalars(
        select(Activity)
        .join(ActivityParticipant, ActivityParticipant.activity_id == Activity.id)
        .where(ActivityParticipant.member_id == member.id)
        .order_by(Activity.held_on, Activity.id)
    ).all()
    return Section(
        str(_l("Activities taken part in")),
        [str(_l("Date")), str(_l("Title")), str(_l("Place"))],
        [[local_date(a.held_on), a.title, a.place] for a in activities],
    )
