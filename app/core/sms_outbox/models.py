"""The outbox's tables: one row per SMS, the numbers that opted out of notices, and the
consents to notices that secretaries recorded."""

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import BigId, CreatedAtMixin, UTCDateTime, string_enum
from app.extensions import db


class SmsStatus(enum.StrEnum):
    QUEUED = "queued"
    CLAIMED = "claimed"  # taken by a worker for its next batch, not yet sent
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    CAPPED = "capped"  # over the association's monthly cap: not sent
    OPTED_OUT = "opted_out"  # the number replied 退订/TD or used the link: notices not sent


# Counted against the monthly cap (a queued message will cost once it goes).
COUNTED = (
    SmsStatus.QUEUED,
    SmsStatus.CLAIMED,
    SmsStatus.SENDING,
    SmsStatus.SENT,
    SmsStatus.UNCERTAIN,
)


class SmsMessage(CreatedAtMixin, db.Model):
    __tablename__ = "sms_messages"
    __table_args__ = (
        Index("ix_sms_messages_association_created", "association_id", "created_at"),
        Index("ix_sms_messages_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    association_id: Mapped[int | None] = mapped_column(
        ForeignKey("associations.id", ondelete="CASCADE")
    )
    template: Mapped[str] = mapped_column(String(40))
    phone_encrypted: Mapped[str] = mapped_column(Text)
    phone_masked: Mapped[str] = mapped_column(String(11))
    # Template parameters may hold a sign-in code: encrypted like the phone.
    params_encrypted: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(String(500), default="")
    quiet_hours: Mapped[bool] = mapped_column(default=True)  # sign-in codes ignore them
    status: Mapped[SmsStatus] = mapped_column(string_enum(SmsStatus), default=SmsStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(String(80))
    # The token of the worker's claim while "claimed" (next_attempt_at is then its lease).
    claim: Mapped[str | None] = mapped_column(String(32))
    cost_fen: Mapped[int] = mapped_column(Integer, default=0)
    # The provider's delivery report (SmsReport): reached the handset, or why not.
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivery_error: Mapped[str | None] = mapped_column(String(80))


class SmsOptOut(CreatedAtMixin, db.Model):
    """A number that asked for no more notices (PIPL: withdrawing consent), by replying
    退订 / TD or by the link in a notice. Sign-in codes, which she asks for, still go."""

    __tablename__ = "sms_opt_outs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(20))  # "reply" or "link"


class ConsentMethod(enum.StrEnum):
    PAPER_FORM = "paper_form"  # signed on the register's paper form
    ONLINE_FORM = "online_form"  # ticked by the person herself on a form
    VERBAL = "verbal"  # said so to the secretary, who notes when


class SmsConsent(CreatedAtMixin, db.Model):
    """A number's consent to the association's notices by SMS (PIPL: when, how, for what), as
    the secretary recorded it. Withdrawn by opting out (SmsOptOut), which always wins."""

    __tablename__ = "sms_consents"
    __table_args__ = (UniqueConstraint("association_id", "phone_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    association_id: Mapped[int] = mapped_column(
        ForeignKey("associations.id", ondelete="CASCADE"), index=True
    )
    phone_hash: Mapped[str] = mapped_column(String(64))
    phone_masked: Mapped[str] = mapped_column(String(11))
    method: Mapped[ConsentMethod] = mapped_column(string_enum(ConsentMethod))
    consented_on: Mapped[date] = mapped_column(Date)
    purpose: Mapped[str] = mapped_column(String(200))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
