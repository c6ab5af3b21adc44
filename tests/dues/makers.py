"""Makers of dues rows for tests (committed, each in the association's own scope)."""

import secrets
from datetime import date

from sqlalchemy import select

from app.dues import payments, services
from app.dues.models import DuesPlan, JoinRule, PaymentMethod
from app.extensions import db
from tenants.context import scope_for, tenant_context
from tests.factories import create_member

YEAR = 2026


def create_plan(
    association,
    *,
    year: int = YEAR,
    amount_fen: int = 3000,
    due_on: date | None = None,
    join_rule: JoinRule = JoinRule.FULL,
) -> int:
    with tenant_context(scope_for(association, writable=True)):
        plan = db.session.scalar(select(DuesPlan).where(DuesPlan.year == year))
        if plan is None:
            plan = services.save_plan(
                year=year,
                amount_fen=amount_fen,
                due_on=due_on or date(year, 6, 30),
                join_rule=join_rule,
                created_by_id=None,
            )
        plan_id = plan.id
        db.session.commit()
    return plan_id


def create_charge(association, *, member_id: int | None = None, year: int = YEAR, **plan_fields):
    """A plan for the year (if none) and a charge for a member (a new one unless given)."""
    create_plan(association, year=year, **plan_fields)
    if member_id is None:
        member_id = create_member(association, f"缴费人{secrets.token_hex(2)}").id
    with tenant_context(scope_for(association, writable=True)):
        plan = services.plan_for(year)
        from app.dues.models import Charge

        charge = db.session.scalar(
            select(Charge).where(Charge.member_id == member_id, Charge.year == year)
        )
        if charge is None:
            charge = Charge(member_id=member_id, year=year, amount_due_fen=plan.amount_fen)
            db.session.add(charge)
        db.session.commit()
        db.session.refresh(charge)
        db.session.expunge(charge)
    return charge


def create_payment(association, *, amount_fen: int = 1000, member_id: int | None = None):
    """A cash payment on a (new) member's charge for the year; committed."""
    charge = create_charge(association, member_id=member_id)
    with tenant_context(scope_for(association, writable=True)):
        payment = payments.record_offline_payment(
            services.load_charge(charge.id),
            payments.PaymentInput(
                paid_on=date(YEAR, 3, 1),
                amount_fen=amount_fen,
                method=PaymentMethod.CASH,
                payer_name="交款人",
            ),
            recorded_by_id=None,
            on=date(YEAR, 12, 31),
        )
        db.session.commit()
        db.session.refresh(payment)
        db.session.expunge(payment)
    return payment


def create_exemption(association, *, year: int = YEAR):
    member = create_member(association, f"免缴{secrets.token_hex(2)}")
    with tenant_context(scope_for(association, writable=True)):
        exemption = services.exempt(member, year=year, reason="困难家庭", created_by_id=None)
        db.session.commit()
        db.session.refresh(exemption)
        db.session.expunge(exemption)
    return exemption
