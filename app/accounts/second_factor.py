"""The second factor: TOTP codes from an authenticator app, and one-time recovery codes.

Required for the platform operator and for everyone holding a staff-level role (secretary,
staff, auditor) at county level or above: they read thousands of people's records. Optional for
everyone else. The shared secret is encrypted with the field key (app/core/crypto.py); a code
is accepted for the current 30-second step and one step either side, and each step once only.
Wrong codes count against the same lock-out as wrong passwords.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

import pyotp
import segno
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select

from app.accounts.models import RecoveryCode, User
from app.accounts.passwords import verify_password
from app.accounts.services import end_all_sessions
from app.core import audit, crypto
from app.core.clock import utcnow
from app.core.problems import Problem
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tenants.models import OVERSIGHT_ROLES, Association, AssociationKind, Membership, Role
from tenants.tree import subtree_filter

ISSUER = "Xiehui"
STEP_SECONDS = 30
RECOVERY_CODE_COUNT = 10
# 32 letters and digits without the look-alikes 0/O and 1/I: 16 of them carry 80 bits.
RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
RECOVERY_CODE_LENGTH = 16
# Levels whose staff roles make the second factor compulsory: county (3) and above.
REQUIRED_KINDS = tuple(
    kind for kind in AssociationKind if kind.level <= AssociationKind.COUNTY.level
)


class SecondFactorError(Problem):
    """A refused second-factor action; the message is translated and shown to the user."""


def is_required(user: User) -> bool:
    """Must this user have a second factor? One indexed query."""
    if user.is_platform_admin:
        return True
    with UNSCOPED_BYPASS("a user's own roles decide whether the second factor is required"):
        return (
            db.session.scalar(
                select(Membership.id)
                .join(Association, Association.id == Membership.association_id)
                .where(
                    Membership.user_id == user.id,
                    Membership.role.in_(OVERSIGHT_ROLES),
                    Association.kind.in_(REQUIRED_KINDS),
                )
                .limit(1)
            )
            is not None
        )


# ---- TOTP ---------------------------------------------------------------------------------


def new_secret() -> str:
    return pyotp.random_base32()


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.login, issuer_name=ISSUER)


def qr_code_svg(uri: str) -> str:
    """The otpauth:// address as an inline SVG QR code, drawn on the server."""
    return segno.make(uri, error="m").svg_inline(dark="#000", light="#fff", border=4, omitsize=True)


def current_step(now: float | None = None) -> int:
    return int((utcnow().timestamp() if now is None else now) // STEP_SECONDS)


def _matching_step(secret: str, code: str, *, after: int | None) -> int | None:
    """The time step (now, or one either side) whose code this is, if later than `after`."""
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    now = current_step()
    for step in (now - 1, now, now + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _secret_of(user: User) -> str:
    return crypto.decrypt(user.totp_secret_encrypted)


def _normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


# ---- recovery codes -----------------------------------------------------------------------


def _code_hash(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def format_recovery_code(raw: str) -> str:
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def is_recovery_code_shape(code: str) -> bool:
    normal = _normalise(code)
    return len(normal) == RECOVERY_CODE_LENGTH and all(c in RECOVERY_ALPHABET for c in normal)


def new_recovery_codes(user: User) -> list[str]:
    """Ten fresh codes replace any earlier ones; only their hashes are kept."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [
        format_recovery_code(
            "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        )
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_code_hash(c)) for c in codes)
    db.session.flush()
    return codes


def unused_recovery_codes(user: User) -> int:
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def _use_recovery_code(user: User, code: str) -> bool:
    if not is_recovery_code_shape(code):
        return False
    found = db.session.scalar(
        select(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _code_hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .with_for_update()
    )
    if found is None:
        return False
    found.used_at = utcnow()
    return True


# ---- enrolment, sign-in, disabling, reset --------------------------------------------------


def enable(user: User, secret: str, code: str) -> list[str]:
    """Turn the second factor on once the holder typed a code from the new secret; returns the
    recovery codes to show once."""
    step = _matching_step(secret, code.strip(), after=None)
    if step is None:
        raise SecondFactorError(_("That code is not right. Check the time on your phone."))
    user.totp_secret_encrypted = crypto.encrypt(secret)
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = new_recovery_codes(user)
    audit.record("second_factor_enrolled", user_id=user.id, target=user)
    return codes


def enable_with_known_secret(user: User, secret: str) -> None:
    """For demo and benchmark data only: the second factor on with a secret published in the
    README or the benchmark's code, without recovery codes."""
    user.totp_secret_encrypted = crypto.encrypt(secret)
    user.totp_enabled_at = utcnow()
    user.totp_last_step = None


def check_code(user: User, code: str) -> bool:
    """A current TOTP code, not used before; the step is remembered so it works once."""
    step = _matching_step(_secret_of(user), code.strip(), after=user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    return True


class Outcome(StrEnum):
    CODE = "code"
    RECOVERY_CODE = "recovery_code"
    WRONG = "wrong"
    LOCKED = "locked"


@dataclass(frozen=True)
class SecondStep:
    outcome: Outcome
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.outcome in (Outcome.CODE, Outcome.RECOVERY_CODE)


def verify_sign_in(user: User, code: str) -> SecondStep:
    """The second step of signing in: a TOTP code, or an unused recovery code (then spent).

    Failures count with wrong passwords (accounts.services.sign_in) and lock the account for
    a while after LOGIN_MAX_FAILURES in a row; success clears the count."""
    config = current_app.config
    now = utcnow()
    if user.locked_until and user.locked_until > now:
        audit.record("second_factor_failed", user_id=user.id, outcome="locked")
        return SecondStep(
            Outcome.LOCKED, _("Too many failed attempts. Try again in a few minutes.")
        )
    if check_code(user, code):
        outcome = Outcome.CODE
    elif _use_recovery_code(user, code):
        outcome = Outcome.RECOVERY_CODE
        audit.record("recovery_code_used", user_id=user.id, target=user)
    else:
        user.failed_logins += 1
        audit.record("second_factor_failed", user_id=user.id, outcome="failed")
        if user.failed_logins >= config["LOGIN_MAX_FAILURES"]:
            user.locked_until = now + timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
            user.failed_logins = 0
            return SecondStep(
                Outcome.LOCKED, _("Too many failed attempts. Try again in a few minutes.")
            )
        return SecondStep(Outcome.WRONG, _("That code is not right, or it was used already."))
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit.record("login", user_id=user.id, second_factor=outcome.value)
    return SecondStep(outcome)


def _clear(user: User) -> None:
    user.totp_secret_encrypted = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def disable(user: User, *, password: str, code: str) -> None:
    """The holder turns the optional second factor off: password and a current code."""
    if is_required(user):
        raise SecondFactorError(_("Your role requires a second factor; it cannot be turned off."))
    if not verify_password(user.password_hash, password):
        raise SecondFactorError(_("The current password is wrong."))
    if not check_code(user, code):
        raise SecondFactorError(_("That code is not right, or it was used already."))
    _clear(user)
    audit.record("second_factor_disabled", user_id=user.id, target=user)
    db.session.flush()


def regenerate_recovery_codes(user: User, code: str) -> list[str]:
    if not check_code(user, code):
        raise SecondFactorError(_("That code is not right, or it was used already."))
    codes = new_recovery_codes(user)
    audit.record("recovery_codes_renewed", user_id=user.id, target=user)
    return codes


def _roles_outside(user_id: int, association: Association) -> int:
    with UNSCOPED_BYPASS("a second factor is reset only if all the user's roles lie below"):
        return len(
            db.session.scalars(
                select(Membership.id)
                .join(Association, Association.id == Membership.association_id)
                .where(Membership.user_id == user_id, ~subtree_filter(association.path))
            ).all()
        )


def resetting_association(actor: User, association: Association) -> Association | None:
    """The association strictly above `association` where `actor` is secretary, if any (the
    highest one: its subtree is the widest). Resets come from the level above only."""
    above = association.ancestor_ids[:-1]
    if not above:
        return None
    with UNSCOPED_BYPASS("the actor's own secretary roles above this association"):
        return db.session.scalar(
            select(Association)
            .join(Membership, Membership.association_id == Association.id)
            .where(
                Membership.user_id == actor.id,
                Membership.role == Role.SECRETARY,
                Association.id.in_(above),
            )
            .order_by(Association.depth)
            .limit(1)
        )


def reset(
    user: User,
    *,
    actor: User,
    association: Association | None = None,
    logged_at: Association | None = None,
) -> None:
    """Remove a lost second factor: the user enrols again at the next sign-in (if required)
    and every session of theirs ends now.

    `association`: the secretary's own association above; every role of the user must lie
    within its subtree (as for disabling a login). None: the platform operator acts.
    `logged_at`: the association whose people page it was done from, for its audit log."""
    if user.id == actor.id:
        raise SecondFactorError(_("You cannot reset your own second factor; ask the level above."))
    if association is None:
        if not actor.is_platform_admin:
            raise SecondFactorError(_("Only the level above can reset a second factor."))
    elif user.is_platform_admin or _roles_outside(user.id, association):
        raise SecondFactorError(
            _(
                "%(name)s also has access to associations outside yours; ask the level above them.",
                name=user.name,
            )
        )
    if not user.has_second_factor:
        raise SecondFactorError(_("%(name)s has no second factor to reset.", name=user.name))
    _clear(user)
    end_all_sessions(user)
    audit.record(
        "second_factor_reset",
        association_id=logged_at.id if logged_at else None,
        user_id=actor.id,
        target=user,
    )
    db.session.flush()
