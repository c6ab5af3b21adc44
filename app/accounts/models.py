"""People who sign in, and invitations that bring new people into an association."""

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.models import CreatedAtMixin, UTCDateTime
from app.extensions import db
from tenants.models import Association, Role, TenantMixin, new_stamp


class User(UserMixin, CreatedAtMixin, db.Model):
    """A person with a login. Not tenant-owned: one person may act in several associations."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Login name: an email address or a mainland mobile number, stored lower-case.
    login: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    password_hash: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(16))
    is_platform_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Second factor (TOTP, app/accounts/second_factor.py): the shared secret encrypted with the
    # field key, set when the holder confirmed a first code; the last accepted time step, so a
    # code is accepted once.
    totp_secret_encrypted: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # A new random value with every committed change to the user's roles (app/accounts/
    # roles_stamp.py): the key under which each worker keeps her access per association
    # (tenants/access.py), read with her session record at the start of every request.
    roles_stamp: Mapped[str | None] = mapped_column(String(32), default=new_stamp)

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    @property
    def has_second_factor(self) -> bool:
        return self.totp_enabled_at is not None

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class RecoveryCode(CreatedAtMixin, db.Model):
    """A one-time code that signs in instead of the second factor when the phone is lost.
    Only a SHA-256 of the code is kept: the codes are random (80 bits), so no slow hash is
    needed, and a database leak hands out no working code."""

    __tablename__ = "recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UserSession(CreatedAtMixin, db.Model):
    """One signed-in browser: what lets a session be listed, expired and ended on the server.

    The browser's server-side session holds only this record's id; deleting the record signs
    that browser out on its next request. Not tenant-owned: it belongs to the person."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Staff roles get the shorter idle limit (IDLE_TIMEOUT_STAFF_MINUTES).
    staff: Mapped[bool] = mapped_column(Boolean, default=True)
    # Moved forward at most once a minute (session_records.TOUCH_INTERVAL), not on every request.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    def __repr__(self) -> str:
        return f"<UserSession of user {self.user_id}>"


class StoredSession(db.Model):
    """Flask-Session's server-side session data, keyed by the random id in the cookie
    (app/accounts/session_store.py). The table comes from a migration, never from the app."""

    __tablename__ = "flask_sessions"

    session_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Invitation(TenantMixin, CreatedAtMixin, db.Model):
    """A one-time link inviting someone to take a role in an association."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("association_id", "token_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(60))
    role: Mapped[Role] = mapped_column(
        db.Enum(Role, native_enum=False, length=20, values_callable=lambda r: [x.value for x in r])
    )
    # Only a hash is stored: a database leak must not hand out working links.
    token_hash: Mapped[str] = mapped_column(String(64), index=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    association: Mapped[Association] = relationship(lazy="joined", innerjoin=True)

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= utcnow():
            return "expired"
        return "pending"


class PhoneSignInCode(CreatedAtMixin, db.Model):
    """A six-digit code sent by SMS to sign a member in (app/members/phone_sign_in.py). The
    phone is kept as its keyed hash and the code as a salted keyed hash: a database leak
    yields neither the numbers nor working codes."""

    __tablename__ = "phone_sign_in_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    code_hash: Mapped[str] = mapped_column(String(120))  # "salt$hmac"
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
