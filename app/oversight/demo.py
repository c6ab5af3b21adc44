"""Demo oversight for the README's county: tasks against the demo secretary's community and a
recorded spot check, so the auditor's and the secretary's oversight pages have something to
show."""

from datetime import timedelta

from sqlalchemy import select

from app.accounts.models import User
from app.core.clock import china_today
from app.extensions import db
from app.oversight import rectification, spot_checking
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tenants.models import Association


def load_oversight_sample(by_slug: dict[str, Association]) -> None:
    """The county auditor's oversight (app/oversight): two rectification tasks against the demo
    secretary's community (one past its deadline, one answered) and one recorded spot check."""
    with UNSCOPED_BYPASS("seed the demo data set: the demo users' ids"):
        ids = dict(db.session.execute(select(User.login, User.id)).all())
    auditor, secretary = ids["auditor@demo.xiehui.cn"], ids["secretary@demo.xiehui.cn"]
    county, community = by_slug["shushan"], by_slug["nanqi-lihua"]
    today = china_today()
    with tenant_context(scope_for(community, writable=False)):
        late = rectification.open_task(
            community,
            rectification.TaskInput(
                title="世界人口日活动缺少现场照片",
                description="7月11日世界人口日宣传咨询活动没有上传照片，请补充现场照片和签到表。",
                deadline_on=today,
            ),
            user_id=auditor,
            today=today,
        )
        answered = rectification.open_task(
            community,
            rectification.TaskInput(
                title="会员名册与联系户名单不一致",
                description="抽查发现有3户联系户没有对应的中心户，请核对后更正。",
                deadline_on=today + timedelta(days=20),
            ),
            user_id=auditor,
            today=today,
        )
        with tenant_context(scope_for(community, writable=True)):
            late.deadline_on = today - timedelta(days=5)  # as if opened weeks ago
            rectification.answer_task(
                answered,
                note="已逐户核对，3户已分别联系到1号、2号中心户。",
                files=[],
                association_id=community.id,
                user_id=secretary,
            )
            db.session.flush()
    with tenant_context(scope_for(county, writable=False)):
        filters = spot_checking.DrawFilter(year=today.year)
        found = len(spot_checking.population(county, filters))
        if found:
            spot_checking.draw_spot_check(county, filters, min(5, found), user_id=auditor)
