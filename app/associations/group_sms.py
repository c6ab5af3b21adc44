"""Messages to a group of members by SMS (群发): who is in the group, what it will cost, and
queuing one outbox message per recipient (app/core/sms_outbox.py) under a key per (message,
member), so a repeated send or a retry never reaches anyone twice. Numbers that opted out are
left out and counted; the association's monthly cap holds back the rest ("capped")."""

import enum
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from app.core import audit, crypto
from app.core.clock import china_today
from app.core.models import CreatedAtMixin, string_enum
from app.core.sms_outbox import (
    SmsMessage,
    SmsStatus,
    is_opted_out,
    monthly_cap,
    monthly_usage,
    price_fen,
    queue_sms,
)
from app.extensions import db
from app.members.models import Member, MemberStatus
from tenants.models import Association, TenantMixin


class Group(enum.StrEnum):
    MEMBERS = "members"  # every active member with a phone in the register
    ARREARS = "arrears"  # members with this year's dues still open


GROUP_LABELS = {
    Group.MEMBERS: _l("All active members"),
    Group.ARREARS: _l("Members in arrears this year"),
}


class GroupMessage(TenantMixin, CreatedAtMixin, db.Model):
    """One message sent to a group; its recipients are the outbox rows "group:<id>:…"."""

    __tablename__ = "group_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group: Mapped[Group] = mapped_column(string_enum(Group))
    body: Mapped[str] = mapped_column(String(300))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    opted_out: Mapped[int] = mapped_column(Integer, default=0)
    capped: Mapped[int] = mapped_column(Integer, default=0)


@dataclass(frozen=True)
class Preview:
    recipients: int  # numbers that will be sent to
    opted_out: int  # left out: opted out of notices
    over_cap: int  # of the recipients, held back by the monthly cap
    cost_fen: int


def _members_of(group: Group) -> list[Member]:
    query = select(Member).where(
        Member.status == MemberStatus.ACTIVE, Member.phone_encrypted.is_not(None)
    )
    if group == Group.ARREARS:
        from app.dues.models import Charge  # dues sits above the registers

        query = query.where(
            Member.id.in_(
                select(Charge.member_id).where(
                    Charge.year == china_today().year,
                    Charge.exempt.is_(False),
                    Charge.paid_fen < Charge.amount_due_fen,
                )
            )
        )
    return list(db.session.scalars(query.order_by(Member.id)))


def _phones(group: Group) -> tuple[list[tuple[int, str]], int]:
    """(member id, phone) of each distinct number to send to, and how many opted out."""
    chosen: dict[str, int] = {}
    opted_out = 0
    for member in _members_of(group):
        phone = crypto.decrypt(member.phone_encrypted)
        if not phone or phone in chosen:
            continue
        if is_opted_out(phone):
            opted_out += 1
            continue
        chosen[phone] = member.id
    return [(member_id, phone) for phone, member_id in chosen.items()], opted_out


def preview(association: Association, group: Group) -> Preview:
    recipients, opted_out = _phones(group)
    room = max(monthly_cap() - monthly_usage(association.id)[0], 0)
    sendable = min(len(recipients), room)
    return Preview(len(recipients), opted_out, len(recipients) - sendable, sendable * price_fen())


def send(association: Association, group: Group, body: str, *, sent_by_id: int) -> tuple:
    """Queue the message for every recipient (flushes; the caller commits, then dispatches
    the returned outbox rows)."""
    recipients, opted_out = _phones(group)
    message = GroupMessage(group=group, body=body, sent_by_id=sent_by_id, opted_out=opted_out)
    db.session.add(message)
    db.session.flush()
    rows: list[SmsMessage] = []
    for member_id, phone in recipients:
        rows.append(
            queue_sms(
                f"group:{message.id}:{member_id}",
                phone,
                "group_notice",
                {"association": association.name, "content": body},
                text=f"{association.name}: {body}",
                association_id=association.id,
            )
        )
    message.recipients = len(rows)
    message.capped = sum(1 for row in rows if row.status == SmsStatus.CAPPED)
    audit.record(
        "group_message_sent",
        association_id=association.id,
        target=message,
        group=group.value,
        recipients=message.recipients,
        opted_out=opted_out,
        capped=message.capped,
    )
    return message, rows
