"""The rules of dues: the yearly plans and their defaults, the charges they generate, and
exemptions. Payments and receipt numbers are in app.dues.payments, the central households'
collection in app.dues.central_collection, arrears and the collection figures in
app.dues.figures.

Everything here runs inside a tenant scope (the request's, or one a job sets) and flushes;
the caller commits. Money is integer fen throughout.
"""

import calendar
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from app.core.clock import china_today
from app.core.dates import date_problem
from app.core.problems import Problem
from app.dues.models import Charge, DuesPlan, DuesSettings, Exemption, JoinRule
from app.extensions import db
from app.members.models import Member, MemberStatus

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


def member_by_user(user_id: int) -> Member | None:
    return db.session.scalar(select(Member).where(Member.user_id == user_id))
