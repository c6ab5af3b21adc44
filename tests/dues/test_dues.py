"""Dues without Stripe: plans and charges, exemptions, offline payments and voids, central-
household collection, receipts, arrears and their export, reminders, collection rates and the
member's own page."""

import io
import threading
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.core.audit import AuditLog
from app.core.clock import china_today
from app.dues import reminders, services
from app.dues.central_collection import (
    CollectionShare,
    central_household_figures,
    record_collection,
)
from app.dues.figures import collection_figures
from app.dues.models import (
    Charge,
    ChargeStatus,
    CollectionBatch,
    JoinRule,
    Payment,
    PaymentMethod,
    ReceiptSequence,
)
from app.dues.payments import PaymentInput, load_payment, record_offline_payment, void_payment
from app.extensions import db
from app.members import households
from app.members.models import Household, MemberStatus
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tenants.models import Role
from tests.dues.makers import YEAR, create_charge, create_exemption, create_payment, create_plan
from tests.factories import create_household, create_member, create_user


def url(association, path: str) -> str:
    return f"/a/{association.slug}/dues{path}"


def charges(association, year: int = YEAR) -> dict[int, Charge]:
    """{member id: charge}, read fresh in the association's scope."""
    with tenant_context(scope_for(association, writable=False)):
        rows = db.session.scalars(
            select(Charge).where(Charge.year == year).execution_options(populate_existing=True)
        ).all()
        for row in rows:
            db.session.expunge(row)
    return {row.member_id: row for row in rows}


def payments(association) -> list[Payment]:
    with tenant_context(scope_for(association, writable=False)):
        rows = db.session.scalars(
            select(Payment).order_by(Payment.id).execution_options(populate_existing=True)
        ).all()
        for row in rows:
            db.session.expunge(row)
    return list(rows)


def pay_form(charge, **overrides) -> dict:
    data = {
        "charge_id": str(charge.id),
        "amount": "10",
        "paid_on": f"{YEAR}-03-01",
        "method": "cash",
        "payer_name": "张三",
        "note": "",
    }
    data.update(overrides)
    return data


# --- plans and charges -----------------------------------------------------------------------


def test_secretary_sets_the_plan_and_it_becomes_next_years_default(world, client_for):
    client = client_for(world.secretary_a1.login)
    form = {"year": str(YEAR), "amount": "30", "due_on": f"{YEAR}-06-30", "join_rule": "pro_rata"}
    assert client.post(url(world.village_a1, "/plan"), form).status_code == 303
    page = client.get(url(world.village_a1, f"/?year={YEAR}")).get_data(True)
    assert "¥30.00" in page and "Pro-rated by the months left in the year" in page
    with tenant_context(scope_for(world.village_a1, writable=False)):
        plan = services.plan_for(YEAR)
        assert (plan.amount_fen, plan.due_on, plan.join_rule) == (
            3000,
            date(YEAR, 6, 30),
            JoinRule.PRO_RATA,
        )
        settings = services.current_settings()
        assert (settings.amount_fen, settings.due_month, settings.due_day) == (3000, 6, 30)
    next_year = client.get(url(world.village_a1, f"/plan?year={YEAR + 1}")).get_data(True)
    assert 'value="30.00"' in next_year and f"{YEAR + 1}-06-30" in next_year


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "The amount must be more than zero."),
        ("-5", "The amount must be more than zero."),
        ("abc", "Enter an amount in yuan, e.g. 30 or 12.50."),
        ("1.234", "Enter an amount in yuan, e.g. 30 or 12.50."),
    ],
)
def test_a_plan_with_a_bad_amount_is_refused(world, client_for, amount, message):
    client = client_for(world.secretary_a1.login)
    form = {"year": str(YEAR), "amount": amount, "due_on": f"{YEAR}-06-30", "join_rule": "full"}
    response = client.post(url(world.village_a1, "/plan"), form)
    assert response.status_code == 422
    assert message in response.get_data(True)
    with tenant_context(scope_for(world.village_a1, writable=False)):
        assert services.plan_for(YEAR) is None


def test_the_due_date_must_fall_in_the_plans_year(world, client_for):
    form = {"year": str(YEAR), "amount": "30", "due_on": f"{YEAR + 1}-01-31", "join_rule": "full"}
    response = client_for(world.secretary_a1.login).post(url(world.village_a1, "/plan"), form)
    assert response.status_code == 422
    assert "The due date must fall in the plan&#39;s year." in response.get_data(True)


def test_generating_charges_twice_creates_nothing_new(world, client_for):
    create_plan(world.village_a1, amount_fen=3000)
    active = [create_member(world.village_a1, name).id for name in ("甲", "乙", "丙")]
    create_member(world.village_a1, "离开", status=MemberStatus.LEFT)
    client = client_for(world.secretary_a1.login)
    first = client.post(url(world.village_a1, "/generate"), {"year": str(YEAR)})
    assert first.status_code == 303
    assert set(charges(world.village_a1)) == set(active)
    again = client.post(
        url(world.village_a1, "/generate"), {"year": str(YEAR)}, follow_redirects=True
    )
    assert f"Every active member already has a charge for {YEAR}." in again.get_data(True)
    assert len(charges(world.village_a1)) == 3
    # A member who joins later gets one on the next run, and only they do.
    late = create_member(world.village_a1, "新会员", joined_on=date(YEAR, 2, 1)).id
    client.post(url(world.village_a1, "/generate"), {"year": str(YEAR)})
    assert set(charges(world.village_a1)) == set(active) | {late}


def test_generating_without_a_plan_says_so(world, client_for):
    response = client_for(world.secretary_a1.login).post(
        url(world.village_a1, "/generate"), {"year": str(YEAR)}
    )
    assert response.status_code == 422
    assert "Set the dues plan for the year first." in response.get_data(True)


def test_pro_rata_charges_members_who_join_mid_year_for_the_months_left(world):
    create_plan(world.village_a1, amount_fen=3000, join_rule=JoinRule.PRO_RATA)
    old = create_member(world.village_a1, "老会员", joined_on=date(YEAR - 3, 5, 1)).id
    july = create_member(world.village_a1, "七月", joined_on=date(YEAR, 7, 15)).id
    december = create_member(world.village_a1, "十二月", joined_on=date(YEAR, 12, 31)).id
    next_year = create_member(world.village_a1, "明年", joined_on=date(YEAR + 1, 1, 2)).id
    with tenant_context(scope_for(world.village_a1, writable=True)):
        assert services.generate_charges(services.plan_for(YEAR)) == 3
        db.session.commit()
    amounts = {m: c.amount_due_fen for m, c in charges(world.village_a1).items()}
    # July to December: 6 of 12 months; December alone: 1 month (¥2.50).
    assert amounts == {old: 3000, july: 1500, december: 250}
    assert next_year not in amounts


def test_full_rule_charges_the_whole_amount_whenever_members_join(world):
    create_plan(world.village_a1, amount_fen=3000, join_rule=JoinRule.FULL)
    july = create_member(world.village_a1, "七月", joined_on=date(YEAR, 7, 15)).id
    with tenant_context(scope_for(world.village_a1, writable=True)):
        services.generate_charges(services.plan_for(YEAR))
        db.session.commit()
    assert charges(world.village_a1)[july].amount_due_fen == 3000


def test_the_amount_cannot_change_once_charges_exist(world, client_for):
    create_charge(world.village_a1)
    form = {"year": str(YEAR), "amount": "50", "due_on": f"{YEAR}-09-30", "join_rule": "full"}
    response = client_for(world.secretary_a1.login).post(url(world.village_a1, "/plan"), form)
    assert response.status_code == 422
    assert "the amount can no longer change" in response.get_data(True)


# --- exemptions ------------------------------------------------------------------------------


def test_an_exempt_member_owes_nothing_and_cannot_be_charged_a_payment(world, client_for):
    charge = create_charge(world.village_a1)
    client = client_for(world.secretary_a1.login)
    response = client.post(
        url(world.village_a1, f"/members/{charge.member_id}/exemptions"),
        {"year": str(YEAR), "reason": "困难家庭"},
    )
    assert response.status_code == 303
    assert charges(world.village_a1)[charge.member_id].status == ChargeStatus.EXEMPT
    page = client.get(url(world.village_a1, f"/members/{charge.member_id}")).get_data(True)
    assert "困难家庭" in page and "Exempt" in page
    refused = client.post(
        url(world.village_a1, f"/members/{charge.member_id}/payments"), pay_form(charge)
    )
    assert refused.status_code == 422
    assert payments(world.village_a1) == []


def test_an_exemption_needs_a_reason(world, client_for):
    charge = create_charge(world.village_a1)
    response = client_for(world.secretary_a1.login).post(
        url(world.village_a1, f"/members/{charge.member_id}/exemptions"),
        {"year": str(YEAR), "reason": "  "},
    )
    assert response.status_code == 422
    assert "Give the reason for the exemption." in response.get_data(True)


# --- offline payments and voids --------------------------------------------------------------


def test_partial_payments_add_up_and_each_gets_its_own_receipt(world, client_for):
    charge = create_charge(world.village_a1)
    client = client_for(world.secretary_a1.login)
    member_url = url(world.village_a1, f"/members/{charge.member_id}/payments")
    first = client.post(member_url, pay_form(charge, amount="12.50"), follow_redirects=True)
    assert f"Payment recorded: receipt {YEAR}-00001." in first.get_data(True)
    assert charges(world.village_a1)[charge.member_id].status == ChargeStatus.PARTLY_PAID
    client.post(member_url, pay_form(charge, amount="17.50", method="bank_transfer"))
    after = charges(world.village_a1)[charge.member_id]
    assert (after.paid_fen, after.status) == (3000, ChargeStatus.PAID)
    assert [p.receipt_number for p in payments(world.village_a1)] == [
        f"{YEAR}-00001",
        f"{YEAR}-00002",
    ]
    assert [p.method for p in payments(world.village_a1)] == [
        PaymentMethod.CASH,
        PaymentMethod.BANK_TRANSFER,
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"amount": "30.01"}, "That is more than is still open for 2026 (¥30.00)."),
        ({"amount": "0"}, "The amount must be more than zero."),
        ({"amount": "-10"}, "The amount must be more than zero."),
        ({"amount": "ten"}, "Enter an amount in yuan, e.g. 30 or 12.50."),
        (
            {"paid_on": (china_today() + timedelta(days=3)).isoformat()},
            "The payment date cannot be in the future.",
        ),
        ({"paid_on": "2099-01-01"}, "Enter a date between 1900 and one year from today."),
        ({"payer_name": ""}, "Enter who paid."),
    ],
)
def test_bad_payments_are_refused_and_nothing_is_written(world, client_for, overrides, message):
    charge = create_charge(world.village_a1)
    response = client_for(world.secretary_a1.login).post(
        url(world.village_a1, f"/members/{charge.member_id}/payments"),
        pay_form(charge, **overrides),
    )
    assert response.status_code == 422
    assert message in response.get_data(True)
    assert payments(world.village_a1) == []


def test_a_paid_charge_takes_no_more_money(world, client_for):
    charge = create_charge(world.village_a1)
    create_payment(world.village_a1, amount_fen=3000, member_id=charge.member_id)
    with tenant_context(scope_for(world.village_a1, writable=True)):
        with pytest.raises(services.DuesInvalid) as refused:
            record_offline_payment(
                services.load_charge(charge.id),
                PaymentInput(date(YEAR, 3, 2), 100, PaymentMethod.CASH, "张三"),
                recorded_by_id=None,
            )
        db.session.rollback()
    with force_locale("en"):
        assert str(refused.value.problems["amount"]) == f"The dues for {YEAR} are paid already."
    # The page offers no form for a member with nothing open.
    page = client_for(world.secretary_a1.login).get(
        url(world.village_a1, f"/members/{charge.member_id}")
    )
    assert "Nothing is open: no payment to record." in page.get_data(True)


def test_a_void_keeps_the_payment_reopens_the_charge_and_is_audited(world, client_for):
    payment = create_payment(world.village_a1, amount_fen=3000)
    client = client_for(world.secretary_a1.login)
    void_url = url(world.village_a1, f"/payments/{payment.id}/void")
    missing = client.post(void_url, {"reason": ""})
    assert missing.status_code == 422
    assert "Give the reason for voiding the payment." in missing.get_data(True)
    assert client.post(void_url, {"reason": "重复录入"}).status_code == 303
    (kept,) = payments(world.village_a1)
    assert kept.voided_at is not None and kept.void_reason == "重复录入"
    assert charges(world.village_a1)[kept.member_id].status == ChargeStatus.OPEN
    with UNSCOPED_BYPASS("test reads the audit log"):
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "dues.payment_voided"))
    assert entry.target_id == payment.id and entry.detail["reason"] == "重复录入"
    assert entry.user_id == world.secretary_a1.id
    # A void of a void: refused, nothing changes.
    again = client.post(void_url, {"reason": "再次"})
    assert again.status_code == 422
    assert "This payment is already void." in again.get_data(True)
    assert payments(world.village_a1)[0].void_reason == "重复录入"


def test_receipt_numbers_stay_unique_under_concurrent_payments(app, world):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter; SQLite serialises writers")
    people = 6
    charge_ids = [create_charge(world.village_a1).id for _ in range(people)]
    association = world.village_a1
    barrier = threading.Barrier(people)
    errors = []

    def pay(charge_id):
        try:
            with app.app_context():
                with tenant_context(scope_for(association, writable=True)):
                    charge = services.load_charge(charge_id)
                    barrier.wait(timeout=30)
                    record_offline_payment(
                        charge,
                        PaymentInput(date(YEAR, 3, 1), 500, PaymentMethod.CASH, "某人"),
                        recorded_by_id=None,
                    )
                    db.session.commit()
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=pay, args=(charge_id,)) for charge_id in charge_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    numbers = sorted(p.receipt_number for p in payments(association))
    assert numbers == [f"{YEAR}-{n:05d}" for n in range(1, people + 1)]


# --- central households (中心户) ------------------------------------------------------------


@dataclass(frozen=True)
class CentralGroup:
    id: int


@pytest.fixture
def central_group(world):
    """A central household with one linked household; three members charged ¥30 each."""
    association = world.village_a1
    central_id = create_household(association, "中心户·王家", central=True).id
    linked_id = create_household(association, "联户·李家").id
    with tenant_context(scope_for(association, writable=True)):
        households.link_household(
            db.session.get(Household, linked_id), db.session.get(Household, central_id)
        )
        db.session.commit()
    ids = {
        "王大": create_member(association, "王大", household_id=central_id).id,
        "李二": create_member(association, "李二", household_id=linked_id).id,
        "李妻": create_member(association, "李妻", household_id=linked_id).id,
        "外人": create_member(association, "外人").id,
    }
    for member_id in ids.values():
        create_charge(association, member_id=member_id)
    by_member = charges(association)
    return CentralGroup(central_id), {name: by_member[i] for name, i in ids.items()}


def test_one_collection_gives_each_member_their_own_receipt(world, client_for, central_group):
    central, group = central_group
    client = client_for(world.secretary_a1.login)
    page = client.get(url(world.village_a1, f"/central/{central.id}?year={YEAR}")).get_data(True)
    assert "王大" in page and "李二" in page and "李妻" in page and "外人" not in page
    form = {
        "year": str(YEAR),
        "collected_on": f"{YEAR}-04-01",
        "collector_name": "王大",
        "method": "cash",
        f"amount-{group['王大'].id}": "30",
        f"amount-{group['李二'].id}": "30",
        f"amount-{group['李妻'].id}": "10",
    }
    response = client.post(url(world.village_a1, f"/central/{central.id}/collect"), form)
    assert response.status_code == 303
    recorded = payments(world.village_a1)
    assert len(recorded) == 3
    assert len({p.receipt_number for p in recorded}) == 3
    assert len({p.collection_batch_id for p in recorded}) == 1
    assert {p.collected_via_household_id for p in recorded} == {central.id}
    assert sorted(p.amount_fen for p in recorded) == [1000, 3000, 3000]
    summary = client.get(url(world.village_a1, f"/central?year={YEAR}")).get_data(True)
    # Due 3 × ¥30 = ¥90, collected ¥70, still open ¥20.
    assert "¥90.00" in summary and "¥70.00" in summary and "¥20.00" in summary
    with tenant_context(scope_for(world.village_a1, writable=False)):
        (row,) = central_household_figures(YEAR)
    assert (row.due_fen, row.collected_fen, row.open_fen, row.members) == (9000, 7000, 2000, 3)


def test_a_collection_with_one_bad_share_records_nothing(world, client_for, central_group):
    central, group = central_group
    form = {
        "year": str(YEAR),
        "collected_on": f"{YEAR}-04-01",
        "collector_name": "王大",
        "method": "cash",
        f"amount-{group['王大'].id}": "30",
        f"amount-{group['李二'].id}": "31",
    }
    response = client_for(world.secretary_a1.login).post(
        url(world.village_a1, f"/central/{central.id}/collect"), form
    )
    assert response.status_code == 422
    assert "李二: That is more than is still open" in response.get_data(True)
    assert payments(world.village_a1) == []


def test_a_refused_payment_or_collection_leaves_nothing_in_the_session(world, central_group):
    """The services check everything before they add anything, so a refusal leaves the
    session as it was: nothing pending, nothing flushed, no receipt number taken; the view has
    nothing to roll back."""
    central, group = central_group
    with tenant_context(scope_for(world.village_a1, writable=True)):
        with pytest.raises(services.DuesInvalid):
            record_offline_payment(
                services.load_charge(group["李二"].id),
                PaymentInput(date(YEAR, 4, 1), 3100, PaymentMethod.CASH, "李二"),
                recorded_by_id=None,
                on=date(YEAR, 5, 1),
            )
        with pytest.raises(services.DuesInvalid):
            record_collection(
                db.session.get(Household, central.id),
                year=YEAR,
                collected_on=date(YEAR, 4, 1),
                collector_name="王大",
                method=PaymentMethod.CASH,
                shares=[
                    CollectionShare(group["李妻"].id, 3000),
                    CollectionShare(group["李二"].id, 3100),
                ],
                recorded_by_id=None,
                on=date(YEAR, 5, 1),
            )
        assert not db.session.new and not db.session.dirty and not db.session.deleted
        assert db.session.scalar(select(func.count(CollectionBatch.id))) == 0
        assert db.session.scalar(select(func.count(Payment.id))) == 0
        assert db.session.scalar(select(ReceiptSequence.last_number)) is None
        db.session.commit()
    assert payments(world.village_a1) == []


def test_a_collection_cannot_pay_a_charge_outside_the_group(world, client_for, central_group):
    central, group = central_group
    form = {
        "year": str(YEAR),
        "collected_on": f"{YEAR}-04-01",
        "collector_name": "王大",
        "method": "cash",
        f"amount-{group['外人'].id}": "30",
    }
    response = client_for(world.secretary_a1.login).post(
        url(world.village_a1, f"/central/{central.id}/collect"), form
    )
    assert response.status_code == 422
    assert payments(world.village_a1) == []


# --- receipts --------------------------------------------------------------------------------


def test_the_receipt_is_a_pdf_with_an_embedded_chinese_font(world, client_for):
    payment = create_payment(world.village_a1, amount_fen=2550)
    response = client_for(world.secretary_a1.login).get(
        url(world.village_a1, f"/payments/{payment.id}/receipt.pdf")
    )
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    body = response.get_data()
    assert body.startswith(b"%PDF") and b"FontFile2" in body and b"NotoSansSC" in body


def test_amounts_in_words_on_receipts():
    from app.core.money import amount_in_words

    assert amount_in_words(3050) == "叁拾元伍角"
    assert amount_in_words(10000) == "壹佰元整"
    assert amount_in_words(100500) == "壹仟零伍元整"
    assert amount_in_words(1000005) == "壹万元零伍分"
    assert amount_in_words(5) == "伍分"


def test_a_member_downloads_their_own_receipt_and_no_one_elses(world, make_client):
    user = create_user("payer@test.cn", "缴费会员", roles=[(world.village_a1, Role.MEMBER)])
    own_member_id = create_member(world.village_a1, "缴费会员", user_id=user.id).id
    own = create_payment(world.village_a1, member_id=own_member_id)
    other = create_payment(world.village_a1)
    client = make_client(user.login)
    assert client.get(url(world.village_a1, f"/payments/{own.id}/receipt.pdf")).status_code == 200
    assert client.get(url(world.village_a1, f"/payments/{other.id}/receipt.pdf")).status_code == 404
    page = client.get(url(world.village_a1, "/my")).get_data(True)
    assert own.receipt_number in page and other.receipt_number not in page


# --- arrears and export ----------------------------------------------------------------------


def test_arrears_list_who_still_owes_and_filter_by_central_household(
    world, client_for, central_group
):
    central, group = central_group
    with tenant_context(scope_for(world.village_a1, writable=True)):
        record_offline_payment(
            services.load_charge(group["王大"].id),
            PaymentInput(date(YEAR, 3, 1), 3000, PaymentMethod.CASH, "王大"),
            recorded_by_id=None,
        )
        db.session.commit()
    exempt = create_exemption(world.village_a1)
    create_charge(world.village_a1, member_id=exempt.member_id)
    client = client_for(world.secretary_a1.login)
    page = client.get(url(world.village_a1, f"/arrears?year={YEAR}")).get_data(True)
    assert "李二" in page and "李妻" in page and "外人" in page
    assert "王大" not in page.split('data-testid="arrears"')[1]
    assert "免缴" not in page
    filtered = client.get(url(world.village_a1, f"/arrears?year={YEAR}&central={central.id}"))
    text = filtered.get_data(True).split('data-testid="arrears"')[1]
    assert "李二" in text and "外人" not in text


def test_the_arrears_export_has_chinese_headers_and_is_audited(world, make_client, central_group):
    central, group = central_group
    client = make_client(world.secretary_a1.login)  # the default language: Chinese
    response = client.get(url(world.village_a1, f"/arrears.xlsx?year={YEAR}"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.values)
    assert rows[0] == ("姓名", "住址", "年度", "应缴(元)", "已缴(元)", "未缴(元)", "状态")
    assert {row[0] for row in rows[1:]} == {"王大", "李二", "李妻", "外人"}
    assert all(row[5] == 30 for row in rows[1:])
    with UNSCOPED_BYPASS("test reads the audit log"):
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "export"))
    assert entry.detail["what"] == "dues_arrears" and entry.user_id == world.secretary_a1.id


# --- collection figures ----------------------------------------------------------------------


def test_collection_rate_leaves_exemptions_out_of_what_is_due(world, client_for):
    paid = create_charge(world.village_a1)
    create_payment(world.village_a1, amount_fen=3000, member_id=paid.member_id)
    half = create_charge(world.village_a1)
    create_payment(world.village_a1, amount_fen=1500, member_id=half.member_id)
    create_charge(world.village_a1)  # nothing paid
    exempt = create_exemption(world.village_a1)
    create_charge(world.village_a1, member_id=exempt.member_id)
    voided = create_payment(world.village_a1, amount_fen=3000)
    with tenant_context(scope_for(world.village_a1, writable=True)):
        void_payment(load_payment(voided.id), reason="错", voided_by_id=None)
        db.session.commit()
        figures = collection_figures(YEAR)
    # Due: 4 charges × ¥30 (the exempt one left out); paid ¥45.
    assert (figures.due_fen, figures.paid_fen, figures.exempt_count) == (12000, 4500, 1)
    assert figures.rate == pytest.approx(0.375)
    page = client_for(world.secretary_a1.login).get(url(world.village_a1, f"/?year={YEAR}"))
    assert "37.5%" in page.get_data(True)


# --- reminders -------------------------------------------------------------------------------


def test_reminders_go_once_per_stage_and_never_to_paid_or_exempt_members(world, outbox):
    create_plan(world.village_a1, due_on=date(YEAR, 6, 30))

    def member_with_login(name, login):
        user = create_user(login, name, roles=[(world.village_a1, Role.MEMBER)])
        member_id = create_member(world.village_a1, name, user_id=user.id).id
        return create_charge(world.village_a1, member_id=member_id)

    member_with_login("欠费", "owing@test.cn")
    paid = member_with_login("已缴", "paid@test.cn")
    create_payment(world.village_a1, amount_fen=3000, member_id=paid.member_id)
    exempt_charge = member_with_login("免缴", "exempt@test.cn")
    with tenant_context(scope_for(world.village_a1, writable=True)):
        from app.members.models import Member

        services.exempt(
            db.session.get(Member, exempt_charge.member_id),
            year=YEAR,
            reason="困难",
            created_by_id=None,
        )
        db.session.commit()

    assert reminders.send_dues_reminders(on=date(YEAR, 5, 1)) == 0  # too early
    assert reminders.send_dues_reminders(on=date(YEAR, 6, 20)) == 1
    assert reminders.send_dues_reminders(on=date(YEAR, 6, 21)) == 0  # sent already
    assert [m.to for m in outbox] == ["owing@test.cn"]
    assert f"/a/{world.village_a1.slug}/dues/my" in outbox[0].body
    assert "2026-06-30" in outbox[0].body
    assert reminders.send_dues_reminders(on=date(YEAR, 7, 5)) == 1  # overdue, once
    assert reminders.send_dues_reminders(on=date(YEAR, 7, 6)) == 0
    assert [m.to for m in outbox] == ["owing@test.cn", "owing@test.cn"]


def test_the_reminder_job_is_scheduled_and_runs_by_name(app):
    from app.core.jobs import PERIODIC

    assert PERIODIC["send_dues_reminders"] is reminders.send_dues_reminders


# --- the member's own page -------------------------------------------------------------------


def test_a_member_sees_what_they_owe_and_why_there_is_no_online_payment(world, client_for):
    user = create_user("own@test.cn", "自己", roles=[(world.village_a1, Role.MEMBER)])
    member_id = create_member(world.village_a1, "自己", user_id=user.id).id
    create_charge(world.village_a1, member_id=member_id)
    create_payment(world.village_a1, amount_fen=1000, member_id=member_id)
    client = client_for(user.login)
    page = client.get(url(world.village_a1, "/my")).get_data(True)
    assert "¥20.00" in page and f"{YEAR}-00001" in page
    # Online payment is the Stripe integration's (templates/dues/_pay_online.html): without a
    # connected account the page says why instead of offering a button.
    assert 'data-testid="online-payment-unavailable"' in page
    # The dues page of the association sends members to their own.
    redirect = client.get(url(world.village_a1, "/"))
    assert redirect.status_code == 303 and redirect.location.endswith("/dues/my")


def test_a_member_without_a_member_record_is_told_so(world, client_for):
    page = client_for(world.member_a1.login).get(url(world.village_a1, "/my")).get_data(True)
    assert "not linked to a member record" in page


# --- lists keep a fixed number of queries ----------------------------------------------------


@pytest.mark.parametrize("path", ["/payments?year=2026", "/arrears?year=2026"])
def test_dues_lists_take_the_same_number_of_queries_whatever_their_length(
    world, make_client, count_queries, path
):
    client = make_client(world.secretary_a1.login)
    for _ in range(2):
        create_payment(world.village_a1, amount_fen=1000)
    client.get(url(world.village_a1, path))
    with count_queries() as few:
        assert client.get(url(world.village_a1, path)).status_code == 200
    for _ in range(8):
        create_payment(world.village_a1, amount_fen=1000)
    client.get(url(world.village_a1, path))
    with count_queries() as many:
        assert client.get(url(world.village_a1, path)).status_code == 200
    assert len(many) == len(few)
