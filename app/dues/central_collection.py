"""Dues through central households (中心户): the group of households each one collects from,
a collection handed over at once (one payment and receipt per member, all or nothing), and
the per-household figures of the year."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from app.core.dates import date_problem
from app.dues.models import Charge, CollectionBatch, Payment, PaymentAllocation, PaymentMethod
from app.dues.payments import PaymentInput, check_payment, open_charge, record_offline_payment
from app.dues.services import DuesInvalid, today
from app.extensions import db
from app.members.models import Household, Member

# --- central households (中心户) ------------------------------------------------------------


def central_households() -> list[Household]:
    return list(
        db.session.scalars(
            select(Household).where(Household.is_central.is_(True)).order_by(Household.address)
        )
    )


def load_central_household(household_id: int) -> Household | None:
    return db.session.scalar(
        select(Household).where(Household.id == household_id, Household.is_central.is_(True))
    )


def group_household_ids(central_household_id: int):
    """The central household itself and the households linked to it."""
    return select(Household.id).where(
        or_(
            Household.id == central_household_id,
            Household.central_household_id == central_household_id,
        )
    )


def group_charges(central_household: Household, year: int) -> list[tuple[Charge, Member]]:
    """The year's charges of the members living in a central household's group."""
    return list(
        db.session.execute(
            select(Charge, Member)
            .join(Member, Member.id == Charge.member_id)
            .where(
                Charge.year == year,
                Member.household_id.in_(group_household_ids(central_household.id)),
            )
            .order_by(Member.name, Member.id)
            .execution_options(populate_existing=True)
        ).all()
    )


@dataclass
class CollectionShare:
    charge_id: int
    amount_fen: int


def record_collection(
    central_household: Household,
    *,
    year: int,
    collected_on: date | None,
    collector_name: str,
    method: PaymentMethod,
    shares: Sequence[CollectionShare],
    recorded_by_id: int | None,
    on: date | None = None,
) -> tuple[CollectionBatch, list[Payment]]:
    """Money a central household collected from its group, handed over at once: one payment
    (with its own receipt) per member, grouped by a batch. All or nothing: a share that breaks
    a rule refuses the whole collection, before anything is written."""
    on = on or today()
    collector_name = (collector_name or "").strip()
    problems = {}
    if collected_on is None:
        problems["collected_on"] = _l("Enter the date of the payment.")
    elif problem := date_problem(collected_on, today=on):
        problems["collected_on"] = problem
    elif collected_on > on:
        problems["collected_on"] = _l("The payment date cannot be in the future.")
    if not collector_name:
        problems["collector_name"] = _l("Enter who collected the money.")
    shares = [share for share in shares if share.amount_fen]
    if not shares:
        problems[""] = _l("Enter at least one amount.")
    if any(share.amount_fen < 0 for share in shares):
        problems[""] = _l("The amount must be more than zero.")
    if problems:
        raise DuesInvalid(problems)
    in_group = {
        charge.id: (charge, member) for charge, member in group_charges(central_household, year)
    }
    for share in shares:
        if share.charge_id not in in_group:
            raise DuesInvalid({"": _l("That charge does not belong to this central household.")})
        charge, member = in_group[share.charge_id]
        try:
            check_payment(
                _share_payment(share, member, collected_on, method, collector_name), on=on
            )
            open_charge(charge, share.amount_fen)
        except DuesInvalid as invalid:
            raise DuesInvalid({"": f"{member.name}: {invalid.message}"}) from None
    batch = CollectionBatch(
        central_household_id=central_household.id,
        collected_on=collected_on,
        collector_name=collector_name[:60],
        recorded_by_id=recorded_by_id,
    )
    db.session.add(batch)
    db.session.flush()
    payments = []
    for share in shares:
        charge, member = in_group[share.charge_id]
        payment = record_offline_payment(
            charge,
            _share_payment(share, member, collected_on, method, collector_name),
            recorded_by_id=recorded_by_id,
            on=on,
            collection_batch=batch,
        )
        payments.append(payment)
    return batch, payments


def _share_payment(share, member, collected_on, method, collector_name) -> PaymentInput:
    return PaymentInput(
        paid_on=collected_on,
        amount_fen=share.amount_fen,
        method=method,
        payer_name=member.name,
        note=collector_name,
    )


@dataclass
class CentralHouseholdFigures:
    household: Household
    members: int = 0
    due_fen: int = 0
    paid_fen: int = 0
    collected_fen: int = 0  # paid through this central household's collections

    @property
    def open_fen(self) -> int:
        return self.due_fen - self.paid_fen


def central_household_figures(year: int) -> list[CentralHouseholdFigures]:
    """Per central household, for the year: due (exemptions left out), paid, still open, and
    what came in through its collections. Three queries whatever the number of households."""
    figures = {h.id: CentralHouseholdFigures(h) for h in central_households()}
    group_of = func.coalesce(Household.central_household_id, Household.id)
    rows = db.session.execute(
        select(
            group_of,
            func.count(Charge.id),
            func.sum(Charge.amount_due_fen),
            func.sum(Charge.paid_fen),
        )
        .select_from(Charge)
        .join(Member, Member.id == Charge.member_id)
        .join(Household, Household.id == Member.household_id)
        .where(Charge.year == year, Charge.exempt.is_(False))
        .group_by(group_of)
    )
    for group_id, count, due, paid in rows:
        if group_id in figures:
            figures[group_id].members = count
            # PostgreSQL sums integers as numeric: back to int fen.
            figures[group_id].due_fen = int(due or 0)
            figures[group_id].paid_fen = int(paid or 0)
    collected = db.session.execute(
        select(Payment.collected_via_household_id, func.sum(PaymentAllocation.amount_fen))
        .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
        .join(Charge, Charge.id == PaymentAllocation.charge_id)
        .where(
            Charge.year == year,
            Payment.voided_at.is_(None),
            Payment.collected_via_household_id.is_not(None),
        )
        .group_by(Payment.collected_via_household_id)
    )
    for household_id, amount in collected:
        if household_id in figures:
            figures[household_id].collected_fen = int(amount or 0)
    return list(figures.values())
