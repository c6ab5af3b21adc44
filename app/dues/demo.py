"""Demo dues for the README's community: the 2026 plan, charges for every member, one
hardship exemption, cash and bank payments (one of them void), a central household's collection
and the demo member's own partial payment, so every dues page has something to show."""

from datetime import date

from sqlalchemy import select

from app.dues import central_collection, payments, services
from app.dues.models import JoinRule, PaymentMethod
from app.extensions import db
from app.members.models import Household, Member
from tenants.context import scope_for, tenant_context
from tenants.models import Association

YEAR = 2026


def load_dues_sample(community: Association, *, member_user_id: int) -> None:
    on = date(YEAR, 11, 1)
    with tenant_context(scope_for(community, writable=True)):
        plan = services.save_plan(
            year=YEAR,
            amount_fen=3000,
            due_on=date(YEAR, 6, 30),
            join_rule=JoinRule.PRO_RATA,
            created_by_id=None,
        )
        members = list(db.session.scalars(select(Member).order_by(Member.id)))
        services.exempt(members[-1], year=YEAR, reason="低保困难家庭", created_by_id=None)
        services.generate_charges(plan)
        charge_of = {charge.member_id: charge for charge in services.charges_for_year(YEAR)}

        def pay(member, amount_fen, method, paid_on, payer=None):
            return payments.record_offline_payment(
                charge_of[member.id],
                payments.PaymentInput(
                    paid_on=paid_on,
                    amount_fen=amount_fen,
                    method=method,
                    payer_name=payer or member.name,
                ),
                recorded_by_id=None,
                on=on,
            )

        own = next(m for m in members if m.user_id == member_user_id)
        pay(own, 1000, PaymentMethod.CASH, date(YEAR, 3, 12))
        for index, member in enumerate(members[1:9]):
            method = PaymentMethod.BANK_TRANSFER if index % 3 == 0 else PaymentMethod.CASH
            pay(member, 3000, method, date(YEAR, 4, 1 + index))
        mistake = pay(members[9], 3000, PaymentMethod.CASH, date(YEAR, 4, 20))
        payments.void_payment(mistake, reason="录入错误，重复登记", voided_by_id=None)

        central = db.session.scalar(
            select(Household).where(Household.is_central.is_(True)).order_by(Household.id)
        )
        shares = [
            central_collection.CollectionShare(charge.id, charge.open_fen)
            for charge, _member in central_collection.group_charges(central, YEAR)
            if charge.open_fen
        ][:3]
        if shares:
            central_collection.record_collection(
                central,
                year=YEAR,
                collected_on=date(YEAR, 5, 20),
                collector_name="中心户户长",
                method=PaymentMethod.CASH,
                shares=shares,
                recorded_by_id=None,
                on=on,
            )
        db.session.flush()
