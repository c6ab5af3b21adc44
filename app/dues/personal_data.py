"""A member's section of the personal-data download: their dues and payments. Payments stay
as accounting records when the member is deleted (the foreign key clears the link)."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.core import personal_data
from app.core.i18n import local_date
from app.core.money import money
from app.core.personal_data import Section
from app.dues.models import Charge, Payment
from app.extensions import db
from app.members.models import Member


@personal_data.section(40)
def _dues(member: Member) -> Section:
    charges = db.session.scalars(
        select(Charge).where(Charge.member_id == member.id).order_by(Charge.year)
    ).all()
    payments = db.session.scalars(
        select(Payment).where(Payment.member_id == member.id).order_by(Payment.paid_on, Payment.id)
    ).all()
    rows = [[_l("Dues %(year)d", year=c.year), money(c.amount_due_fen), "", ""] for c in charges]
    rows += [
        [
            local_date(p.paid_on),
            money(p.amount_fen),
            p.receipt_number,
            _l("Void") if p.voided_at else "",
        ]
        for p in payments
    ]
    return Section(
        str(_l("Dues and payments")),
        [str(_l("Dues or date paid")), str(_l("Amount")), str(_l("Receipt")), ""],
        rows,
    )
