"""Demo register for the README's community: households linked to two central households and
members (some of them 五老 backbone members), the first of them the demo member's record."""

from datetime import date

from app.extensions import db
from app.members import services
from app.members.households import HouseholdInput, create_household, link_household, mark_central
from app.members.models import BACKBONE_TAGS
from tenants.context import scope_for, tenant_context
from tenants.models import Association

SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林罗高"
GIVEN_NAMES = ("秀英", "桂兰", "建国", "玉兰", "志强", "海燕", "卫东", "丽娟", "国庆", "春梅")


def load_register_sample(community: Association, *, member_user_id: int) -> None:
    with tenant_context(scope_for(community, writable=True)):
        households = [
            create_household(
                HouseholdInput(
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
            mark_central(central)
        for index, household in enumerate(households[2:12]):
            link_household(household, centrals[index % 2])
        for index in range(28):
            name = SURNAMES[index % len(SURNAMES)] + GIVEN_NAMES[index % len(GIVEN_NAMES)]
            services.create_member(
                services.MemberInput(
                    name="王芳" if index == 0 else name,
                    phone=f"1390551{index:04d}",
                    household_id=households[index % len(households)].id,
                    joined_on=date(2018 + index % 7, index % 12 + 1, 1),
                    tags=[BACKBONE_TAGS[index % 5]] if index % 3 == 0 else [],
                    user_id=member_user_id if index == 0 else None,
                )
            )
        db.session.flush()
