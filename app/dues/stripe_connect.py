"""Stripe Connect for dues: each association connects its own Stripe account and members pay
into it directly (the platform never holds the money).

The secretary onboards through an Account Link; `charges_enabled` is refreshed from the account
when the secretary comes back and kept current by `account.updated` webhooks. The API key comes
from the environment (STRIPE_SECRET_KEY); STRIPE_API_BASE points the real client at a fake in
tests.
"""

import logging
import uuid

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from stripe import StripeClient, StripeError

from app.dues.models import DuesSettings
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Association

log = logging.getLogger("xiehui.dues.stripe")


class StripeUnavailable(Exception):
    """Stripe refused or could not be reached; `message` is for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def unreachable_message() -> str:
    return _(
        "Stripe could not be reached or refused the request. Please try again in a few minutes."
    )


def stripe_configured() -> bool:
    return bool(current_app.config.get("STRIPE_SECRET_KEY"))


def stripe_client() -> StripeClient:
    base = current_app.config.get("STRIPE_API_BASE")
    addresses = {"api": base, "connect": base, "files": base} if base else None
    return StripeClient(
        current_app.config["STRIPE_SECRET_KEY"],
        base_addresses=addresses,
        # Retries reuse the request's idempotency key, so a retried POST never acts twice.
        max_network_retries=2,
    )


def dues_settings() -> DuesSettings | None:
    """The current association's dues settings (through the tenant scope)."""
    return db.session.scalar(select(DuesSettings))


def online_payment_blocker(settings: DuesSettings | None) -> str | None:
    """Why members cannot pay online here, or None when they can."""
    if not stripe_configured():
        return _(
            "Online payment is not available on this platform yet. Please pay the secretary "
            "in cash or by bank transfer."
        )
    if settings is None or not settings.stripe_account_id:
        return _(
            "Your association has not connected a Stripe account yet, so dues cannot be paid "
            "online. Please pay the secretary in cash or by bank transfer."
        )
    if not settings.stripe_charges_enabled:
        return _(
            "Your association's Stripe account is still being set up, so dues cannot be paid "
            "online yet. Please pay the secretary in cash or by bank transfer."
        )
    return None


def start_onboarding(settings: DuesSettings, *, return_url: str, refresh_url: str) -> str:
    """Create the association's Standard account if it has none, and an Account Link to
    Stripe's onboarding; returns the link to send the secretary to."""
    client = stripe_client()
    try:
        if not settings.stripe_account_id:
            account = client.v1.accounts.create(
                params={
                    "type": "standard",
                    "metadata": {"association_id": str(settings.association_id)},
                },
                # One account per association, even when the button is pressed twice.
                options={"idempotency_key": f"connect-account-{settings.association_id}"},
            )
            settings.stripe_account_id = account.id
            settings.stripe_charges_enabled = bool(account.charges_enabled)
            db.session.flush()
        link = client.v1.account_links.create(
            params={
                "account": settings.stripe_account_id,
                "type": "account_onboarding",
                "return_url": return_url,
                "refresh_url": refresh_url,
            },
            options={"idempotency_key": f"account-link-{uuid.uuid4()}"},
        )
    except StripeError as error:
        log.warning(
            "stripe onboarding failed for association %s: %s", settings.association_id, error
        )
        raise StripeUnavailable(unreachable_message()) from error
    return link.url


def refresh_account(settings: DuesSettings) -> None:
    """Read `charges_enabled` from the connected account itself."""
    try:
        account = stripe_client().v1.accounts.retrieve(settings.stripe_account_id)
    except StripeError as error:
        log.warning("stripe account refresh failed for %s: %s", settings.stripe_account_id, error)
        raise StripeUnavailable(unreachable_message()) from error
    settings.stripe_charges_enabled = bool(account.charges_enabled)
    db.session.flush()


def association_for_account(account_id: str | None) -> Association | None:
    """The association whose dues settings name this connected account."""
    if not account_id:
        return None
    with UNSCOPED_BYPASS("a webhook names a connected account; find the association owning it"):
        association_id = db.session.scalar(
            select(DuesSettings.association_id).where(DuesSettings.stripe_account_id == account_id)
        )
    return db.session.get(Association, association_id) if association_id else None


def connected_associations(slug: str | None = None) -> list[tuple[Association, str]]:
    """(association, account id) for every association with a connected account (or one)."""
    with UNSCOPED_BYPASS("reconciliation walks every connected account"):
        rows = db.session.execute(
            select(Association, DuesSettings.stripe_account_id)
            .join(DuesSettings, DuesSettings.association_id == Association.id)
            .where(DuesSettings.stripe_account_id.is_not(None))
            .where(Association.slug == slug if slug else True)
            .order_by(Association.id)
        ).all()
    return [(association, account) for association, account in rows]
