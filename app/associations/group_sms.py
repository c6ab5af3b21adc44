"""Messages to a group by SMS (群发): who is in the group — all active members, members in
arrears, an event's sign-ups, a volunteer team, the households linked to a central household
(中心户) — what it will cost, and queuing one outbox message per recipient
(app/core/sms_outbox.py) under a key per (message, recipient), so a repeated send or a retry
never reaches anyone twice. Numbers that opted out are left out and counted; the association's
monthly cap holds back the rest ("capped"). Each recipient's delivery state is read back from
the outbox rows of the message (`recipient_states`)."""

import enum
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Integer, String, or_, select
from sqlalchemy.orm import Mapped, mapped_column

from app.accounts.models import User
from app.core import audit, crypto
from app.core.clock import china_today
from app.core.models import CreatedAtMixin, string_enum, utcnow
from app.core.sms_outbox import (
    SmsMessage,
    SmsStatus,
    monthly_cap,
    monthly_usage,
    opted_out_phones,
    price_fen,
    queue_many,
)
from app.extensions import db
from app.members.idnumbers import MOBILE
from app.members.models import Household, Member, MemberStatus
from tenants.models import Association, TenantMixin


class Group(enum.StrEnum):
    MEMBERS = "members"  # every active member with a phone in the register
    ARREARS = "arrears"  # members with this year's dues still open
    EVENT = "event"  # the confirmed and waitlisted sign-ups of one event
    TEAM = "team"  # the volunteers of one team
    CENTRAL = "central"  # the members of a central household (中心户) and its linked households


GROUP_LABELS = {
    Group.MEMBERS: _l("All active members"),
    Group.ARREARS: _l("Members in arrears this year"),
    Group.EVENT: _l("Sign-ups of an event"),
    Group.TEAM: _l("A volunteer team"),
    Group.CENTRAL: _l("Households of a central household (中心户)"),
}
TARGETED = (Group.EVENT, Group.TEAM, Group.CENTRAL)


class GroupMessage(TenantMixin, CreatedAtMixin, db.Model):
    """One message sent to a group; its recipients are the outbox rows "group:<id>:…"."""

    __tablename__ = "group_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group: Mapped[Group] = mapped_column(string_enum(Group))
    # The event, team or central household of a targeted group, and its name then.
    target_id: Mapped[int | None] = mapped_column(Integer)
    target_label: Mapped[str] = mapped_column(String(200), default="", server_default="")
    body: Mapped[str] = mapped_column(String(300))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    opted_out: Mapped[int] = mapped_column(Integer, default=0)
    capped: Mapped[int] = mapped_column(Integer, default=0)


@dataclass(frozen=True)
class Recipient:
    key: str  # "<member id>" (as before), "v<volunteer id>" or "u<user id>"
    name: str
    phone: str


@dataclass(frozen=True)
class Preview:
    recipients: int  # numbers that will be sent to
    opted_out: int  # left out: opted out of notices
    over_cap: int  # of the recipients, held back by the monthly cap
    cost_fen: int


def choices() -> list[tuple[str, str]]:
    """The groups to pick from: "members", "arrears", "event:<id>", "team:<id>",
    "central:<id>" (upcoming events, every team, every central household)."""
    from app.events.models import Event
    from app.volunteers.models import Team

    options = [(Group.MEMBERS.value, str(GROUP_LABELS[Group.MEMBERS]))]
    options.append((Group.ARREARS.value, str(GROUP_LABELS[Group.ARREARS])))
    for event_id, title in db.session.execute(
        select(Event.id, Event.title).where(Event.ends_at > utcnow()).order_by(Event.starts_at)
    ):
        options.append((f"event:{event_id}", f"{GROUP_LABELS[Group.EVENT]}：{title}"))
    for team_id, name in db.session.execute(select(Team.id, Team.name).order_by(Team.name)):
        options.append((f"team:{team_id}", f"{GROUP_LABELS[Group.TEAM]}：{name}"))
    for household_id, address in db.session.execute(
        select(Household.id, Household.address)
        .where(Household.is_central.is_(True))
        .order_by(Household.address)
    ):
        options.append((f"central:{household_id}", f"{GROUP_LABELS[Group.CENTRAL]}：{address}"))
    return options


def parse_choice(value: str) -> tuple[Group, int | None]:
    """("event", 12) from "event:12"; ValueError for anything else."""
    kind, _sep, target = value.partition(":")
    group = Group(kind)
    if group in TARGETED:
        return group, int(target)
    if target:
        raise ValueError(value)
    return group, None


def label_of(value: str) -> str:
    return dict(choices()).get(value, "")


def _member_rows(query) -> list[Recipient]:
    return [
        Recipient(str(member_id), name, crypto.decrypt(encrypted))
        for member_id, name, encrypted in db.session.execute(query)
        if encrypted
    ]


def _members(group: Group, target_id: int | None) -> list[Recipient]:
    query = select(Member.id, Member.name, Member.phone_encrypted).where(
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
    elif group == Group.CENTRAL:
        households = select(Household.id).where(
            or_(Household.id == target_id, Household.central_household_id == target_id)
        )
        query = query.where(Member.household_id.in_(households))
    return _member_rows(query.order_by(Member.id))


def _event_signups(event_id: int) -> list[Recipient]:
    """Confirmed and waitlisted sign-ups: the register's phone of the member who signed up,
    else her login when it is a mobile number (walk-ins without an account have none)."""
    from app.events.models import Registration, RegistrationStatus

    rows = db.session.execute(
        select(
            Registration.user_id, Registration.name, Member.id, Member.phone_encrypted, User.login
        )
        .join(User, User.id == Registration.user_id)
        .outerjoin(Member, Member.user_id == Registration.user_id)
        .where(
            Registration.event_id == event_id,
            Registration.status.in_((RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)),
        )
        .order_by(Registration.id)
    )
    recipients = []
    for user_id, name, member_id, encrypted, login in rows:
        phone = crypto.decrypt(encrypted) if encrypted else None
        if not phone and login and MOBILE.match(login):
            phone = login
        if phone:
            key = str(member_id) if member_id else f"u{user_id}"
            recipients.append(Recipient(key, name, phone))
    return recipients


def _team(team_id: int) -> list[Recipient]:
    from app.volunteers.models import TeamMember, Volunteer

    rows = db.session.execute(
        select(
            Volunteer.id,
            Volunteer.name,
            Volunteer.phone_encrypted,
            Member.name,
            Member.phone_encrypted,
        )
        .join(TeamMember, TeamMember.volunteer_id == Volunteer.id)
        .outerjoin(Member, Member.id == Volunteer.member_id)
        .where(TeamMember.team_id == team_id)
        .order_by(Volunteer.id)
    )
    recipients = []
    for volunteer_id, name, own_phone, member_name, member_phone in rows:
        encrypted = member_phone or own_phone
        if encrypted:
            recipients.append(
                Recipient(f"v{volunteer_id}", member_name or name, crypto.decrypt(encrypted))
            )
    return recipients


def recipients_of(group: Group, target_id: int | None) -> tuple[list[Recipient], int]:
    """Each distinct number to send to (the first person holding it), and how many numbers
    opted out."""
    if group == Group.EVENT:
        found = _event_signups(target_id)
    elif group == Group.TEAM:
        found = _team(target_id)
    else:
        found = _members(group, target_id)
    chosen: dict[str, Recipient] = {}
    for recipient in found:
        chosen.setdefault(recipient.phone, recipient)
    stopped = opted_out_phones(list(chosen))
    kept = [recipient for phone, recipient in chosen.items() if phone not in stopped]
    return kept, len(stopped)


def preview(association: Association, group: Group, target_id: int | None = None) -> Preview:
    recipients, opted_out = recipients_of(group, target_id)
    room = max(monthly_cap() - monthly_usage(association.id)[0], 0)
    sendable = min(len(recipients), room)
    return Preview(len(recipients), opted_out, len(recipients) - sendable, sendable * price_fen())


def send(
    association: Association,
    group: Group,
    body: str,
    *,
    sent_by_id: int | None,
    target_id: int | None = None,
    target_label: str = "",
) -> tuple:
    """Queue the message for every recipient (flushes; the caller commits, then dispatches
    the returned outbox rows)."""
    recipients, opted_out = recipients_of(group, target_id)
    message = GroupMessage(
        group=group,
        target_id=target_id,
        target_label=target_label[:200],
        body=body,
        sent_by_id=sent_by_id,
        opted_out=opted_out,
    )
    db.session.add(message)
    db.session.flush()
    params = {"association": association.name, "content": body}
    rows = queue_many(
        [
            (f"group:{message.id}:{r.key}", r.phone, params, f"{association.name}: {body}")
            for r in recipients
        ],
        "group_notice",
        association_id=association.id,
    )
    message.recipients = len(rows)
    message.capped = sum(1 for row in rows if row.status == SmsStatus.CAPPED)
    audit.record(
        "group_message_sent",
        association_id=association.id,
        target=message,
        group=group.value,
        target_id=target_id,
        recipients=message.recipients,
        opted_out=opted_out,
        capped=message.capped,
    )
    return message, rows


def recent_group_messages(limit: int = 20) -> list[GroupMessage]:
    return list(
        db.session.scalars(select(GroupMessage).order_by(GroupMessage.id.desc()).limit(limit))
    )


@dataclass(frozen=True)
class RecipientState:
    name: str
    phone_masked: str
    status: SmsStatus
    sent_at: object
    delivered_at: object
    delivery_error: str | None


def recipient_states(message: GroupMessage) -> list[RecipientState]:
    """Each recipient of one group message with her message's state: three queries, whatever
    the number of recipients (the outbox rows, then the names of members and volunteers)."""
    from app.volunteers.models import Volunteer

    prefix = f"group:{message.id}:"
    rows = list(
        db.session.scalars(
            select(SmsMessage)
            .where(
                SmsMessage.association_id == message.association_id,
                SmsMessage.idempotency_key.startswith(prefix, autoescape=True),
            )
            .order_by(SmsMessage.id)
        )
    )
    keys = [row.idempotency_key.removeprefix(prefix) for row in rows]
    member_ids = [int(key) for key in keys if key.isdigit()]
    volunteer_ids = [int(key[1:]) for key in keys if key.startswith("v") and key[1:].isdigit()]
    names = {
        str(member_id): name
        for member_id, name in db.session.execute(
            select(Member.id, Member.name).where(Member.id.in_(member_ids))
        )
    }
    for volunteer in db.session.scalars(select(Volunteer).where(Volunteer.id.in_(volunteer_ids))):
        names[f"v{volunteer.id}"] = volunteer.name
    return [
        RecipientState(
            names.get(key, ""),
            row.phone_masked,
            row.status,
            row.sent_at,
            row.delivered_at,
            row.delivery_error,
        )
        for key, row in zip(keys, rows, strict=True)
    ]
