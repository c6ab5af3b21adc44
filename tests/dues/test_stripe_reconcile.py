# ruff: noqa: F811 - the fake_stripe fixture is imported, then requested by name
"""`flask dues reconcile`: the day's payment intents at (the fake) Stripe, per connected
account, against the local payments; differences listed, exit code 1."""

from datetime import date

import pytest
from sqlalchemy import select

from app.dues.models import Payment
from app.dues.reconcile import day_bounds
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tests.dues.stripe_fake import (
    checkout_completed,
    event_payload,
    fake_stripe,  # noqa: F401 - fixture
    post_event,
    set_up_dues,
    stripe_config,
)

ACCOUNT = "acct_village_a1"
DAY = date(2026, 3, 10)
NOON = day_bounds(DAY)[0] + 4 * 3600  # 12:00 in China


@pytest.fixture
def app_config(fake_stripe):
    return stripe_config(fake_stripe)


def pay_locally(client, dues, intent, *, amount=3000, created=NOON):
    payload = event_payload(
        f"evt_{intent}",
        "checkout.session.completed",
        checkout_completed(dues, intent, amount=amount),
        account=dues.account,
        created=created,
    )
    assert post_event(client, payload).status_code == 200


def metadata(dues):
    return {"association_id": str(dues.association_id), "charge_id": str(dues.charge_id)}


def stripe_payments() -> dict[str, Payment]:
    with UNSCOPED_BYPASS("test reads the ledger"):
        return {p.stripe_payment_intent_id: p for p in db.session.scalars(select(Payment))}


def run(app, *args):
    return app.test_cli_runner().invoke(args=["dues", "reconcile", *args])


def test_a_day_that_matches_reports_nothing_and_exits_0(app, world, client, fake_stripe):
    dues = set_up_dues(world.village_a1, account=ACCOUNT)
    pay_locally(client, dues, "pi_ok")
    fake_stripe.add_payment_intent(ACCOUNT, "pi_ok", 3000, NOON - 60, metadata=metadata(dues))
    # Another day's payment at Stripe is not this day's business.
    fake_stripe.add_payment_intent(ACCOUNT, "pi_other_day", 3000, NOON + 86400)

    result = run(app, "--date", "2026-03-10")

    assert result.exit_code == 0, result.output
    assert "1 connected account(s), 0 difference(s)" in result.output
    [listing] = fake_stripe.received("GET", "/v1/payment_intents")
    assert listing.headers["stripe-account"] == ACCOUNT
    assert listing.params["created[gte]"] == str(day_bounds(DAY)[0])
    assert listing.params["created[lt]"] == str(day_bounds(DAY)[1])


def test_differences_are_listed_and_exit_1(app, world, client, fake_stripe):
    first = set_up_dues(world.village_a1, account=ACCOUNT, member_name="甲")
    second = set_up_dues(world.village_a1, account=ACCOUNT, member_name="乙")
    third = set_up_dues(world.village_a1, account=ACCOUNT, member_name="丙")
    refunded = set_up_dues(world.village_a1, account=ACCOUNT, member_name="丁")
    pay_locally(client, first, "pi_ok")
    pay_locally(client, second, "pi_amount")
    pay_locally(client, third, "pi_local_only")
    pay_locally(client, refunded, "pi_refund")
    fake_stripe.add_payment_intent(ACCOUNT, "pi_ok", 3000, NOON)
    fake_stripe.add_payment_intent(ACCOUNT, "pi_amount", 2500, NOON)
    fake_stripe.add_payment_intent(
        ACCOUNT, "pi_refund", 3000, NOON, latest_charge={"id": "ch_1", "amount_refunded": 1000}
    )
    missing = set_up_dues(world.village_a1, account=ACCOUNT, member_name="戊")
    fake_stripe.add_payment_intent(ACCOUNT, "pi_missing", 3000, NOON, metadata=metadata(missing))

    result = run(app, "--date", "2026-03-10")

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any("missing locally\tpi_missing\tStripe ¥30.00\tlocal —" in line for line in lines), (
        result.output
    )
    assert any("missing at Stripe\tpi_local_only\tStripe —\tlocal ¥30.00" in line for line in lines)
    assert any("amount differs\tpi_amount\tStripe ¥25.00\tlocal ¥30.00" in line for line in lines)
    assert any("refund differs\tpi_refund\tStripe ¥10.00\tlocal ¥0.00" in line for line in lines)
    assert not any("pi_ok" in line for line in lines)
    assert "4 difference(s)" in result.output
    # The local-only payment was looked up by id before being declared missing.
    assert fake_stripe.received("GET", "/v1/payment_intents/pi_local_only")


def test_repair_records_a_payment_stripe_has_and_we_missed(app, world, fake_stripe):
    dues = set_up_dues(world.village_a1, account=ACCOUNT)
    fake_stripe.add_payment_intent(ACCOUNT, "pi_missed", 3000, NOON, metadata=metadata(dues))

    result = run(app, "--date", "2026-03-10", "--repair")

    assert "missing locally\tpi_missed" in result.output
    assert "repaired" in result.output
    assert result.exit_code == 0
    payment = stripe_payments()["pi_missed"]
    assert (payment.amount_fen, payment.paid_on, payment.member_id) == (3000, DAY, dues.member_id)
    assert payment.receipt_number
    # Repaired once: a second run finds nothing, a third repair adds nothing.
    assert run(app, "--date", "2026-03-10").exit_code == 0
    run(app, "--date", "2026-03-10", "--repair")
    assert len(stripe_payments()) == 1


def test_one_association_can_be_reconciled_alone(app, world, client, fake_stripe):
    set_up_dues(world.village_a1, account=ACCOUNT)
    other = set_up_dues(world.village_a2, account="acct_village_a2", member_name="会员乙")
    fake_stripe.add_payment_intent(ACCOUNT, "pi_a1", 3000, NOON)
    fake_stripe.add_payment_intent("acct_village_a2", "pi_a2", 3000, NOON, metadata=metadata(other))

    result = run(app, "--date", "2026-03-10", "--association", "village-a2")

    assert result.exit_code == 1
    assert "village-a2\tmissing locally\tpi_a2" in result.output
    assert "pi_a1" not in result.output
    assert {r.headers["stripe-account"] for r in fake_stripe.requests} == {"acct_village_a2"}


def test_many_intents_are_read_page_by_page(app, world, fake_stripe):
    set_up_dues(world.village_a1, account=ACCOUNT)
    for n in range(130):
        fake_stripe.add_payment_intent(ACCOUNT, f"pi_{n:03d}", 3000, NOON - n)

    result = run(app, "--date", "2026-03-10")

    assert "130 difference(s)" in result.output
    assert len(fake_stripe.received("GET", "/v1/payment_intents")) == 2


def test_stripe_unreachable_exits_2_with_a_message(app, world, fake_stripe):
    set_up_dues(world.village_a1, account=ACCOUNT)
    fake_stripe.fail_next = 401

    result = run(app, "--date", "2026-03-10")

    assert result.exit_code == 2
    assert "Stripe could not be asked" in result.output


def test_a_bad_date_or_unknown_association_is_refused(app, world, fake_stripe):
    assert run(app, "--date", "10/03/2026").exit_code == 2
    result = run(app, "--date", "2026-03-10", "--association", "nowhere")
    assert result.exit_code == 1
    assert "No association 'nowhere'" in result.output
