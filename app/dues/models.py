"""Tables of dues (会费): per-association settings, yearly plans, exemptions, charges, payments
with their allocations to charges, receipt-number sequences, central-household collection
batches and the reminder log.

Money is integer fen everywhere. A charge's paid amount is never stored: it is the sum of the
allocations of its non-voided payments minus their refunds (`Charge.paid_fen`, one correlated
subquery, so lists load it in the same query). Refunds (`Payment.refunded_fen`) only happen on
payments with a single allocation (Stripe payments), so the refund belongs to that one charge.

Foreign keys between dues tables are composite `(association_id, x_id)`, so the database
enforces "same association". Payments and collection batches point at the register (member,
household) with single-column `ON DELETE SET NULL` keys instead: money received must outlive
the deletion of a member on request (PIPL) or of a household, and a composite key cannot null
one of its columns portably (SQLite). The services load those rows through the tenant scope,
so they always belong to the same association.
"""

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
    and_,
    exists,
    func,
    select,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column

from app.core.clock import utcnow
from app.core.models import BigId, CreatedAtMixin, UTCDateTime, same_association_fk, string_enum
from app.core.soft_delete import hide_with_owner
from app.extensions import db
from app.members.models import member_is_live
from tenants.models import TenantMixin


class JoinRule(enum.StrEnum):
    """What a member who joins during the year owes for that year."""

    FULL = "full"
    PRO_RATA = "pro_rata"  # by the months left, counting the month of joining


class PaymentMethod(enum.StrEnum):
    CASH = "cash"
    BANK_TRANSFER = "bank_transfer"
    OTHER = "other"
    STRIPE = "stripe"


OFFLINE_METHODS = (PaymentMethod.CASH, PaymentMethod.BANK_TRANSFER, PaymentMethod.OTHER)


class ChargeStatus(enum.StrEnum):
    OPEN = "open"
    PARTLY_PAID = "partly_paid"
    PAID = "paid"
    EXEMPT = "exempt"


class ReminderStage(enum.StrEnum):
    BEFORE_DUE = "before_due"
    AFTER_DUE = "after_due"


class DuesSettings(TenantMixin, db.Model):
    """One row per association: the defaults a new year's plan copies, and the association's
    own Stripe Connect account (the platform never holds the association's money)."""

    __tablename__ = "dues_settings"
    __table_args__ = (
        UniqueConstraint("association_id"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("due_month BETWEEN 1 AND 12", name="due_month_range"),
        CheckConstraint("due_day BETWEEN 1 AND 31", name="due_day_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    due_month: Mapped[int] = mapped_column(Integer)
    due_day: Mapped[int] = mapped_column(Integer)
    join_rule: Mapped[JoinRule] = mapped_column(string_enum(JoinRule), default=JoinRule.FULL)
    # Globally unique: a webhook names the account, and the account names one association.
    stripe_account_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_charges_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DuesPlan(TenantMixin, CreatedAtMixin, db.Model):
    """A year's dues: amount, due date and join rule (copied from the settings, then its own)."""

    __tablename__ = "dues_plans"
    __table_args__ = (
        UniqueConstraint("association_id", "id"),
        UniqueConstraint("association_id", "year"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    join_rule: Mapped[JoinRule] = mapped_column(string_enum(JoinRule), default=JoinRule.FULL)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Exemption(TenantMixin, CreatedAtMixin, db.Model):
    """A member excused from a year's dues (e.g. hardship 困难), with the reason."""

    __tablename__ = "dues_exemptions"
    __table_args__ = (
        UniqueConstraint("association_id", "member_id", "year"),
        same_association_fk(
            "member_id", "members", name="fk_dues_exemptions_member", ondelete="CASCADE"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(BigId)
    year: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Charge(TenantMixin, CreatedAtMixin, db.Model):
    """What one member owes for one year. Its status is computed, never stored."""

    __tablename__ = "dues_charges"
    __table_args__ = (
        UniqueConstraint("association_id", "id"),
        UniqueConstraint("association_id", "member_id", "year"),
        same_association_fk(
            "member_id", "members", name="fk_dues_charges_member", ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["association_id", "year"],
            ["dues_plans.association_id", "dues_plans.year"],
            name="fk_dues_charges_plan",
            ondelete="CASCADE",
        ),
        CheckConstraint("amount_due_fen > 0", name="amount_positive"),
        Index("ix_dues_charges_association_year", "association_id", "year"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(BigId)
    year: Mapped[int] = mapped_column(Integer)
    amount_due_fen: Mapped[int] = mapped_column(Integer)

    @property
    def open_fen(self) -> int:
        """What is still to pay (0 when exempt)."""
        if self.exempt:
            return 0
        return max(self.amount_due_fen - self.paid_fen, 0)

    @property
    def status(self) -> ChargeStatus:
        if self.exempt:
            return ChargeStatus.EXEMPT
        if self.paid_fen >= self.amount_due_fen:
            return ChargeStatus.PAID
        if self.paid_fen > 0:
            return ChargeStatus.PARTLY_PAID
        return ChargeStatus.OPEN


class CollectionBatch(TenantMixin, CreatedAtMixin, db.Model):
    """Cash a central household (中心户) collected from its linked households and handed over in
    one go; each member's share is its own payment (own receipt), grouped by this batch."""

    __tablename__ = "dues_collection_batches"
    __table_args__ = (UniqueConstraint("association_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    central_household_id: Mapped[int | None] = mapped_column(
        ForeignKey("households.id", ondelete="SET NULL"), index=True
    )
    collected_on: Mapped[date] = mapped_column(Date)
    collector_name: Mapped[str] = mapped_column(String(60))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Payment(TenantMixin, CreatedAtMixin, db.Model):
    """Money received for one member's charge(s), with its receipt. Never deleted: a mistake is
    voided with a reason. Offline payments are recorded by the secretary; Stripe payments carry
    the Checkout Session and PaymentIntent ids."""

    __tablename__ = "dues_payments"
    __table_args__ = (
        UniqueConstraint("association_id", "id"),
        UniqueConstraint("association_id", "receipt_number"),
        UniqueConstraint("association_id", "stripe_checkout_session_id"),
        UniqueConstraint("association_id", "stripe_payment_intent_id"),
        same_association_fk(
            "collection_batch_id",
            "dues_collection_batches",
            name="fk_dues_payments_collection_batch",
        ),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("refunded_fen >= 0 AND refunded_fen <= amount_fen", name="refund_range"),
        CheckConstraint(
            "(voided_at IS NULL AND void_reason IS NULL) OR "
            "(voided_at IS NOT NULL AND void_reason IS NOT NULL)",
            name="void_has_reason",
        ),
        Index("ix_dues_payments_association_paid_on", "association_id", "paid_on"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The member the receipt is made out to.
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    paid_on: Mapped[date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(Integer)
    method: Mapped[PaymentMethod] = mapped_column(string_enum(PaymentMethod))
    payer_name: Mapped[str] = mapped_column(String(60))
    note: Mapped[str] = mapped_column(String(200), default="")
    receipt_number: Mapped[str] = mapped_column(String(20))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    void_reason: Mapped[str | None] = mapped_column(String(200))
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    collected_via_household_id: Mapped[int | None] = mapped_column(
        ForeignKey("households.id", ondelete="SET NULL"), index=True
    )
    collection_batch_id: Mapped[int | None] = mapped_column(Integer, index=True)
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(String(255))
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255))
    refunded_fen: Mapped[int] = mapped_column(Integer, default=0)
    disputed: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def voided(self) -> bool:
        return self.voided_at is not None

    @property
    def net_fen(self) -> int:
        return 0 if self.voided else self.amount_fen - self.refunded_fen


class PaymentAllocation(TenantMixin, db.Model):
    """The part of a payment that goes to one charge (one payment may cover several years)."""

    __tablename__ = "dues_payment_allocations"
    __table_args__ = (
        UniqueConstraint("association_id", "payment_id", "charge_id"),
        same_association_fk(
            "payment_id",
            "dues_payments",
            name="fk_dues_payment_allocations_payment",
            ondelete="CASCADE",
        ),
        same_association_fk(
            "charge_id",
            "dues_charges",
            name="fk_dues_payment_allocations_charge",
            ondelete="CASCADE",
        ),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        Index("ix_dues_payment_allocations_charge", "association_id", "charge_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    payment_id: Mapped[int] = mapped_column(BigId)
    charge_id: Mapped[int] = mapped_column(BigId)
    amount_fen: Mapped[int] = mapped_column(Integer)


class ReceiptSequence(TenantMixin, db.Model):
    """The last receipt number handed out per association and year; its row is locked (an
    UPDATE … +1) while a number is taken, so concurrent payments never share one."""

    __tablename__ = "dues_receipt_sequences"
    __table_args__ = (UniqueConstraint("association_id", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Reminder(TenantMixin, db.Model):
    """A reminder sent for a charge at one stage; the unique key makes each one go out once."""

    __tablename__ = "dues_reminders"
    __table_args__ = (
        UniqueConstraint("association_id", "charge_id", "stage"),
        same_association_fk(
            "charge_id", "dues_charges", name="fk_dues_reminders_charge", ondelete="CASCADE"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    charge_id: Mapped[int] = mapped_column(BigId)
    stage: Mapped[ReminderStage] = mapped_column(string_enum(ReminderStage))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# A charge's paid amount and exemption, as correlated subqueries loaded with the charge.
Charge.paid_fen = column_property(
    select(func.coalesce(func.sum(PaymentAllocation.amount_fen - Payment.refunded_fen), 0))
    .select_from(PaymentAllocation)
    .join(
        Payment,
        and_(
            Payment.id == PaymentAllocation.payment_id,
            Payment.association_id == PaymentAllocation.association_id,
        ),
    )
    .where(
        # With the association too, so the (association_id, charge_id) index is used.
        PaymentAllocation.association_id == Charge.association_id,
        PaymentAllocation.charge_id == Charge.id,
        Payment.voided_at.is_(None),
    )
    .correlate_except(PaymentAllocation, Payment)
    .scalar_subquery(),
    deferred=False,
)
Charge.exempt = column_property(
    exists()
    .where(
        Exemption.association_id == Charge.association_id,
        Exemption.member_id == Charge.member_id,
        Exemption.year == Charge.year,
    )
    .correlate_except(Exemption),
    deferred=False,
)

# While the secretary's delete of a member can be undone, her charges leave the lists, reminders
# and figures with her (app.core.soft_delete), and with them what is paid on them. Exemptions and
# payments are not registered: they are read per charge (Charge.exempt, Charge.paid_fen), where a
# criterion of their own would run once per listed charge; the payments list filters itself.
hide_with_owner(Charge, lambda cls: member_is_live(cls.member_id))
