"""Signing in by mobile number and SMS code, and claiming one's own register record."""

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.forms import ClaimMemberForm, PhoneCodeForm, PhoneForm
from app.accounts.services import AccountError
from app.accounts.session import end_session, start_session
from app.core import crypto
from app.core.clock import utcnow
from app.core.sms_outbox.sending import dispatch
from app.core.views import invalid_form, render
from app.extensions import db, limiter
from app.members import phone_sign_in

# {"phone": encrypted phone, "at": unix time}: a code was asked for this number.
PENDING = "sms_sign_in_pending"
# The same once the code was right and the phone has no account yet: she may claim a record.
VERIFIED = "sms_sign_in_verified"
PENDING_SECONDS = 600


def _now() -> float:
    return utcnow().timestamp()


def _remember(key: str, phone: str) -> None:
    session[key] = {"phone": crypto.encrypt(phone), "at": _now()}


def _recalled(key: str) -> str | None:
    entry = session.get(key)
    if not isinstance(entry, dict) or not 0 <= _now() - float(entry.get("at", 0)) <= (
        PENDING_SECONDS
    ):
        session.pop(key, None)
        return None
    return crypto.decrypt(entry.get("phone"))


def _phone_limit_key() -> str:
    """Per number, whatever the IP: one number cannot be flooded with codes."""
    phone = phone_sign_in.parse_phone(request.form.get("phone", ""))
    if phone is None:  # no number to count against: the address's own bucket, not a shared one
        return f"sms-phone-invalid:{request.remote_addr}"
    return f"sms-phone:{crypto.lookup_hash(phone)}"


@limiter.limit(
    lambda: current_app.config.get("RATELIMIT_SMS_CODE_IP", "10 per hour"), methods=["POST"]
)
@limiter.limit(
    lambda: current_app.config.get("RATELIMIT_SMS_CODE_PHONE", "3 per 15 minutes"),
    key_func=_phone_limit_key,
    methods=["POST"],
)
def phone_login():
    form = PhoneForm()
    if not form.validate_on_submit():
        if form.is_submitted():
            return invalid_form("accounts/phone_login.html", form=form)
        return render("accounts/phone_login.html", form=form)
    phone = phone_sign_in.parse_phone(form.phone.data)
    if phone is None:
        form.phone.errors.append(_("Enter an 11-digit mainland mobile number."))
        return invalid_form("accounts/phone_login.html", form=form)
    message = phone_sign_in.request_code(phone)
    db.session.commit()
    if message is not None:
        dispatch(message)
    _remember(PENDING, phone)
    # The same answer for every number: no enumeration of members or accounts.
    flash(_("If this number can sign in here, a code is on its way by SMS."), "info")
    return redirect(url_for("accounts.phone_login_code"))


@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def phone_login_code():
    phone = _recalled(PENDING)
    if phone is None:
        flash(_("Please enter your mobile number again."), "warning")
        return redirect(url_for("accounts.phone_login"))
    form = PhoneCodeForm()
    masked = phone[:3] + "****" + phone[-4:]
    if not form.validate_on_submit():
        if form.is_submitted():
            return invalid_form("accounts/phone_login_code.html", form=form, masked=masked)
        return render("accounts/phone_login_code.html", form=form, masked=masked)
    try:
        phone_sign_in.check_code(phone, form.code.data)
        user = phone_sign_in.member_user(phone)
    except AccountError as problem:
        db.session.commit()  # keep the counted try and the audit entry
        form.code.errors.append(str(problem))
        return invalid_form("accounts/phone_login_code.html", form=form, masked=masked)
    session.pop(PENDING, None)
    unclaimed = [
        entry for entry in phone_sign_in.register_entries(phone) if entry.linked_user_id is None
    ]
    if user is not None:
        start_session(user, staff=False)
        if user.locale:
            session["locale"] = user.locale
        return redirect(url_for("accounts.claim_member" if unclaimed else "accounts.index"))
    end_session()  # nobody of an earlier sign-in stays in this browser
    _remember(VERIFIED, phone)
    return redirect(url_for("accounts.claim_member"))


def _claiming_phone() -> str | None:
    """A phone just proven by its code, or the signed-in member's own mobile login."""
    if current_user.is_authenticated:
        login = current_user.login
        return login if phone_sign_in.parse_phone(login) == login else None
    return _recalled(VERIFIED)


def claim_member():
    phone = _claiming_phone()
    if phone is None:
        flash(_("Sign in with your mobile number first."), "warning")
        return redirect(url_for("accounts.phone_login"))
    entries = phone_sign_in.register_entries(phone)
    form = ClaimMemberForm()
    if form.validate_on_submit():
        user = current_user if current_user.is_authenticated else None
        try:
            member_id = int(form.member_id.data)
            user = phone_sign_in.claim_member(phone, member_id, user)
        except (ValueError, AccountError) as problem:
            message = str(problem) if isinstance(problem, AccountError) else ""
            form.member_id.errors.append(message or _("Choose one of the records listed."))
            return invalid_form("accounts/claim_member.html", form=form, entries=entries)
        if not current_user.is_authenticated:
            session.pop(VERIFIED, None)
            start_session(user, staff=False)
        flash(_("Your record is now linked to your account."), "success")
        return redirect(url_for("accounts.index"))
    if form.is_submitted():
        return invalid_form("accounts/claim_member.html", form=form, entries=entries)
    return render("accounts/claim_member.html", form=form, entries=entries)
