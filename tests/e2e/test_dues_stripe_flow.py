# ruff: noqa: F811 - the fake_stripe fixture is imported, then requested by name
"""On a phone: a member opens their dues, is sent to (a fake of) Stripe Checkout, the signed
webhook arrives, and the receipt appears in their dues."""

import pytest
import requests
from playwright.sync_api import expect

from tests import factories
from tests.dues.stripe_fake import (
    checkout_completed,
    event_payload,
    fake_stripe,  # noqa: F401 - fixture
    set_up_dues,
    sign,
    stripe_config,
)
from tests.e2e.helpers import e2e_login, screenshot

ACCOUNT = "acct_village_a1"


@pytest.fixture
def app_config(fake_stripe):
    return stripe_config(fake_stripe)


def test_member_pays_online_and_the_receipt_appears_after_the_webhook(
    live_server, page, fake_stripe
):
    world = factories.build_world()
    dues = set_up_dues(world.village_a1, world.member_a1, account=ACCOUNT)

    e2e_login(page, live_server, world.member_a1.login)
    page.goto(f"{live_server.url}/a/village-a1/dues/my")
    expect(page.get_by_test_id("open-2026")).to_contain_text("30.00")
    screenshot(page, "dues-stripe-my-dues")
    page.get_by_test_id("pay-online-2026").click()

    # The app sends the member on to Stripe's (here: the fake's) hosted Checkout.
    expect(page.get_by_test_id("fake-pay")).to_be_visible()
    assert page.url.startswith(f"{fake_stripe.url}/checkout/")
    expect(page.get_by_test_id("amount")).to_have_text("3000")
    session_id = page.url.rsplit("/", 1)[1]

    # Stripe calls the webhook (signed), then sends the member back to the success page.
    payload = event_payload(
        "evt_e2e",
        "checkout.session.completed",
        checkout_completed(dues, "pi_e2e", session_id=session_id),
        account=ACCOUNT,
    )
    answer = requests.post(
        f"{live_server.url}/stripe/webhook",
        data=payload.encode(),
        headers={"Stripe-Signature": sign(payload), "Content-Type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 200
    page.get_by_test_id("fake-pay").click()
    expect(page.get_by_test_id("stripe-message")).to_contain_text("缴费已入账")
    screenshot(page, "dues-stripe-paid")

    page.get_by_test_id("back-to-my-dues").click()
    expect(page.get_by_test_id("payment-list")).to_contain_text("2026-00001")
    expect(page.get_by_test_id("pay-online-2026")).to_have_count(0)
    screenshot(page, "dues-stripe-receipt")
