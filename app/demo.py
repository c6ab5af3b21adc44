"""A realistic demo tree with one user per role, for trying the app and for browser tests."""

from sqlalchemy import select

from app.accounts import second_factor
from app.accounts.models import User
from app.accounts.passwords import hash_password
from app.activities.demo import load_activity_sample
from app.assessments.demo import load_assessment_sample
from app.dashboards.demo import load_dashboard_sample
from app.dues.demo import load_dues_sample
from app.dues.stripe_demo import load_stripe_sample
from app.extensions import db
from app.members.demo import load_register_sample
from app.oversight.demo import load_oversight_sample
from app.reports.demo import load_reports_sample
from app.volunteers.demo import load_volunteer_sample
from tenants.context import UNSCOPED_BYPASS
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
    load_register_sample(by_slug["nanqi-lihua"], member_user_id=member_user.id)
    load_activity_sample(by_slug["nanqi-lihua"])
    load_volunteer_sample(by_slug["nanqi-lihua"], member_user_id=member_user.id)
    load_dues_sample(by_slug["nanqi-lihua"], member_user_id=member_user.id)
    load_stripe_sample(by_slug["nanqi-lihua"])
    load_dashboard_sample()
    load_oversight_sample(by_slug)
    load_assessment_sample(by_slug)
    load_reports_sample(by_slug)
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
