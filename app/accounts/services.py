"""Account actions: signing in with lock-out, password changes and resets, invitations."""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from app.accounts import session_records
from app.accounts.models import Invitation, User
from app.accounts.passwords import hash_password, needs_rehash, verify_password
from app.accounts.session_records import EndReason
from app.core import audit
from app.core.clock import utcnow
from app.core.notifications import notify_after_commit
from app.core.problems import Problem
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tenants.models import Association, Membership, Role

MOBILE = re.compile(r"^1[3-9]\d{9}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(Problem):
    """A refused account action; the message is translated and shown to the user."""


def normalise_login(raw: str) -> str:
    return raw.strip().lower().replace(" ", "")


def is_valid_login(login: str) -> bool:
    return bool(MOBILE.match(login) or EMAIL.match(login))


def find_user(login: str) -> User | None:
    return db.session.scalar(select(User).where(User.login == normalise_login(login)))


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    error: str | None


def sign_in(login: str, password: str) -> SignInResult:
    """Check a password. Repeated failures lock the account for a short while only, so an
    attacker cannot lock a victim out for long; the per-IP rate limit does the rest."""
    config = current_app.config
    user = find_user(login)
    now = utcnow()
    if user is not None and user.locked_until and user.locked_until > now:
        verify_password(None, password)  # same cost as a real attempt
        audit.record("login_failed", user_id=user.id, outcome="locked")
        return SignInResult(None, _("Too many failed attempts. Try again in a few minutes."))
    if not verify_password(user.password_hash if user else None, password):
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= config["LOGIN_MAX_FAILURES"]:
                user.locked_until = now + timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
                user.failed_logins = 0
        audit.record("login_failed", user_id=user.id if user else None, outcome="failed")
        return SignInResult(None, _("Wrong login or password."))
    if not user.is_active:
        audit.record("login_failed", user_id=user.id, outcome="disabled")
        return SignInResult(None, _("This account has been disabled."))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if user.has_second_factor:
        # Not signed in yet: the failure count stands until the code is right too, so wrong
        # codes cannot be retried forever by entering the password again in between.
        audit.record("password_accepted", user_id=user.id)
        return SignInResult(user, None)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit.record("login", user_id=user.id)
    return SignInResult(user, None)


def end_all_sessions(
    user: User, *, reason: EndReason = EndReason.ACCESS_CHANGED, keep: str | None = None
) -> int:
    """End every session of the user at once (except the record `keep`): each signed-in
    browser is signed out on its next request. Returns how many ended."""
    return session_records.end_all(user, reason=reason, keep=keep)


def set_password(user: User, password: str, *, keep_session: str | None = None) -> None:
    """A new password ends the user's sessions, except `keep_session` (the record of the
    browser that changed it, which continues)."""
    user.password_hash = hash_password(password)
    end_all_sessions(user, reason=EndReason.PASSWORD_CHANGE, keep=keep_session)
    audit.record("password_changed", user_id=user.id, target=user)


def holds_staff_role(user_id: int) -> bool:
    """Secretaries, staff and auditors get the stricter password and session rules."""
    with UNSCOPED_BYPASS("the signed-in user's own roles decide their password rules"):
        return bool(
            db.session.scalar(
                select(func.count())
                .select_from(Membership)
                .where(Membership.user_id == user_id, Membership.role != Role.MEMBER)
            )
        )


# Password reset: the token signs the user id and a fingerprint of the current password hash,
# so it expires on its own and stops working the moment the password changes (no reuse).
def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def make_reset_token(user: User) -> str:
    return _reset_serializer().dumps({"user": user.id, "fp": _fingerprint(user)})


def user_for_reset_token(token: str) -> User | None:
    try:
        data = _reset_serializer().loads(
            token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE_SECONDS"]
        )
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.get(User, data.get("user")) if isinstance(data.get("user"), int) else None
    if user is None or not user.is_active or data.get("fp") != _fingerprint(user):
        return None
    return user


# Invitations: the raw token goes out in the link only; the database keeps its SHA-256.
def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(association: Association, *, login: str, name: str, role: Role, invited_by: User):
    """Create an invitation in the current (writable) association; returns (invitation, token)."""
    login = normalise_login(login)
    if not is_valid_login(login):
        raise AccountError(_("Enter an email address or an 11-digit mobile number."))
    existing = find_user(login)
    if existing is not None:
        held = db.session.scalar(select(Membership).where(Membership.user_id == existing.id))
        if held is not None:
            raise AccountError(
                _("%(login)s already holds a role in this association.", login=login)
            )
    pending = db.session.scalar(
        select(Invitation).where(
            Invitation.login == login,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
    )
    if pending is not None:
        raise AccountError(_("An invitation to %(login)s is already pending.", login=login))
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        association_id=association.id,
        login=login,
        name=name.strip(),
        role=role,
        token_hash=_token_hash(token),
        invited_by_id=invited_by.id,
        expires_at=utcnow() + timedelta(days=current_app.config["INVITATION_DAYS"]),
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation, token


def revoke_invitation(invitation: Invitation) -> None:
    if invitation.status != "pending":
        raise AccountError(_("Only a pending invitation can be revoked."))
    invitation.revoked_at = utcnow()


def renew_invitation(invitation: Invitation) -> str:
    """Send a pending or expired invitation again: a new link and a new expiry; the old link
    stops working. Returns the new token."""
    if invitation.status not in ("pending", "expired"):
        raise AccountError(_("Only a pending or expired invitation can be sent again."))
    token = secrets.token_urlsafe(32)
    invitation.token_hash = _token_hash(token)
    invitation.expires_at = utcnow() + timedelta(days=current_app.config["INVITATION_DAYS"])
    return token


def find_invitation(token: str) -> Invitation | None:
    with UNSCOPED_BYPASS("an invitation link is looked up by its secret token alone"):
        return db.session.scalar(
            select(Invitation).where(Invitation.token_hash == _token_hash(token))
        )


def send_invitation(login: str, token: str, *, association_name: str, inviter: str) -> None:
    """Send the link to the invited login once the invitation is committed.

    The link goes there and nowhere else: no page, flash message, log or command output shows it
    to the inviter. So holding the link proves the address is the holder's, which is what lets
    it create a new account (SECURITY.md, "a link is not an identity")."""
    link = url_for("accounts.accept_invitation", token=token, _external=True)
    notify_after_commit(
        login,
        _("Invitation to %(name)s", name=association_name),
        _(
            "%(inviter)s invites you to join %(name)s on Xiehui: %(link)s\n"
            "If you did not expect this, ignore this message.",
            inviter=inviter,
            name=association_name,
            link=link,
        ),
    )


def invitation_refusal(invitation: Invitation, acting_user: User | None) -> str | None:
    """Why the person following this link may not accept it now, or None.

    An invitation is bound to its login. For a login that already has an account the link does
    nothing by itself: its owner accepts while signed in (password, then the second factor). A
    person signed in as anyone else is refused, whether or not the login has an account yet."""
    if invitation.status != "pending":
        return "no_longer_valid"
    if acting_user is not None and acting_user.login != invitation.login:
        return "other_account"
    if acting_user is None and find_user(invitation.login) is not None:
        return "sign_in_needed"
    return None


def accept_invitation(
    invitation: Invitation, *, acting_user: User | None, name: str, password: str | None
) -> User:
    """Grant the invited role: to the signed-in owner of the login, or to a new account for it
    (the link reached its owner, see `send_invitation`)."""
    refusal = invitation_refusal(invitation, acting_user)
    if refusal is not None:
        raise AccountError(_("This invitation link is no longer valid."))
    association = db.session.get(Association, invitation.association_id)
    with tenant_context(scope_for(association, writable=True)):
        user = acting_user
        if user is None:
            if not password:
                raise AccountError(_("Choose a password."))
            user = User(
                login=invitation.login, name=name.strip(), password_hash=hash_password(password)
            )
            db.session.add(user)
            db.session.flush()
        already = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
        if already is None:
            db.session.add(
                Membership(association_id=association.id, user_id=user.id, role=invitation.role)
            )
        invitation.accepted_at = utcnow()
        audit.record(
            "invitation_accepted",
            association_id=association.id,
            user_id=user.id,
            target=invitation,
            new_account=acting_user is None,
        )
        db.session.flush()
    return user
