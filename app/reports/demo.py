"""Demo statistics report for the README's township: its quarterly form, one community's
submitted report and a neighbour's accepted one."""

from datetime import timedelta

from sqlalchemy import select

from app.accounts.models import User
from app.core.clock import china_today
from app.extensions import db
from app.reports import deciding, defining, filing
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tenants.models import Association


def load_reports_sample(by_slug: dict[str, Association]) -> None:
    """The township's quarterly statistics form (app/reports): the demo secretary's community
    has submitted it, a neighbouring community's is accepted, the others have not filed yet."""
    with UNSCOPED_BYPASS("seed the demo data set: the demo users' ids"):
        ids = dict(db.session.execute(select(User.login, User.id)).all())
    township_user, secretary = ids["township@demo.xiehui.cn"], ids["secretary@demo.xiehui.cn"]
    township = by_slug["nanqi"]
    today = china_today()
    with tenant_context(scope_for(township, writable=True)):
        form = defining.define_form(
            township,
            defining.FormInput(
                name="计生协工作季度统计表",
                period_kind="quarter",
                year=today.year,
                period_number=(today.month - 1) // 3 + 1,
                deadline_on=today + timedelta(days=7),
                figures=["members", "new_members", "activities", "households"],
                fields=[
                    defining.FieldInput("宣传服务次数", "number", required=True),
                    defining.FieldInput("其中入户宣传次数", "number"),
                    defining.FieldInput("主要活动形式", "choice", "入户走访、专题讲座、展板宣传"),
                    defining.FieldInput("工作亮点", "text"),
                ],
                checks=[
                    defining.CheckInput("le", "m2", "m1"),
                    defining.CheckInput("le", "fig:new_members", "fig:members"),
                    defining.CheckInput("ge0", "m1"),
                ],
            ),
            user_id=township_user,
            today=today,
        )
    filed = (
        (by_slug["nanqi-lihua"], {"m1": "12", "m2": "8", "m3": "入户走访"}, False),
        (by_slug["nanqi-meiyuan"], {"m1": "7", "m2": "3", "m3": "专题讲座"}, True),
    )
    for community, values, accept in filed:
        with tenant_context(scope_for(community, writable=True)):
            report = filing.start_report(form, community, today=today)
            filing.save_report(
                report,
                form,
                community,
                raw=values,
                files={},
                remarks="按时上报。",
                reason="",
                submit=True,
                user_id=secretary,
                today=today,
            )
        if accept:
            deciding.decide(report, form, community, user_id=township_user, accept=True, comment="")
