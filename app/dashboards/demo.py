"""Demo data for the dashboards: registers and activity logs of uneven quality across the
demo county's grassroots associations, so an auditor's dashboard has greens, ambers and reds."""

from datetime import date

from sqlalchemy import insert, select

from app.activities.models import ActivityType
from app.activities.services import ActivityInput, record_activity
from app.core.clock import china_today
from app.dashboards.refresh import refresh_all_figures
from app.extensions import db
from app.members.models import Member, MemberStatus
from tenants.context import scope_for, tenant_context
from tenants.models import Association

SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林罗高"
GIVEN = (
    "秀英",
    "桂兰",
    "建国",
    "玉兰",
    "志强",
    "海燕",
    "卫东",
    "丽娟",
    "国庆",
    "春梅",
    "红梅",
    "德明",
)
# slug: (members per 1,000 served, quarters of this year with an activity)
PROFILES = {
    "nanqi-meiyuan": (112, (1, 2, 3)),
    "nanqi-hengtai": (95, (1, 3)),
    "nanqi-market": (40, (2,)),
    "nanqi-shuguang": (124, (1, 2, 3)),
    "nanqi-qingxi": (101, (1, 2)),
    "jinggang-taohua": (108, (1, 2, 3)),
    "jinggang-zhaoqiao": (86, (1, 2, 3)),
    "jinggang-xiaomiao": (60, ()),
    "jinggang-jinyuan": (131, (1, 2, 3)),
    "jinggang-yida": (73, (3,)),
    "jinggang-park": (99, (1, 2, 3)),
}
TITLES = {
    1: ("三八妇女节健康知识讲座", ActivityType.TRAINING),
    2: ("5·29会员活动日", ActivityType.MEMBER_DAY),
    3: ("世界人口日宣传咨询", ActivityType.PUBLICITY),
    4: ("生育关怀慰问", ActivityType.HARDSHIP_VISIT),
}


def load_dashboard_sample(today: date | None = None) -> None:
    """Members (bulk, names only: no personal details needed for the figures) and activities,
    then every association's figures computed, as the nightly job would."""
    today = today or china_today()
    associations = db.session.scalars(
        select(Association).where(Association.slug.in_(list(PROFILES)))
    ).all()
    for association in associations:
        per_thousand, quarters = PROFILES[association.slug]
        count = (association.served_population or 0) * per_thousand // 1000
        with tenant_context(scope_for(association, writable=True)):
            db.session.execute(
                insert(Member),
                [
                    {
                        "association_id": association.id,
                        "name": SURNAMES[i % len(SURNAMES)] + GIVEN[(i // 20) % len(GIVEN)],
                        "joined_on": date(2015 + i % 10, i % 12 + 1, 1),
                        "status": MemberStatus.ACTIVE if i % 17 else MemberStatus.LAPSED,
                        "tags_text": "",
                    }
                    for i in range(count)
                ],
            )
            for quarter in quarters:
                title, kind = TITLES[quarter]
                held_on = date(today.year, 3 * quarter - 1, 15)
                if held_on > today:
                    continue
                record_activity(
                    ActivityInput(
                        held_on=held_on,
                        title=title,
                        type=kind,
                        place=association.name.removesuffix("计生协") + "活动室",
                        organiser=association.name,
                        participant_count=30 + 7 * quarter,
                    ),
                    recorded_by_id=None,
                    today=today,
                )
            db.session.flush()
    refresh_all_figures()
