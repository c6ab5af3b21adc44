"""The rules of dues: yearly plans and charges, exemptions, offline and central-household
payments with receipt numbers, voids, arrears, collection figures and reminders.

Everything here runs inside a tenant scope (the request's, or one a job sets) and flushes;
the caller commits. Money is integer fen throughout.
"""

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.core import audit
from app.core.clock import china_today, utcnow
from app.core.dates import date_problem
from app.core.money import yuan_text
from app.core.problems import Problem
from app.dues.models import (
    OFFLINE_METHODS,
    Charge,
    CollectionBatch,
    DuesPlan,
    DuesSettings,
    Exemption,
    JoinRule,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    ReceiptSequence,
)
from app.extensions import db
from app.members.models import Household, Member, MemberStatus, member_is_live

MAX_AMOUNT_FEN = 100_000_000  # ¥1,000,000: far above any yearly dues; stops typos


def today() -> date:
    """The date in China (dues dates are calendar dates there)."""
    return china_today()


class DuesInvalid(Problem):
    """Input that breaks a rule: {field name: translated message} (field "" for the form)."""


# --- settings and plans ----------------------------------------------------------------------


def current_settings() -> DuesSettings | None:
    return db.session.scalar(select(DuesSettings))


def plan_for(year: int) -> DuesPlan | None:
    return db.session.scalar(select(DuesPlan).where(DuesPlan.year == year))


def plans() -> list[DuesPlan]:
    return list(db.session.scalars(select(DuesPlan).order_by(DuesPlan.year.desc())))


def charge_count(year: int) -> int:
    return db.session.scalar(select(func.count(Charge.id)).where(Charge.year == year)) or 0


def _check_amount(amount_fen: int | None, field_name: str = "amount") -> None:
    if amount_fen is None or amount_fen <= 0:
        raise DuesInvalid({field_name: _l("The amount must be more than zero.")})
    if amount_fen > MAX_AMOUNT_FEN:
        raise DuesInvalid({field_name: _l("The amount is too large.")})


def save_plan(
    *, year: int, amount_fen: int, due_on: date, join_rule: JoinRule, created_by_id: int | None
) -> DuesPlan:
    """Create or change the year's plan; the settings keep it as next year's defaults.
    Once charges exist their amounts are fixed, so the amount can no longer change."""
    _check_amount(amount_fen)
    if problem := date_problem(due_on):
        raise DuesInvalid({"due_on": problem})
    if due_on.year != year:
        raise DuesInvalid({"due_on": _l("The due date must fall in the plan's year.")})
    plan = plan_for(year)
    if plan is None:
        plan = DuesPlan(year=year, created_by_id=created_by_id)
        db.session.add(plan)
    elif plan.amount_fen != amount_fen and charge_count(year):
        raise DuesInvalid(
            {"amount": _l("Charges for this year exist already: the amount can no longer change.")}
        )
    plan.amount_fen = amount_fen
    plan.due_on = due_on
    plan.join_rule = join_rule
    settings = current_settings()
    if settings is None:
        settings = DuesSettings()
        db.session.add(settings)
    settings.amount_fen = amount_fen
    settings.due_month = due_on.month
    settings.due_day = due_on.day
    settings.join_rule = join_rule
    db.session.flush()
    return plan


def default_plan_values(year: int) -> dict:
    """What a new plan's form starts with: the settings' defaults, else a common choice."""
    settings = current_settings()
    if settings is None:
        return {"amount_fen": 1000, "due_on": date(year, 6, 30), "join_rule": JoinRule.FULL}
    day = min(settings.due_day, calendar.monthrange(year, settings.due_month)[1])
    return {
        "amount_fen": settings.amount_fen,
        "due_on": date(year, settings.due_month, day),
        "join_rule": settings.join_rule,
    }


# --- charges ---------------------------------------------------------------------------------


def charge_amount(plan: DuesPlan, joined_on: date | None) -> int:
    """What a member owes for the plan's year: the full amount, or for someone who joined
    during that year under the pro-rata rule, the months left counting the month of joining
    (rounded half up to the fen, never below one fen)."""
    if plan.join_rule == JoinRule.FULL or joined_on is None or joined_on.year < plan.year:
        return plan.amount_fen
    months = 12 - joined_on.month + 1
    return max(1, (plan.amount_fen * months * 2 + 12) // 24)


def generate_charges(plan: DuesPlan) -> int:
    """A charge for every active member who has none for the year yet (members who joined
    after the year are skipped). Running it again creates nothing new. Returns how many."""
    charged = select(Charge.member_id).where(Charge.year == plan.year)
    members = db.session.execute(
        select(Member.id, Member.joined_on).where(
            Member.status == MemberStatus.ACTIVE,
            Member.id.not_in(charged),
            or_(Member.joined_on.is_(None), Member.joined_on <= date(plan.year, 12, 31)),
        )
    ).all()
    for member_id, joined_on in members:
        db.session.add(
            Charge(
                member_id=member_id, year=plan.year, amount_due_fen=charge_amount(plan, joined_on)
            )
        )
    db.session.flush()
    return len(members)


def charges_for_year(year: int) -> list[Charge]:
    return list(db.session.scalars(select(Charge).where(Charge.year == year)))


def load_charge(charge_id: int, *, for_update: bool = False) -> Charge | None:
    query = select(Charge).where(Charge.id == charge_id).execution_options(populate_existing=True)
    if for_update:
        query = query.with_for_update()
    return db.session.scalar(query)


def charges_of(member_id: int) -> list[Charge]:
    return list(
        db.session.scalars(
            select(Charge)
            .where(Charge.member_id == member_id)
            .order_by(Charge.year.desc())
            .execution_options(populate_existing=True)
        )
    )


# --- exemptions ------------------------------------------------------------------------------


def exempt(member: Member, *, year: int, reason: str, created_by_id: int | None) -> Exemption:
    reason = (reason or "").strip()
    if not reason:
        raise DuesInvalid({"reason": _l("Give the reason for the exemption.")})
    if db.session.scalar(
        select(Exemption.id).where(Exemption.member_id == member.id, Exemption.year == year)
    ):
        raise DuesInvalid({"year": _l("The member is already exempt for that year.")})
    charge = db.session.scalar(
        select(Charge).where(Charge.member_id == member.id, Charge.year == year)
    )
    if charge is not None and charge.paid_fen > 0:
        raise DuesInvalid(
            {"year": _l("Payments were recorded for that year: void them before exempting.")}
        )
    exemption = Exemption(
        member_id=member.id, year=year, reason=reason[:200], created_by_id=created_by_id
    )
    db.session.add(exemption)
    db.session.flush()
    return exemption


def remove_exemption(exemption: Exemption) -> None:
    db.session.delete(exemption)
    db.session.flush()


def exemptions_of(member_id: int) -> list[Exemption]:
    return list(
        db.session.scalars(
            select(Exemption).where(Exemption.member_id == member_id).order_by(Exemption.year)
        )
    )


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


def _check_payment(data: PaymentInput, *, on: date) -> None:
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


def _open_charge(charge: Charge, amount_fen: int) -> Charge:
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
    _check_payment(data, on=on or today())
    locked = _open_charge(charge, data.amount_fen)
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


def _group_household_ids(central_household_id: int):
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
                Member.household_id.in_(_group_household_ids(central_household.id)),
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
            _check_payment(
                _share_payment(share, member, collected_on, method, collector_name), on=on
            )
            _open_charge(charge, share.amount_fen)
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


# --- arrears and figures ---------------------------------------------------------------------


def arrears_query(year: int, *, central_household_id: int | None = None):
    """Charges of the year still (partly) open and not exempt, with member and household."""
    query = (
        select(Charge, Member, Household)
        .join(Member, Member.id == Charge.member_id)
        .outerjoin(Household, Household.id == Member.household_id)
        .where(
            Charge.year == year,
            Charge.exempt.is_(False),
            Charge.paid_fen < Charge.amount_due_fen,
        )
        .order_by(Member.name, Member.id)
    )
    if central_household_id is not None:
        query = query.where(Member.household_id.in_(_group_household_ids(central_household_id)))
    return query


def arrears(year: int, *, central_household_id: int | None = None) -> list:
    return list(
        db.session.execute(arrears_query(year, central_household_id=central_household_id)).all()
    )


@dataclass(frozen=True)
class CollectionFigures:
    """A year's collection: what is due (exempt charges left out), what is paid against it,
    how many members are exempt, and the rate paid ÷ due (None when nothing is due)."""

    year: int
    due_fen: int
    paid_fen: int
    exempt_count: int
    charges: int = 0
    paid_in_full: int = 0

    @property
    def open_fen(self) -> int:
        return self.due_fen - self.paid_fen

    @property
    def rate(self) -> float | None:
        return self.paid_fen / self.due_fen if self.due_fen else None


def collection_figures(year: int) -> CollectionFigures:
    """The current association's (or, inside `subtree_reads()`, the subtree's) collection
    figures for a year, in one query. For the dashboards: rate = paid ÷ due, exemptions
    excluded from due; a payment beyond a charge's amount never counts above it."""
    paid_capped = func.min(Charge.paid_fen, Charge.amount_due_fen)
    if db.session.get_bind().dialect.name == "postgresql":
        paid_capped = func.least(Charge.paid_fen, Charge.amount_due_fen)
    not_exempt = Charge.exempt.is_(False)
    row = db.session.execute(
        select(
            func.coalesce(func.sum(Charge.amount_due_fen).filter(not_exempt), 0),
            func.coalesce(func.sum(paid_capped).filter(not_exempt), 0),
            func.count(Charge.id).filter(Charge.exempt.is_(True)),
            func.count(Charge.id).filter(not_exempt),
            func.count(Charge.id).filter(
                and_(not_exempt, Charge.paid_fen >= Charge.amount_due_fen)
            ),
        ).where(Charge.year == year)
    ).one()
    return CollectionFigures(
        year=year,
        due_fen=int(row[0]),
        paid_fen=int(row[1]),
        exempt_count=int(row[2]),
        charges=int(row[3]),
        paid_in_full=int(row[4]),
    )


def member_by_user(user_id: int) -> Member | None:
    return db.session.scalar(select(Member).where(Member.user_id == user_id))
