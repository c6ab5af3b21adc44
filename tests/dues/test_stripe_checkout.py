# ruff: noqa: F811 - the fake_stripe fixture is imported, then requested by name
"""Connecting the association's Stripe account and paying a charge through Checkout: the real
stripe library talks to a local fake, and the tests check what the fake received."""

import pytest
from sqlalchemy import select

from app.dues.models import DuesSettings, Exemption, Payment
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tests.dues.stripe_fake import (
    fake_stripe,  # noqa: F401 - fixture
    set_up_dues,
    stripe_config,
)

ACCOUNT = "acct_village_a1"


@pytest.fixture
def app_config(fake_stripe):
    return stripe_config(fake_stripe)


def settings_of(association) -> DuesSettings:
    with UNSCOPED_BYPASS("test reads the settings"):
        return db.session.scalar(
            select(DuesSettings)
            .where(DuesSettings.association_id == association.id)
            .execution_options(populate_existing=True)
        )


def payments() -> list[Payment]:
    with UNSCOPED_BYPASS("test reads the ledger"):
        return list(db.session.scalars(select(Payment)))


# ---- connecting the association's account ------------------------------------------------------


def test_the_secretary_connects_a_standard_account_through_an_account_link(
    world, client_for, fake_stripe
):
    set_up_dues(world.village_a1, account=None)
    secretary = client_for(world.secretary_a1.login)

    assert 'data-testid="stripe-connect-link"' in secretary.get("/a/village-a1/dues/").text
    page = secretary.get("/a/village-a1/dues/stripe/")
    assert page.status_code == 200
    assert "Connect a Stripe account" in page.text

    response = secretary.post("/a/village-a1/dues/stripe/onboard")

    assert response.status_code == 200
    settings = settings_of(world.village_a1)
    assert settings.stripe_account_id.startswith("acct_fake")
    assert settings.stripe_charges_enabled is False
    [created] = fake_stripe.received("POST", "/v1/accounts")
    assert created.params["type"] == "standard"
    assert created.headers["idempotency-key"] == f"connect-account-{world.village_a1.id}"
    assert "stripe-account" not in created.headers  # created by the platform, for the association
    [link] = fake_stripe.received("POST", "/v1/account_links")
    assert link.params["account"] == settings.stripe_account_id
    assert link.params["type"] == "account_onboarding"
    assert link.params["return_url"].endswith("/a/village-a1/dues/stripe/?returned=1")
    assert link.headers["idempotency-key"]
    # The secretary is sent on to Stripe's onboarding.
    assert f"{fake_stripe.url}/onboarding/{settings.stripe_account_id}" in response.text

    # Pressing the button again makes a new link for the same account, not a second account.
    secretary.post("/a/village-a1/dues/stripe/onboard")
    assert len(fake_stripe.received("POST", "/v1/accounts")) == 1
    assert len(fake_stripe.received("POST", "/v1/account_links")) == 2


def test_coming_back_from_stripe_refreshes_charges_enabled_from_the_account(
    world, client_for, fake_stripe
):
    set_up_dues(world.village_a1, account=None)
    secretary = client_for(world.secretary_a1.login)
    secretary.post("/a/village-a1/dues/stripe/onboard")
    account_id = settings_of(world.village_a1).stripe_account_id

    back = secretary.get("/a/village-a1/dues/stripe/?returned=1")
    assert 'hx-trigger="load"' in back.text  # checks the status by itself on return
    fake_stripe.accounts[account_id]["charges_enabled"] = True
    response = secretary.post("/a/village-a1/dues/stripe/refresh")

    assert response.status_code == 303
    assert settings_of(world.village_a1).stripe_charges_enabled is True
    assert fake_stripe.received("GET", f"/v1/accounts/{account_id}")
    page = secretary.get("/a/village-a1/dues/stripe/")
    assert "members can now pay their dues online" in page.text


def test_connecting_needs_the_dues_set_up_and_stripe_configured(world, client_for, app):
    secretary = client_for(world.secretary_a1.login)
    response = secretary.post("/a/village-a1/dues/stripe/onboard")
    assert response.status_code == 303
    assert "Set the yearly dues first" in secretary.get(response.location).text

    app.config["STRIPE_SECRET_KEY"] = None
    set_up_dues(world.village_a1, account=None)
    response = secretary.post("/a/village-a1/dues/stripe/onboard")
    assert "Stripe is not configured on this platform." in secretary.get(response.location).text
    assert settings_of(world.village_a1).stripe_account_id is None


def test_stripe_refusing_the_onboarding_shows_a_message_not_an_error(
    world, client_for, fake_stripe
):
    set_up_dues(world.village_a1, account=None)
    fake_stripe.fail_next = 400
    secretary = client_for(world.secretary_a1.login)

    response = secretary.post("/a/village-a1/dues/stripe/onboard")

    assert response.status_code == 303
    assert (
        "Stripe could not be reached or refused the request"
        in secretary.get(response.location).text
    )
    assert settings_of(world.village_a1).stripe_account_id is None


# ---- paying a charge ---------------------------------------------------------------------------


def test_the_checkout_session_is_created_on_the_connected_account_with_an_idempotency_key(
    world, client_for, fake_stripe
):
    dues = set_up_dues(world.village_a1, world.member_a1, account=ACCOUNT)
    member = client_for(world.member_a1.login)

    page = member.get("/a/village-a1/dues/my")
    assert 'data-testid="pay-online-2026"' in page.text
    response = member.post(f"/a/village-a1/dues/stripe/charges/{dues.charge_id}/pay")

    assert response.status_code == 200
    [sent] = fake_stripe.received("POST", "/v1/checkout/sessions")
    assert sent.headers["stripe-account"] == ACCOUNT  # a direct charge on the association
    key = f"dues-checkout-{world.village_a1.id}-{dues.charge_id}-3000-en"
    assert sent.headers["idempotency-key"] == key
    assert sent.params["mode"] == "payment"
    assert sent.params["line_items[0][price_data][currency]"] == "cny"
    assert sent.params["line_items[0][price_data][unit_amount]"] == "3000"
    assert sent.params["metadata[association_id]"] == str(world.village_a1.id)
    assert sent.params["metadata[charge_id]"] == str(dues.charge_id)
    assert sent.params["payment_intent_data[metadata][charge_id]"] == str(dues.charge_id)
    assert sent.params["success_url"].endswith(f"/charges/{dues.charge_id}/paid")
    assert sent.params["cancel_url"].endswith(f"/charges/{dues.charge_id}/cancelled")
    assert f"{fake_stripe.url}/checkout/cs_test_fake" in response.text
    assert payments() == []  # nothing is recorded before Stripe's webhook

    # A second tap sends the same key, so Stripe hands back the same session.
    member.post(f"/a/village-a1/dues/stripe/charges/{dues.charge_id}/pay")
    keys = [
        r.headers["idempotency-key"] for r in fake_stripe.received("POST", "/v1/checkout/sessions")
    ]
    assert keys == [key, key]


def test_a_partly_paid_charge_is_paid_online_for_what_is_still_open(world, client_for, fake_stripe):
    from app.dues import services
    from app.dues.models import PaymentMethod
    from app.dues.payments import PaymentInput, record_offline_payment

    dues = set_up_dues(world.village_a1, world.member_a1, account=ACCOUNT)
    with tenant_context(scope_for(world.village_a1, writable=True)):
        charge = services.load_charge(dues.charge_id)
        record_offline_payment(
            charge,
            PaymentInput(
                paid_on=services.today(),
                amount_fen=1000,
                method=PaymentMethod.CASH,
                payer_name="会员甲",
            ),
            recorded_by_id=world.secretary_a1.id,
        )
        db.session.commit()

    client_for(world.member_a1.login).post(
        f"/a/village-a1/dues/stripe/charges/{dues.charge_id}/pay"
    )

    [sent] = fake_stripe.received("POST", "/v1/checkout/sessions")
    assert sent.params["line_items[0][price_data][unit_amount]"] == "2000"
    assert sent.headers["idempotency-key"].endswith(f"-{dues.charge_id}-2000-en")


def test_a_member_cannot_pay_another_members_charge(world, client_for, fake_stripe):
    set_up_dues(world.village_a1, world.member_a1, account=ACCOUNT)
    someone_else = set_up_dues(world.village_a1, account=ACCOUNT, member_name="会员乙")
    member = client_for(world.member_a1.login)

    for url in (
        f"/a/village-a1/dues/stripe/charges/{someone_else.charge_id}/pay",
        f"/a/village-a1/dues/stripe/charges/{someone_else.charge_id}/paid",
        f"/a/village-a1/dues/stripe/charges/{someone_else.charge_id}/cancelled",
    ):
        call = member.post if url.endswith("/pay") else member.get
        assert call(url).status_code == 404, url
    assert fake_stripe.requests == []


def test_a_charge_of_another_association_answers_404(world, client_for, fake_stripe):
    set_up_dues(world.village_a1, world.member_a1, account=ACCOUNT)
    other = set_up_dues(world.village_a2, account="acct_village_a2", member_name="会员乙")
    response = client_for(world.member_a1.login).post(
        f"/a/village-a1/dues/stripe/charges/{other.charge_id}/pay"
    )
    assert response.status_code == 404
    assert fake_stripe.requests == []


@pytest.mark.parametrize(
    ("account", "enabled", "keys", "reason"),
    [
        (None, False, True, "has not connected a Stripe account yet"),
        (ACCOUNT, False, True, "Stripe account is still being set up"),
        (ACCOUNT, True, False, "Online payment is not available on this platform yet"),
    ],
    ids=["no-account", "not-enabled", "no-keys"],
)
def test_no_pay_button_without_a_working_connected_account_and_the_page_says_why(
    world, client_for, fake_stripe, app, account, enabled, keys, reason
):
    if not keys:
        app.config["STRIPE_SECRET_KEY"] = None
    dues = set_up_dues(world.village_a1, world.member_a1, account=account, charges_enabled=enabled)
    member = client_for(world.member_a1.login)

    page = member.get("/a/village-a1/dues/my")

    assert page.status_code == 200
    assert "pay-online-2026" not in page.text
    assert reason in page.text
    # Posting anyway is refused with the same reason, and Stripe is never called.
    response = member.post(f"/a/village-a1/dues/stripe/charges/{dues.charge_id}/pay")
    assert response.status_code == 409
    assert reason in response.text
    assert fake_stripe.requests == []


def test_the_reason_is_translated_for_chinese_readers(world, make_client):
    set_up_dues(world.village_a1, world.member_a1, account=None)
    page = make_client(world.member_a1.login).get("/a/village-a1/dues/my")
    assert "尚未连接 Stripe 账户" in page.text


def test_an_exempt_or_paid_charge_cannot_be_paid_online(world, client_for, fake_stripe):
    dues = set_up_dues(world.village_a1, world.member_a1, account=ACCOUNT)
    with tenant_context(scope_for(world.village_a1, writable=True)):
        db.session.add(Exemption(member_id=dues.member_id, year=2026, reason="困难"))
        db.session.commit()

    response = client_for(world.member_a1.login).post(
        f"/a/village-a1/dues/stripe/charges/{dues.charge_id}/pay"
    )

    assert response.status_code == 409
    assert "You are exempt from this year" in response.text
    assert fake_stripe.requests == []


def test_stripe_being_down_shows_a_message_and_records_nothing(world, client_for, fake_stripe):
    dues = set_up_dues(world.village_a1, world.member_a1, account=ACCOUNT)
    fake_stripe.fail_next = 400

    response = client_for(world.member_a1.login).post(
        f"/a/village-a1/dues/stripe/charges/{dues.charge_id}/pay"
    )

    assert response.status_code == 503
    assert "Stripe could not be reached or refused the request" in response.text
    assert payments() == []


def test_the_success_page_records_nothing_and_says_the_payment_is_being_confirmed(
    world, client_for
):
    dues = set_up_dues(world.village_a1, world.member_a1, account=ACCOUNT)
    member = client_for(world.member_a1.login)

    page = member.get(f"/a/village-a1/dues/stripe/charges/{dues.charge_id}/paid")

    assert page.status_code == 200
    assert "Your payment is being confirmed by Stripe" in page.text
    assert payments() == []
    cancelled = member.get(f"/a/village-a1/dues/stripe/charges/{dues.charge_id}/cancelled")
    assert "nothing was charged" in cancelled.text


def test_the_members_dues_page_says_how_to_pay_the_secretary_once(world, make_client):
    set_up_dues(world.village_a1, world.member_a1, account=None)
    page = make_client(world.member_a1.login).get("/a/village-a1/dues/my").text
    assert "尚未连接 Stripe 账户" in page
    assert 'data-testid="pay-offline-too"' not in page


def test_with_online_payment_the_page_offers_the_secretary_as_well(world, make_client):
    set_up_dues(world.village_a1, world.member_a1, account=ACCOUNT, charges_enabled=True)
    page = make_client(world.member_a1.login).get("/a/village-a1/dues/my").text
    assert 'data-testid="pay-online-2026"' in page
    assert 'data-testid="pay-offline-too"' in page
