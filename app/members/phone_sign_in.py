"""Members sign in with their mobile number and a six-digit code sent by SMS, and claim their
own record in an association's register (会员认领).

A code is sent only to a number that can use it: a member's login, or a number in some
association's register. The screen gives the same answer for any number (no enumeration); the
SMS, which only the number's holder reads, says what happened. Staff accounts keep their
password and second factor: their number receives a note saying so instead of a code.
Codes live 5 minutes, allow 5 wrong tries, work once, and a new one replaces the old; only a
salted keyed hash is stored.
"""

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update

from app.accounts.models import PhoneSignInCode, User
from app.accounts.passwords import hash_password
from app.accounts.services import AccountError, find_user, holds_staff_role
from app.core import audit, crypto
from app.core.clock import utcnow
from app.core.phones import MOBILE, normalise_phone
from app.core.sms_outbox.models import SmsMessage
from app.core.sms_outbox.queueing import queue_sms
from app.extensions import db
from app.members.models import Member
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tenants.models import Association, Membership, Role

CODE_LIFETIME = timedelta(minutes=5)
MAX_ATTEMPTS = 5


def parse_phone(raw: str) -> str | None:
    """The 11-digit mainland mobile number, or None."""
    phone = normalise_phone(raw or "")
    return phone if MOBILE.match(phone) else None


def _code_hash(code: str, salt: str) -> str:
    return f"{salt}${crypto.lookup_hash(f'sms-sign-in:{salt}:{code}')}"


def _code_matches(code: str, stored: str) -> bool:
    salt, _, _digest = stored.partition("$")
    return hmac.compare_digest(_code_hash(code, salt), stored)


@dataclass(frozen=True)
class RegisterEntry:
    """A record of the register that holds this phone, as the phone's holder sees it."""

    member_id: int
    association_id: int
    association_name: str
    member_name: str
    linked_user_id: int | None


def register_entries(phone: str) -> list[RegisterEntry]:
    """Every register record with this phone, in every association."""
    with UNSCOPED_BYPASS("the holder of a phone finds her own records in any register"):
        rows = db.session.execute(
            select(Member.id, Member.association_id, Association.name, Member.name, Member.user_id)
            .join(Association, Association.id == Member.association_id)
            .where(Member.phone_hash == crypto.lookup_hash(phone))
            .order_by(Association.name, Member.id)
        ).all()
    return [RegisterEntry(*row) for row in rows]


def request_code(phone: str) -> SmsMessage | None:
    """Queue the SMS for this number (flushes; the caller commits, then dispatches), or None
    when the number can do nothing here (nothing is sent)."""
    phone_hash = crypto.lookup_hash(phone)
    user = find_user(phone)
    if user is not None and user.is_active and holds_staff_role(user.id):
        audit.record("sms_code_refused", user_id=user.id, outcome="denied", reason="staff")
        return queue_sms(
            f"staff-note:{phone_hash[:16]}:{utcnow():%Y%m%d%H%M}",
            phone,
            "staff_use_password",
            {},
            text=_("Staff accounts sign in with their password and second factor."),
            quiet_hours=False,
            notice=False,
        )
    known = (user is not None and user.is_active) or bool(register_entries(phone))
    if not known:
        audit.record("sms_code_requested", outcome="unknown")
        return None
    now = utcnow()
    db.session.execute(
        update(PhoneSignInCode)
        .where(PhoneSignInCode.phone_hash == phone_hash, PhoneSignInCode.used_at.is_(None))
        .values(used_at=now)
    )
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = PhoneSignInCode(
        phone_hash=phone_hash,
        code_hash=_code_hash(code, secrets.token_hex(8)),
        expires_at=now + CODE_LIFETIME,
        attempts=0,
    )
    db.session.add(row)
    db.session.flush()
    audit.record("sms_code_requested", user_id=user.id if user else None)
    return queue_sms(
        f"sign-in:{row.id}",
        phone,
        "sign_in_code",
        {"code": code},
        text=_("Your Xiehui sign-in code is %(code)s. It is valid for 5 minutes.", code=code),
        quiet_hours=False,
        notice=False,
    )


def check_code(phone: str, code: str) -> None:
    """Accept the phone's current code once, or raise AccountError (flushes the failed try,
    which the caller commits)."""
    now = utcnow()
    row = db.session.scalar(
        select(PhoneSignInCode)
        .where(
            PhoneSignInCode.phone_hash == crypto.lookup_hash(phone),
            PhoneSignInCode.used_at.is_(None),
        )
        .order_by(PhoneSignInCode.id.desc())
        .limit(1)
        .with_for_update()
    )
    if row is None or row.expires_at <= now:
        audit.record("sms_code_failed", outcome="failed", reason="expired_or_used")
        raise AccountError(_("This code has expired or was already used. Ask for a new code."))
    if row.attempts >= MAX_ATTEMPTS:
        audit.record("sms_code_failed", outcome="locked")
        raise AccountError(_("Too many wrong codes. Ask for a new code."))
    if not _code_matches((code or "").strip(), row.code_hash):
        row.attempts += 1
        db.session.flush()
        audit.record("sms_code_failed", outcome="failed", reason="wrong_code")
        raise AccountError(_("Wrong code. Check the SMS and try again."))
    row.used_at = now
    db.session.flush()


def member_user(phone: str) -> User | None:
    """The account this proven phone signs in to, or None when it has none yet. Raises
    AccountError for a disabled account or one with a staff role."""
    user = find_user(phone)
    if user is None:
        return None
    if not user.is_active:
        audit.record("login_failed", user_id=user.id, outcome="disabled", method="sms")
        raise AccountError(_("This account has been disabled."))
    if holds_staff_role(user.id):
        audit.record("login_failed", user_id=user.id, outcome="denied", method="sms")
        raise AccountError(
            _(
                "Accounts with a staff role cannot sign in by SMS code. "
                "Sign in with your password and second factor."
            )
        )
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = utcnow()
    audit.record("login", user_id=user.id, method="sms")
    return user


def claim_member(phone: str, member_id: int, user: User | None) -> User:
    """Link the register record `member_id` (which must hold this phone) to the phone's
    account, creating the account — login = the phone — when there is none. The record must not
    be linked to anyone else; nothing else is merged."""
    if user is not None and user.login != phone:
        raise AccountError(_("This record can only be claimed by the holder of its phone."))
    entry = next((e for e in register_entries(phone) if e.member_id == member_id), None)
    if entry is None:
        raise AccountError(_("Choose one of the records listed."))
    if entry.linked_user_id is not None and (user is None or entry.linked_user_id != user.id):
        raise AccountError(
            _("This record is already linked to an account. Ask the association's secretary.")
        )
    if user is None:
        user = User(
            login=phone,
            name=entry.member_name,
            password_hash=hash_password(secrets.token_urlsafe(32)),  # no usable password
        )
        db.session.add(user)
        db.session.flush()
    association = db.session.get(Association, entry.association_id)
    with tenant_context(scope_for(association, writable=True)):
        member = db.session.scalar(select(Member).where(Member.id == member_id))
        own = db.session.scalar(select(Member.id).where(Member.user_id == user.id))
        if own is not None and own != member_id:
            raise AccountError(_("You already have a record in this association."))
        member.user_id = user.id
        has_membership = db.session.scalar(
            select(Membership.id).where(Membership.user_id == user.id)
        )
        if has_membership is None:
            db.session.add(Membership(user_id=user.id, role=Role.MEMBER))
        db.session.flush()
    audit.record(
        "member_claimed", association_id=entry.association_id, user_id=user.id, target=member
    )
    return user
