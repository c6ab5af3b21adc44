"""Demo activities for the README's community: a year's lecture, member day and publicity, so
the activity pages and the figures built on them have something to show."""

from datetime import date

from app.activities.models import ActivityType
from app.activities.services import ActivityInput, record_activity
from app.core.clock import china_today
from app.extensions import db
from tenants.context import scope_for, tenant_context
from tenants.models import Association


def load_activity_sample(community: Association) -> None:
    with tenant_context(scope_for(community, writable=True)):
        for held_on, title, kind, count in (
            (date(2026, 3, 8), "三八妇女节健康知识讲座", ActivityType.TRAINING, 46),
            (date(2026, 5, 29), "5·29会员活动日：婚育新风进万家", ActivityType.MEMBER_DAY, 120),
            (date(2026, 7, 11), "世界人口日宣传咨询", ActivityType.PUBLICITY, 85),
        ):
            record_activity(
                ActivityInput(
                    held_on=held_on,
                    title=title,
                    type=kind,
                    place="梨花社区活动室",
                    organiser=community.name,
                    participant_count=count,
                ),
                recorded_by_id=None,
                today=china_today(),
            )
        db.session.flush()
