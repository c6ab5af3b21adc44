"""Demo assessment for the README's township: its published scoring sheet and the demo
community's submitted self-assessment."""

from datetime import date

from sqlalchemy import select

from app.accounts.models import User
from app.activities.models import Activity
from app.assessments import self_assessment
from app.assessments.models import AssessmentSheet, Rule, SheetItem
from app.core.clock import china_today, utcnow
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tenants.models import Association


def load_assessment_sample(by_slug: dict[str, Association]) -> None:
    """The yearly assessment (app/assessments): the township's published scoring sheet for its
    communities this year, and the demo community's self-assessment submitted for scoring."""
    township, community = by_slug["nanqi"], by_slug["nanqi-lihua"]
    year = china_today().year
    with UNSCOPED_BYPASS("seed the demo data set: the township secretary's id"):
        publisher = db.session.scalar(
            select(User.id).where(User.login == "township@demo.xiehui.cn")
        )
    sheet = AssessmentSheet(
        association_id=township.id,
        year=year,
        kind=community.kind.value,
        title=f"{year}年度社区计生协工作考核",
        created_by_id=publisher,
        published_at=utcnow(),
        published_by_id=publisher,
        due_on=date(year, 12, 20),
    )
    items = (
        ("七有合格", 100, Rule.QIYOU, ""),
        ("每季度至少开展一次活动", 100, Rule.ACTIVE_QUARTERS, "每季度2.5分。"),
        ("会员比例达到目标", 100, Rule.MEMBER_RATIO, ""),
        ("会费收缴率达到目标", 100, Rule.COLLECTION_RATE, ""),
        ("宣传阵地建设", 100, Rule.MANUAL, "宣传栏、宣传资料齐全，附照片或活动记录。"),
        ("会员之家建设", 100, Rule.MANUAL, "有固定活动场所和制度，附照片。"),
    )
    sheet.items = [
        SheetItem(position=n, title=title, points_tenths=points, rule=rule, guidance=guidance)
        for n, (title, points, rule, guidance) in enumerate(items, start=1)
    ]
    db.session.add(sheet)
    db.session.flush()
    manual = sheet.items[4].id
    with tenant_context(scope_for(community, writable=True)):
        activity_id = db.session.scalar(
            select(Activity.id)
            .where(Activity.held_on >= date(year, 1, 1))
            .order_by(Activity.held_on.desc())
        )
        if activity_id is not None:
            self_assessment.claim(
                community,
                year,
                item_id=manual,
                points="8",
                note="社区宣传栏每季度更新，见活动记录。",
                file=None,
                activity_id=activity_id,
                user_id=None,
            )
        self_assessment.submit(community, year, user_id=None)
