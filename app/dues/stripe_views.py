"""Stripe pages: the secretary connects the association's account; a member pays an open
charge through Checkout and comes back to a page that waits for the webhook."""

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.core.i18n import money
from app.core.views import render, require, secretary_only
from app.dues.checkout import CheckoutRefused, own_charge, start_checkout
from app.dues.models import DuesSettings
from app.dues.stripe_connect import (
    StripeUnavailable,
    dues_settings,
    online_payment_blocker,
    refresh_account,
    start_onboarding,
    stripe_configured,
)

has_role = require(lambda access: access.own_role is not None, "own role")


@secretary_only
def connect():
    settings = dues_settings()
    return render(
        "dues/stripe/connect.html",
        settings=settings,
        configured=stripe_configured(),
        blocker=online_payment_blocker(settings),
        returned=request.args.get("returned") == "1",
        expired=request.args.get("expired") == "1",
    )


@secretary_only
def onboard():
    settings: DuesSettings | None = dues_settings()
    if not stripe_configured():
        flash(_("Stripe is not configured on this platform."), "error")
    elif settings is None:
        flash(_("Set the yearly dues first, then connect Stripe."), "error")
    else:
        try:
            url = start_onboarding(
                settings,
                return_url=url_for("dues_stripe.connect", returned=1, _external=True),
                refresh_url=url_for("dues_stripe.connect", expired=1, _external=True),
            )
        except StripeUnavailable as error:
            flash(error.message, "error")
        else:
            message = _("Stripe asks for the association's details and bank account.")
            return render("dues/stripe/redirect.html", stripe_url=url, message=message)
    return redirect(url_for("dues_stripe.connect"), 303)


@secretary_only
def refresh():
    settings = dues_settings()
    if settings is None or not settings.stripe_account_id or not stripe_configured():
        abort(404)
    try:
        refresh_account(settings)
    except StripeUnavailable as error:
        flash(error.message, "error")
    else:
        if settings.stripe_charges_enabled:
            flash(_("Stripe is connected: members can now pay their dues online."), "success")
        else:
            flash(
                _("Stripe has not enabled payments on this account yet. Finish the onboarding."),
                "warning",
            )
    return redirect(url_for("dues_stripe.connect"), 303)


def _own_charge_or_404(charge_id: int):
    charge = own_charge(charge_id, current_user.id)
    if charge is None:
        abort(404)
    return charge


@has_role
def pay(charge_id: int):
    charge = _own_charge_or_404(charge_id)
    try:
        url = start_checkout(
            g.association,
            dues_settings(),
            charge,
            success_url=url_for("dues_stripe.paid", charge_id=charge.id, _external=True),
            cancel_url=url_for("dues_stripe.cancelled", charge_id=charge.id, _external=True),
            locale=str(get_locale() or "zh"),
        )
    except CheckoutRefused as refusal:
        return render("dues/stripe/result.html", charge=charge, message=refusal.message, status=409)
    except StripeUnavailable as error:
        return render("dues/stripe/result.html", charge=charge, message=error.message, status=503)
    message = _("You are being taken to Stripe to pay %(amount)s.", amount=money(charge.open_fen))
    return render("dues/stripe/redirect.html", stripe_url=url, message=message)


@has_role
def paid(charge_id: int):
    """Back from Checkout. Nothing is recorded here: the webhook records the payment."""
    charge = _own_charge_or_404(charge_id)
    if charge.open_fen == 0:
        message = _("Thank you: your payment is recorded. Your receipt is in your dues.")
    else:
        message = _(
            "Thank you. Your payment is being confirmed by Stripe; the receipt appears in your "
            "dues within a few minutes."
        )
    return render("dues/stripe/result.html", charge=charge, message=message, confirmed=True)


@has_role
def cancelled(charge_id: int):
    charge = _own_charge_or_404(charge_id)
    message = _("The payment was cancelled; nothing was charged. You can try again any time.")
    return render("dues/stripe/result.html", charge=charge, message=message)
