"""The public page (居务公开): no sign-in, only the published plan and what the secretary chose
to show, and nothing about any person of the register."""

import io
import re
from datetime import date

from sqlalchemy import select

from app.core import crypto
from app.core.clock import china_today
from app.extensions import db
from app.members.models import Member
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tests.dues.makers import YEAR as DUES_YEAR
from tests.dues.makers import create_payment
from tests.factories import create_activity, create_household, create_member, create_plan
from tests.uploads import samples

YEAR = china_today().year
ID_NUMBERS = ("11010519491231002X", "340104198803152316")


def _register(association):
    """A register with names, phones, ID numbers and addresses, all of which must stay off the
    public page."""
    household = create_household(association, address="幸福路88号3单元")
    create_member(
        association,
        "欧阳春花",
        phone="13912345678",
        id_number=ID_NUMBERS[0],
        household_id=household.id,
    )
    create_member(association, "司马秋月", phone="13800001111", id_number=ID_NUMBERS[1])
    return household


def _register_texts(association) -> list[str]:
    """Every name, phone (whole, masked and its last four digits), ID number (whole and masked)
    and address of the association's register, read back from the database."""
    from app.members.models import Household

    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        texts = []
        for member in db.session.scalars(
            select(Member).where(Member.association_id == association.id)
        ):
            texts += [member.name, member.phone_masked, member.id_number_masked]
            texts += [crypto.decrypt(member.phone_encrypted), member.phone_tail]
            texts.append(crypto.decrypt(member.id_number_encrypted))
        texts += db.session.scalars(
            select(Household.address).where(Household.association_id == association.id)
        ).all()
    return [text for text in texts if text]


def test_nothing_is_public_until_a_plan_is_published(world, make_client):
    anonymous = make_client()
    assert anonymous.get("/p/village-a1").status_code == 404
    create_plan(world.village_a1)  # a draft
    assert anonymous.get("/p/village-a1").status_code == 404
    assert anonymous.get("/p/no-such-association").status_code == 404
    assert anonymous.get("/p/Bad..Slug").status_code == 404


def test_the_public_page_shows_the_plan_and_nothing_personal(world, make_client):
    _register(world.village_a1)
    member_id = create_member(world.village_a1, "诸葛明亮", phone="13700002222").id
    create_activity(
        world.village_a1, title="5·29 会员活动日", held_on=date(YEAR, 5, 29), member_ids=[member_id]
    )
    plan = create_plan(
        world.village_a1,
        commitments=(("开展活动不少于4次", "activities", 4, 4), ("走访困难家庭", "manual", 10, 4)),
        published=True,
    )
    # A progress note may name a person: notes never reach the public page.
    secretary = make_client(world.secretary_a1.login)
    url = f"/a/village-a1/governance/commitments/{plan.commitments[1].id}/updates"
    note = {
        "noted_on": china_today().isoformat(),
        "note": "走访了欧阳春花家",
        "value": "3",
        "evidence": (io.BytesIO(samples.jpeg()), "欧阳春花家.jpg"),
    }
    assert secretary.post(url, note, content_type="multipart/form-data").status_code == 303
    create_plan(world.village_a2, commitments=(("乙村的承诺", "members", 5, 4),), published=True)

    response = make_client().get("/p/village-a1")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "开展活动不少于4次" in page and "走访困难家庭" in page
    assert "5·29 会员活动日" in page  # planned and held: titles and dates
    assert 'data-testid="commitment-2-value">3<' in page
    assert "乙村的承诺" not in page
    leaks = [text for text in _register_texts(world.village_a1) if text in page]
    assert leaks == [], leaks
    assert "走访了欧阳春花家" not in page and "欧阳春花家.jpg" not in page
    assert not re.search(r"\d{17}[\dXx]", page) and not re.search(r"1[3-9]\d{9}", page)
    assert "/files/" not in page  # neither the minutes nor any evidence


def test_dues_are_shown_in_total_only_and_each_part_only_when_chosen(world, make_client):
    create_activity(world.village_a1, title="健康讲座", held_on=date(YEAR, 3, 3))
    for amount in (3000, 1500):
        create_payment(world.village_a1, amount_fen=amount)
    create_plan(world.village_a1, year=DUES_YEAR, published=True)
    page = make_client().get(f"/p/village-a1?year={DUES_YEAR}").get_data(as_text=True)
    dues = re.search(r'data-testid="public-dues">(.*?)</p>', page, re.S).group(1)
    assert "45" in dues and "交款人" not in page and "缴费人" not in page
    assert "健康讲座" in page

    secretary = make_client(world.secretary_a1.login)
    hide = {"year": str(DUES_YEAR), "summary": ""}  # both boxes unticked
    assert secretary.post("/a/village-a1/governance/plan", hide).status_code == 303
    page = make_client().get(f"/p/village-a1?year={DUES_YEAR}").get_data(as_text=True)
    assert 'data-testid="public-dues"' not in page and "健康讲座" not in page


def test_hardship_aid_families_stay_off_the_public_page(world, make_client):
    activity = create_activity(world.village_a1, title="慰问困难家庭", type="hardship_visit")
    with tenant_context(scope_for(world.village_a1, writable=True)):
        from app.activities.models import AidKind, HardshipAid

        db.session.add(
            HardshipAid(activity_id=activity.id, family="上官家", kind=AidKind.RICE, quantity="1袋")
        )
        db.session.commit()
    create_plan(world.village_a1, published=True)
    page = make_client().get("/p/village-a1").get_data(as_text=True)
    assert "慰问困难家庭" in page and "上官家" not in page


def test_the_printable_notice_is_an_a4_pdf_of_the_published_plan(world, make_client):
    from tests.factories import create_survey

    create_survey(world.village_a1, codes=1)  # publishes the plan and opens the evaluation
    response = make_client().get("/p/village-a1/notice.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    body = response.get_data()
    assert body.startswith(b"%PDF") and b"/MediaBox [ 0 0 595.2756 841.8898 ]" in body  # A4
    assert body.count(b"/Subtype /Image") == 2  # QR codes: the page and the evaluation
    assert b"NotoSansSC" in body  # the CJK font is embedded
    create_plan(world.village_a2)  # a draft: no notice
    assert make_client().get("/p/village-a2/notice.pdf").status_code == 404
