"""A realistic demo tree with one user per role, for trying the app and for browser tests."""

from datetime import date

from sqlalchemy import select

from app.accounts import second_factor
from app.accounts.models import User
from app.accounts.passwords import hash_password
from app.activities.models import ActivityType
from app.activities.services import ActivityInput, record_activity
from app.core.clock import china_today
from app.dashboards.demo import load_dashboard_sample
from app.dues.demo import load_dues_sample
from app.dues.stripe_demo import load_stripe_sample
from app.extensions import db
from app.members import services as registers
from app.members.models import BACKBONE_TAGS
from app.volunteers.demo import load_volunteer_sample
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tenants.models import Association, AssociationKind, Membership, Role
from tenants.tree import create_association

K = AssociationKind
# (slug, name, kind, division code, population, children)
TREE = (
    "anhui",
    "安徽省计生协",
    K.PROVINCE,
    "340000000000",
    61_000_000,
    [
        (
            "hefei",
            "合肥市计生协",
            K.CITY,
            "340100000000",
            9_600_000,
            [
                (
                    "shushan",
                    "蜀山区计生协",
                    K.COUNTY,
                    "340104000000",
                    1_100_000,
                    [
                        (
                            "nanqi",
                            "南七街道计生协",
                            K.TOWNSHIP,
                            "340104001000",
                            86_000,
                            [
                                (
                                    "nanqi-lihua",
                                    "梨花社区计生协",
                                    K.COMMUNITY,
                                    "340104001001",
                                    9_800,
                                    [],
                                ),
                                (
                                    "nanqi-meiyuan",
                                    "梅园社区计生协",
                                    K.COMMUNITY,
                                    "340104001002",
                                    12_400,
                                    [],
                                ),
                                (
                                    "nanqi-hengtai",
                                    "恒泰电子企业计生协",
                                    K.ENTERPRISE,
                                    None,
                                    1_350,
                                    [],
                                ),
                                (
                                    "nanqi-market",
                                    "南七农贸市场流动人口计生协",
                                    K.MIGRANT,
                                    None,
                                    600,
                                    [],
                                ),
                                (
                                    "nanqi-shuguang",
                                    "曙光社区计生协",
                                    K.COMMUNITY,
                                    "340104001003",
                                    7_200,
                                    [],
                                ),
                                (
                                    "nanqi-qingxi",
                                    "清溪社区计生协",
                                    K.COMMUNITY,
                                    "340104001004",
                                    8_900,
                                    [],
                                ),
                            ],
                        ),
                        (
                            "jinggang",
                            "井岗镇计生协",
                            K.TOWNSHIP,
                            "340104100000",
                            54_000,
                            [
                                (
                                    "jinggang-taohua",
                                    "桃花村计生协",
                                    K.VILLAGE,
                                    "340104100201",
                                    2_300,
                                    [],
                                ),
                                (
                                    "jinggang-zhaoqiao",
                                    "赵桥村计生协",
                                    K.VILLAGE,
                                    "340104100202",
                                    3_100,
                                    [],
                                ),
                                (
                                    "jinggang-xiaomiao",
                                    "小庙村计生协",
                                    K.VILLAGE,
                                    "340104100203",
                                    2_700,
                                    [],
                                ),
                                (
                                    "jinggang-jinyuan",
                                    "金源社区计生协",
                                    K.COMMUNITY,
                                    "340104100001",
                                    6_400,
                                    [],
                                ),
                                (
                                    "jinggang-yida",
                                    "亿达物流企业计生协",
                                    K.ENTERPRISE,
                                    None,
                                    900,
                                    [],
                                ),
                                (
                                    "jinggang-park",
                                    "工业园流动人口计生协",
                                    K.MIGRANT,
                                    None,
                                    1_800,
                                    [],
                                ),
                            ],
                        ),
                    ],
                ),
                (
                    "baohe",
                    "包河区计生协",
                    K.COUNTY,
                    "340111000000",
                    1_200_000,
                    [
                        (
                            "wanghu",
                            "望湖街道计生协",
                            K.TOWNSHIP,
                            "340111003000",
                            70_000,
                            [
                                (
                                    "wanghu-jiangnan",
                                    "江南社区计生协",
                                    K.COMMUNITY,
                                    "340111003001",
                                    8_000,
                                    [],
                                ),
                            ],
                        ),
                    ],
                ),
            ],
        ),
    ],
)

DEMO_PASSWORD = "Xiehui-Demo-2026"
# Published in the README, for demo data only: the second factor of the operator and the
# county auditors. Never shown by the app itself.
DEMO_TOTP_SECRET = "XIEHUIDEMOXIEHUIDEMOXIEHUIDEMO22"
# (login, name, slug, role); the README lists these.
USERS = (
    ("secretary@demo.xiehui.cn", "李秀英", "nanqi-lihua", Role.SECRETARY),
    ("staff@demo.xiehui.cn", "陈静", "nanqi-lihua", Role.STAFF),
    ("member@demo.xiehui.cn", "王芳", "nanqi-lihua", Role.MEMBER),
    ("township@demo.xiehui.cn", "刘建国", "nanqi", Role.SECRETARY),
    ("auditor@demo.xiehui.cn", "张伟", "shushan", Role.AUDITOR),
    ("village@demo.xiehui.cn", "赵桂兰", "jinggang-taohua", Role.SECRETARY),
    ("baohe@demo.xiehui.cn", "孙明", "baohe", Role.AUDITOR),
)


def _create_tree(node, parent: Association | None) -> None:
    slug, name, kind, code, population, children = node
    association = create_association(
        name=name,
        slug=slug,
        kind=kind,
        parent=parent,
        division_code=code,
        served_population=population,
    )
    for child in children:
        _create_tree(child, association)


def load_demo_data() -> bool:
    """Create the demo tree and users; False (and nothing done) if it exists already."""
    if db.session.scalar(select(Association.id).where(Association.slug == TREE[0])):
        return False
    with UNSCOPED_BYPASS("seed the demo data set"):
        _create_tree(TREE, None)
        password_hash = hash_password(DEMO_PASSWORD)
        by_slug = {a.slug: a for a in db.session.scalars(select(Association))}
        db.session.add(
            User(
                login="admin@demo.xiehui.cn",
                name="平台管理员",
                password_hash=password_hash,
                is_platform_admin=True,
            )
        )
        for login, name, slug, role in USERS:
            user = User(login=login, name=name, password_hash=password_hash)
            db.session.add(user)
            db.session.flush()
            db.session.add(Membership(association_id=by_slug[slug].id, user_id=user.id, role=role))
        # The secretary also helps at a neighbouring community: one person, two associations.
        secretary = db.session.scalar(select(User).where(User.login == USERS[0][0]))
        db.session.add(
            Membership(
                association_id=by_slug["nanqi-meiyuan"].id, user_id=secretary.id, role=Role.STAFF
            )
        )
        db.session.flush()
        _enrol_second_factors()
        member_user = db.session.scalar(select(User).where(User.login == USERS[2][0]))
    _load_registers(by_slug["nanqi-lihua"], member_user_id=member_user.id)
    load_volunteer_sample(by_slug["nanqi-lihua"], member_user_id=member_user.id)
    load_dues_sample(by_slug["nanqi-lihua"], member_user_id=member_user.id)
    load_stripe_sample(by_slug["nanqi-lihua"])
    load_dashboard_sample()
    _load_oversight(by_slug)
    _load_assessment(by_slug)
    _load_reports(by_slug)
    return True


def _enrol_second_factors() -> None:
    """The demo logins that must have a second factor (operator, county auditors) have it on
    with the published DEMO_TOTP_SECRET, so a newcomer can add it to an authenticator app."""
    logins = ["admin@demo.xiehui.cn", *(login for login, *_ in USERS)]
    for user in db.session.scalars(select(User).where(User.login.in_(logins))):
        if second_factor.is_required(user):
            second_factor.enable_with_known_secret(user, DEMO_TOTP_SECRET)
    db.session.flush()


def demo_second_factor_logins() -> list[str]:
    return sorted(
        db.session.scalars(
            select(User.login).where(
                User.login.like("%@demo.xiehui.cn"), User.totp_enabled_at.is_not(None)
            )
        )
    )


def _load_oversight(by_slug: dict[str, Association]) -> None:
    """The county auditor's oversight (app/oversight): two rectification tasks against the demo
    secretary's community (one past its deadline, one answered) and one recorded spot check."""
    from datetime import timedelta

    from app.oversight import rectification, spot_checking

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


def _load_assessment(by_slug: dict[str, Association]) -> None:
    """The yearly assessment (app/assessments): the township's published scoring sheet for its
    communities this year, and the demo community's self-assessment submitted for scoring."""
    from app.activities.models import Activity
    from app.assessments import self_assessment
    from app.assessments.models import AssessmentSheet, Rule, SheetItem
    from app.core.models import utcnow

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


def _load_reports(by_slug: dict[str, Association]) -> None:
    """The township's quarterly statistics form (app/reports): the demo secretary's community
    has submitted it, a neighbouring community's is accepted, the others have not filed yet."""
    from datetime import timedelta

    from app.reports import deciding, defining, filing

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


SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林罗高"
GIVEN_NAMES = ("秀英", "桂兰", "建国", "玉兰", "志强", "海燕", "卫东", "丽娟", "国庆", "春梅")


def _load_registers(community: Association, *, member_user_id: int) -> None:
    """A lived-in community: households linked to two central households, members (some of
    them 五老 backbone members) and a year of activities, so every page has something to show."""
    with tenant_context(scope_for(community, writable=True)):
        households = [
            registers.create_household(
                registers.HouseholdInput(
                    address=f"梨花路{number}号",
                    grid=f"第{number % 3 + 1}网格",
                    building=f"{number % 4 + 1}栋",
                    unit=f"{number % 2 + 1}单元",
                )
            )
            for number in range(1, 15)
        ]
        centrals = households[:2]
        for central in centrals:
            registers.mark_central(central)
        for index, household in enumerate(households[2:12]):
            registers.link_household(household, centrals[index % 2])
        for index in range(28):
            name = SURNAMES[index % len(SURNAMES)] + GIVEN_NAMES[index % len(GIVEN_NAMES)]
            registers.create_member(
                registers.MemberInput(
                    name="王芳" if index == 0 else name,
                    phone=f"1390551{index:04d}",
                    household_id=households[index % len(households)].id,
                    joined_on=date(2018 + index % 7, index % 12 + 1, 1),
                    tags=[BACKBONE_TAGS[index % 5]] if index % 3 == 0 else [],
                    user_id=member_user_id if index == 0 else None,
                )
            )
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
