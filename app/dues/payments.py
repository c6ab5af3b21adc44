"""Offline payments of dues: receipt numbers, recording cash, bank-transfer and other money
against a charge, voids, and the payment lists. Checked in full before anything is written,
so a refusal leaves nothing flushed; the caller commits. Money is integer fen."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.core import audit
from app.core.clock import utcnow
from app.core.dates import date_problem
from app.core.money import yuan_text
from app.dues.models import (
    OFFLINE_METHODS,
    Charge,
    CollectionBatch,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    ReceiptSequence,
)
from app.dues.services import DuesInvalid, load_charge, today
from app.extensions import db
from app.members.models import Member, member_is_live

# --- receipts and payments -------------------------------------------------------------------


def next_receipt_number(year: int) -> str:
    """The association's next receipt number for the year, e.g. "2026-00042".

    The UPDATE … +1 locks the sequence row until the transaction ends, so concurrent payments
    queue on it and never share a number (on SQLite writers are serialised anyway); the first
    number of a year inserts the row, and a concurrent first insert falls back to the UPDATE.
    """
    for _attempt in range(3):
        bumped = db.session.execute(
            update(ReceiptSequence)
            .where(ReceiptSequence.year == year)
            .values(last_number=ReceiptSequence.last_number + 1)
            .execution_options(synchronize_session=False)
        )
        if bumped.rowcount:
            number = db.session.scalar(
                select(ReceiptSequence.last_number)
                .where(ReceiptSequence.year == year)
                .execution_options(populate_existing=True)
            )
            return f"{year}-{number:05d}"
        try:
            with db.session.begin_nested():
                db.session.add(ReceiptSequence(year=year, last_number=1))
            return f"{year}-{1:05d}"
        except IntegrityError:
            continue
    raise RuntimeError("could not take a receipt number")


@dataclass(frozen=True)
class PaymentInput:
    paid_on: date | None
    amount_fen: int | None
    method: PaymentMethod
    payer_name: str
    note: str = ""


def check_payment(data: PaymentInput, *, on: date) -> None:
    problems = {}
    if data.amount_fen is None or data.amount_fen <= 0:
        problems["amount"] = _l("The amount must be more than zero.")
    if data.paid_on is None:
        problems["paid_on"] = _l("Enter the date of the payment.")
    elif problem := date_problem(data.paid_on, today=on):
        problems["paid_on"] = problem
    elif data.paid_on > on:
        problems["paid_on"] = _l("The payment date cannot be in the future.")
    if not (data.payer_name or "").strip():
        problems["payer_name"] = _l("Enter who paid.")
    if data.method not in OFFLINE_METHODS:
        problems["method"] = _l("Choose cash, bank transfer or other.")
    if problems:
        raise DuesInvalid(problems)


def open_charge(charge: Charge, amount_fen: int) -> Charge:
    """The charge, locked (PostgreSQL) so two payments cannot both take the same open amount,
    once it is known to take `amount_fen`: not exempt, not paid, not overpaid. Nothing is
    written before this check, so a refusal leaves the session clean."""
    locked = load_charge(charge.id, for_update=True)
    if locked is None:
        raise DuesInvalid({"": _l("That charge does not exist.")})
    if locked.exempt:
        raise DuesInvalid({"amount": _l("The member is exempt for %(year)d.", year=locked.year)})
    if locked.open_fen <= 0:
        raise DuesInvalid(
            {"amount": _l("The dues for %(year)d are paid already.", year=locked.year)}
        )
    if amount_fen > locked.open_fen:
        raise DuesInvalid(
            {
                "amount": _l(
                    "That is more than is still open for %(year)d (%(open)s).",
                    year=locked.year,
                    open=yuan_text(locked.open_fen),
                )
            }
        )
    return locked


def record_offline_payment(
    charge: Charge,
    data: PaymentInput,
    *,
    recorded_by_id: int | None,
    on: date | None = None,
    collection_batch: CollectionBatch | None = None,
) -> Payment:
    """Cash, bank transfer or other money for one member's charge; partial payments are fine,
    more than is open is refused. The payment gets the next receipt number."""
    check_payment(data, on=on or today())
    locked = open_charge(charge, data.amount_fen)
    payment = Payment(
        member_id=charge.member_id,
        paid_on=data.paid_on,
        amount_fen=data.amount_fen,
        method=data.method,
        payer_name=data.payer_name.strip()[:60],
        note=(data.note or "").strip()[:200],
        receipt_number=next_receipt_number(data.paid_on.year),
        recorded_by_id=recorded_by_id,
        collection_batch_id=collection_batch.id if collection_batch else None,
        collected_via_household_id=(
            collection_batch.central_household_id if collection_batch else None
        ),
    )
    db.session.add(payment)
    db.session.flush()
    db.session.add(
        PaymentAllocation(payment_id=payment.id, charge_id=locked.id, amount_fen=data.amount_fen)
    )
    db.session.flush()
    db.session.expire(charge)
    return payment


def void_payment(payment: Payment, *, reason: str, voided_by_id: int | None) -> None:
    """Cancel a recorded payment (a mistake); it stays, marked void, and the audit log keeps
    the reason. Stripe payments are refunded through Stripe, not voided."""
    reason = (reason or "").strip()
    if payment.voided_at is not None:
        raise DuesInvalid({"": _l("This payment is already void.")})
    if payment.method == PaymentMethod.STRIPE:
        raise DuesInvalid({"": _l("Online payments are refunded through Stripe, not voided.")})
    if not reason:
        raise DuesInvalid({"reason": _l("Give the reason for voiding the payment.")})
    payment.voided_at = utcnow()
    payment.void_reason = reason[:200]
    payment.voided_by_id = voided_by_id
    db.session.flush()
    audit.record(
        "dues.payment_voided",
        association_id=payment.association_id,
        target=payment,
        receipt_number=payment.receipt_number,
        amount_fen=payment.amount_fen,
        reason=payment.void_reason,
    )


def load_payment(payment_id: int) -> Payment | None:
    return db.session.scalar(
        select(Payment).where(Payment.id == payment_id).execution_options(populate_existing=True)
    )


def payments_of(member_id: int) -> list[Payment]:
    return list(
        db.session.scalars(
            select(Payment)
            .where(Payment.member_id == member_id)
            .order_by(Payment.paid_on.desc(), Payment.id.desc())
        )
    )


def allocations_of(payment_ids: Sequence[int]) -> dict[int, list[tuple[int, int]]]:
    """{payment id: [(year, amount fen)]}, in one query."""
    result: dict[int, list[tuple[int, int]]] = {}
    if not payment_ids:
        return result
    rows = db.session.execute(
        select(PaymentAllocation.payment_id, Charge.year, PaymentAllocation.amount_fen)
        .join(Charge, Charge.id == PaymentAllocation.charge_id)
        .where(PaymentAllocation.payment_id.in_(payment_ids))
        .order_by(Charge.year)
    )
    for payment_id, year, amount in rows:
        result.setdefault(payment_id, []).append((year, amount))
    return result


def payments_query(year: int | None = None):
    """Payments with the member's name, newest first (for the paginated list)."""
    query = (
        select(Payment, Member.name)
        .outerjoin(Member, Member.id == Payment.member_id)
        .where(member_is_live(Payment.member_id))  # a deleted member's receipts go with her
        .order_by(Payment.paid_on.desc(), Payment.id.desc())
    )
    if year is not None:
        query = query.where(
            Payment.paid_on >= date(year, 1, 1), Payment.paid_on <= date(year, 12, 31)
        )
    return query
