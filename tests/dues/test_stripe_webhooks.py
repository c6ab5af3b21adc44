# ruff: noqa: F811 - the fake_stripe fixture is imported, then requested by name
"""The Stripe webhook: signatures checked on the raw body, every event id stored once, and
processing that is idempotent and order-independent (refunds before completions, disputes,
duplicate completions), always under the tenant of the connected account."""

import random
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core.clock import utcnow
from app.dues.models import Charge, DuesSettings, Payment, PaymentAllocation
from app.dues.stripe_events import StripeEvent
from app.dues.webhooks import process_pending_stripe_events
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tests.dues.stripe_fake import (
    charge_refunded,
    checkout_completed,
    dispute,
    event_payload,
    fake_stripe,  # noqa: F401 - fixture
    payment_intent_succeeded,
    post_event,
    set_up_dues,
    sign,
    stripe_config,
)
from tests.factories import reload

ACCOUNT = "acct_village_a1"


@pytest.fixture
def app_config(fake_stripe):
    return stripe_config(fake_stripe)


@pytest.fixture
def dues(world):
    return set_up_dues(world.village_a1, world.member_a1, account=ACCOUNT)


def payments() -> list[Payment]:
    with UNSCOPED_BYPASS("test reads the ledger"):
        return list(
            db.session.scalars(
                select(Payment).order_by(Payment.id).execution_options(populate_existing=True)
            )
        )


def stored_events() -> dict[str, StripeEvent]:
    rows = db.session.scalars(select(StripeEvent).execution_options(populate_existing=True))
    return {row.id: row for row in rows}


def open_fen(charge_id: int) -> int:
    return reload(Charge, charge_id).open_fen


def send(client, event_id, event_type, obj, *, account=ACCOUNT, created=None):
    payload = event_payload(event_id, event_type, obj, account=account, created=created)
    return post_event(client, payload)


# ---- signatures --------------------------------------------------------------------------------


def test_a_validly_signed_completion_records_one_payment_with_a_receipt(client, dues):
    response = send(client, "evt_1", "checkout.session.completed", checkout_completed(dues, "pi_1"))

    assert response.status_code == 200
    [payment] = payments()
    assert payment.method == "stripe"
    assert payment.amount_fen == 3000
    assert payment.stripe_payment_intent_id == "pi_1"
    assert payment.stripe_checkout_session_id == "cs_pi_1"
    assert payment.member_id == dues.member_id
    assert payment.receipt_number
    with UNSCOPED_BYPASS("test reads the ledger"):
        allocation = db.session.scalar(select(PaymentAllocation))
    assert (allocation.charge_id, allocation.amount_fen) == (dues.charge_id, 3000)
    assert open_fen(dues.charge_id) == 0
    event = stored_events()["evt_1"]
    assert (event.outcome, event.error, event.account) == ("applied", None, ACCOUNT)
    assert event.processed_at is not None


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "t=12345,v1=deadbeef",
        sign("{}"),  # a valid signature of another body
        "garbage",
    ],
    ids=["missing", "empty", "wrong", "other-body", "garbage"],
)
def test_a_bad_or_missing_signature_is_refused_and_nothing_is_stored(
    client, dues, signature, caplog
):
    payload = event_payload(
        "evt_bad", "checkout.session.completed", checkout_completed(dues, "pi_1"), account=ACCOUNT
    )
    response = post_event(client, payload, signature=signature)

    assert response.status_code == 400
    assert stored_events() == {}
    assert payments() == []
    assert "stripe webhook refused" in caplog.text


def test_a_signature_made_with_another_secret_is_refused(client, dues):
    payload = event_payload(
        "evt_x", "checkout.session.completed", checkout_completed(dues, "pi_1"), account=ACCOUNT
    )
    response = post_event(client, payload, signature=sign(payload, secret="whsec_someone_else"))
    assert response.status_code == 400
    assert stored_events() == {}


def test_an_old_timestamp_is_refused_even_with_a_valid_signature(client, dues):
    payload = event_payload(
        "evt_old", "checkout.session.completed", checkout_completed(dues, "pi_1"), account=ACCOUNT
    )
    ten_minutes_ago = int(time.time()) - 600
    response = post_event(client, payload, signature=sign(payload, timestamp=ten_minutes_ago))

    assert response.status_code == 400
    assert stored_events() == {}
    assert payments() == []


def test_the_webhook_needs_no_csrf_token_and_no_login(client, dues):
    # The plain client sends neither a session nor a CSRF token: the signature is the guard.
    response = send(client, "evt_1", "checkout.session.completed", checkout_completed(dues, "pi_1"))
    assert response.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        '{"object": "event"}',
        '["a list"]',
        '{"object": "event", "id": 1, "type": "x", "data": {"object": {}}}',
    ],
    ids=["not-json", "no-id", "not-an-object", "id-not-a-string"],
)
def test_a_signed_but_malformed_body_answers_400_not_500(client, dues, body):
    response = post_event(client, body)
    assert response.status_code == 400
    assert stored_events() == {}


# ---- once and only once ------------------------------------------------------------------------


def test_a_duplicate_event_id_answers_200_and_does_nothing(client, dues):
    obj = checkout_completed(dues, "pi_1")
    assert send(client, "evt_1", "checkout.session.completed", obj).status_code == 200
    first = stored_events()["evt_1"].processed_at

    # Same id, even with a different body: the stored one stands.
    again = send(client, "evt_1", "checkout.session.completed", {**obj, "amount_total": 1})
    assert again.status_code == 200
    assert again.get_json()["duplicate"] is True
    assert len(payments()) == 1
    assert payments()[0].amount_fen == 3000
    assert stored_events()["evt_1"].processed_at == first


def test_replaying_the_same_event_fifty_times_makes_one_payment(client, dues):
    payload = event_payload(
        "evt_1", "checkout.session.completed", checkout_completed(dues, "pi_1"), account=ACCOUNT
    )
    statuses = {post_event(client, payload).status_code for _ in range(50)}

    assert statuses == {200}
    assert len(payments()) == 1
    assert len(stored_events()) == 1
    assert open_fen(dues.charge_id) == 0


def test_two_completions_of_one_intent_count_once(client, dues):
    send(client, "evt_a", "checkout.session.completed", checkout_completed(dues, "pi_1"))
    send(client, "evt_b", "payment_intent.succeeded", payment_intent_succeeded(dues, "pi_1"))
    send(
        client,
        "evt_c",
        "checkout.session.async_payment_succeeded",
        checkout_completed(dues, "pi_1"),
    )

    [payment] = payments()
    assert payment.amount_fen == 3000
    assert open_fen(dues.charge_id) == 0
    assert {e.outcome for e in stored_events().values()} == {"applied"}


def test_a_payment_intent_event_alone_also_records_the_payment(client, dues):
    send(client, "evt_b", "payment_intent.succeeded", payment_intent_succeeded(dues, "pi_1"))
    send(client, "evt_a", "checkout.session.completed", checkout_completed(dues, "pi_1"))

    [payment] = payments()
    assert payment.stripe_checkout_session_id == "cs_pi_1"  # filled in by the later event


def test_an_unpaid_checkout_completion_records_nothing_yet(client, dues):
    unpaid = checkout_completed(dues, "pi_1", payment_status="unpaid")
    send(client, "evt_a", "checkout.session.completed", unpaid)

    assert payments() == []
    assert stored_events()["evt_a"].outcome == "waiting"
    send(
        client,
        "evt_b",
        "checkout.session.async_payment_succeeded",
        checkout_completed(dues, "pi_1"),
    )
    assert len(payments()) == 1


# ---- refunds and disputes, in any order --------------------------------------------------------


def test_a_refund_updates_the_payment_and_reopens_the_charge(client, dues):
    send(client, "evt_1", "checkout.session.completed", checkout_completed(dues, "pi_1"))
    send(client, "evt_2", "charge.refunded", charge_refunded("pi_1", 1000))

    assert payments()[0].refunded_fen == 1000
    assert open_fen(dues.charge_id) == 1000
    send(client, "evt_3", "charge.refunded", charge_refunded("pi_1", 3000))
    assert payments()[0].refunded_fen == 3000
    assert open_fen(dues.charge_id) == 3000


def test_a_refund_arriving_before_the_completion_is_not_lost(client, dues):
    send(client, "evt_2", "charge.refunded", charge_refunded("pi_1", 1200))
    assert payments() == []
    assert stored_events()["evt_2"].outcome == "waiting"

    send(client, "evt_1", "checkout.session.completed", checkout_completed(dues, "pi_1"))

    [payment] = payments()
    assert (payment.amount_fen, payment.refunded_fen) == (3000, 1200)
    assert open_fen(dues.charge_id) == 1200
    assert {e.outcome for e in stored_events().values()} == {"applied"}


def test_an_older_partial_refund_arriving_late_does_not_shrink_the_refund(client, dues):
    send(client, "evt_1", "checkout.session.completed", checkout_completed(dues, "pi_1"))
    send(client, "evt_3", "charge.refunded", charge_refunded("pi_1", 3000))
    send(client, "evt_2", "charge.refunded", charge_refunded("pi_1", 1000))

    assert payments()[0].refunded_fen == 3000


def test_a_dispute_sets_and_its_closing_clears_disputed(client, dues, client_for, world):
    now = int(time.time())
    send(client, "evt_1", "checkout.session.completed", checkout_completed(dues, "pi_1"))
    send(client, "evt_2", "charge.dispute.created", dispute("pi_1", "needs_response"), created=now)
    assert payments()[0].disputed is True
    secretary_page = client_for(world.secretary_a1.login).get(
        "/a/village-a1/dues/payments?year=2026"
    )
    assert 'data-testid="disputed-badge"' in secretary_page.text
    member_page = client_for(world.member_a1.login).get("/a/village-a1/dues/my")
    assert "Disputed at Stripe" in member_page.text

    send(client, "evt_3", "charge.dispute.closed", dispute("pi_1", "won"), created=now + 60)
    assert payments()[0].disputed is False
    member_page = client_for(world.member_a1.login).get("/a/village-a1/dues/my")
    assert "Disputed at Stripe" not in member_page.text


def test_dispute_events_in_reverse_order_end_closed(client, dues):
    now = int(time.time())
    send(client, "evt_3", "charge.dispute.closed", dispute("pi_1", "won"), created=now + 60)
    send(client, "evt_2", "charge.dispute.created", dispute("pi_1", "needs_response"), created=now)
    send(client, "evt_1", "checkout.session.completed", checkout_completed(dues, "pi_1"))

    assert payments()[0].disputed is False


def test_any_order_and_any_duplicates_end_in_the_same_ledger(client, dues):
    now = int(time.time())
    events = [
        ("evt_1", "checkout.session.completed", checkout_completed(dues, "pi_1"), now),
        ("evt_2", "payment_intent.succeeded", payment_intent_succeeded(dues, "pi_1"), now),
        ("evt_3", "charge.refunded", charge_refunded("pi_1", 500), now + 10),
        ("evt_4", "charge.dispute.created", dispute("pi_1", "needs_response"), now + 20),
        ("evt_5", "charge.refunded", charge_refunded("pi_1", 800), now + 30),
    ]
    shuffled = events * 3
    random.Random(6).shuffle(shuffled)
    for event_id, event_type, obj, created in shuffled:
        assert send(client, event_id, event_type, obj, created=created).status_code == 200

    [payment] = payments()
    assert (payment.amount_fen, payment.refunded_fen, payment.disputed) == (3000, 800, True)
    assert open_fen(dues.charge_id) == 800


# ---- tenants, accounts and unknown types -------------------------------------------------------


def test_an_event_for_an_unknown_account_is_stored_with_an_error(client, dues):
    response = send(
        client,
        "evt_1",
        "checkout.session.completed",
        checkout_completed(dues, "pi_1"),
        account="acct_nobody",
    )

    assert response.status_code == 200
    assert payments() == []
    event = stored_events()["evt_1"]
    assert event.outcome == "failed"
    assert "acct_nobody" in event.error


def test_a_payload_naming_another_associations_charge_pays_nothing(client, world, dues):
    other = set_up_dues(world.village_a2, account="acct_village_a2", member_name="会员乙")
    # Sent on village_a2's account, but its metadata names village_a1's charge.
    forged = checkout_completed(dues, "pi_9")
    send(client, "evt_1", "checkout.session.completed", forged, account="acct_village_a2")
    # And on village_a1's account with metadata pointing at village_a2's charge.
    stolen = checkout_completed(other, "pi_8")
    send(client, "evt_2", "checkout.session.completed", stolen, account=ACCOUNT)

    assert payments() == []
    events = stored_events()
    assert events["evt_1"].outcome == events["evt_2"].outcome == "failed"
    assert open_fen(dues.charge_id) == 3000
    assert open_fen(other.charge_id) == 3000


def test_metadata_naming_a_charge_of_another_association_with_own_id_pays_nothing(
    client, world, dues
):
    other = set_up_dues(world.village_a2, account="acct_village_a2", member_name="会员乙")
    obj = checkout_completed(dues, "pi_7")
    obj["metadata"]["charge_id"] = str(other.charge_id)  # own association id, foreign charge
    send(client, "evt_1", "checkout.session.completed", obj)

    assert payments() == []
    assert "does not exist" in stored_events()["evt_1"].error


def test_an_unknown_event_type_is_stored_and_ignored(client, dues):
    response = send(client, "evt_1", "customer.created", {"id": "cus_1", "object": "customer"})

    assert response.status_code == 200
    event = stored_events()["evt_1"]
    assert (event.type, event.outcome) == ("customer.created", "ignored")


def test_account_updated_keeps_charges_enabled_current(client, world):
    set_up_dues(world.village_a1, account=ACCOUNT, charges_enabled=False)
    account = {"id": ACCOUNT, "object": "account", "charges_enabled": True}
    send(client, "evt_1", "account.updated", account)
    with UNSCOPED_BYPASS("test reads the settings"):
        settings = db.session.scalar(select(DuesSettings).execution_options(populate_existing=True))
    assert settings.stripe_charges_enabled is True

    send(client, "evt_2", "account.updated", {**account, "charges_enabled": False})
    with UNSCOPED_BYPASS("test reads the settings"):
        db.session.refresh(settings)
    assert settings.stripe_charges_enabled is False


def test_a_wrong_currency_is_refused(client, dues):
    send(
        client,
        "evt_1",
        "checkout.session.completed",
        checkout_completed(dues, "pi_1", currency="usd"),
    )
    assert payments() == []
    assert "currency" in stored_events()["evt_1"].error


def test_events_stored_while_no_worker_ran_are_processed_later(client, dues, app):
    from app.core.jobs import huey

    huey.immediate = False  # the queue is not drained: as if the worker were down
    try:
        send(client, "evt_1", "checkout.session.completed", checkout_completed(dues, "pi_1"))
    finally:
        huey.immediate = True
        huey.flush()
    assert payments() == []
    assert stored_events()["evt_1"].processed_at is None

    assert process_pending_stripe_events() == 0  # just arrived: its own job may still run
    event = db.session.get(StripeEvent, "evt_1")
    event.received_at = utcnow() - timedelta(minutes=5)  # its own job never came
    db.session.commit()
    assert process_pending_stripe_events() == 1
    assert len(payments()) == 1
    assert (
        app.test_cli_runner()
        .invoke(args=["jobs", "run", "process_pending_stripe_events"])
        .exit_code
        == 0
    )


def test_a_queue_outage_still_answers_200_and_keeps_the_event(client, dues, monkeypatch):
    from app.dues import webhooks

    def queue_down(event_id):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(webhooks, "process_stripe_event", queue_down)
    response = send(client, "evt_1", "checkout.session.completed", checkout_completed(dues, "pi_1"))

    assert response.status_code == 200
    assert stored_events()["evt_1"].processed_at is None  # left for the scheduled retry
    assert payments() == []


def test_the_endpoint_is_rate_limited(client, dues, app):
    app.config["RATELIMIT_STRIPE_WEBHOOK"] = "3 per minute"
    obj = checkout_completed(dues, "pi_1")
    statuses = [
        send(client, f"evt_{n}", "checkout.session.completed", obj).status_code for n in range(5)
    ]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3:] == [429, 429]
    with UNSCOPED_BYPASS("test counts"):
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 1


def test_money_for_a_member_deleted_since_she_paid_is_recorded_all_the_same(
    client, dues, world, make_client
):
    secretary = make_client(world.secretary_a1.login)
    member_page = f"/a/{world.village_a1.slug}/members/{dues.member_id}"
    assert secretary.post(f"{member_page}/delete").status_code == 303
    send(client, "evt_1", "checkout.session.completed", checkout_completed(dues, "pi_1"))
    send(client, "evt_2", "charge.refunded", charge_refunded("pi_1", 1000))

    events = stored_events()
    assert [(events[e].outcome, events[e].error) for e in ("evt_1", "evt_2")] == [
        ("applied", None),
        ("applied", None),
    ]
    assert secretary.post(f"{member_page}/restore").status_code == 303
    [payment] = payments()
    assert (payment.amount_fen, payment.refunded_fen) == (3000, 1000)
    assert open_fen(dues.charge_id) == 1000
