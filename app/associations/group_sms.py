"""Messages to a group by SMS (群发): who is in the group — all active members, members in
arrears, an event's sign-ups, a volunteer team, the households linked to a central household
(中心户), and for a higher level the secretaries of the associations below it — what it will
cost, and queuing one outbox message per recipient (app/core/sms_outbox.py) under a key per
(message, recipient), so a repeated send or a retry never reaches anyone twice. Numbers that
opted out are left out and counted; the association's monthly cap holds back the rest
("capped"). Recipients with an account also find the message in their notification centre;
secretaries whose login is an e-mail address get it by e-mail. Each recipient's delivery state
is read back from the outbox rows of the message (`recipient_states`).

A message may be sent now or scheduled for a later moment (China time, within 30 days, outside
the quiet hours); `send_scheduled_group_messages` (every minute) sends it then, resolving its
recipients at that moment. It claims the message with a conditional UPDATE (scheduled → sent)
in the transaction that queues the recipients' messages, so two schedulers, or a cancel at the
same moment, cannot both win."""

import enum
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, Integer, String, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from app.accounts.models import User
from app.core import audit, crypto, inbox
from app.core.clock import CHINA, china_today
from app.core.jobs import periodic
from app.core.labels import KIND_LABELS
from app.core.models import CreatedAtMixin, UTCDateTime, string_enum, utcnow
from app.core.notifications import holders_below, mask_recipient, notify_after_commit
from app.core.problems import Problem
from app.core.sms_outbox import (
    SmsMessage,
    SmsStatus,
    dispatch,
    monthly_cap,
    monthly_usage,
    next_morning,
    opted_out_phones,
    price_fen,
    queue_many,
)
from app.extensions import db
from app.members.idnumbers import MOBILE
from app.members.models import Household, Member, MemberStatus
from tenants.context import UNSCOPED_BYPASS, scope_for, subtree_reads, tenant_context
from tenants.models import Association, AssociationKind, Membership, Role, TenantMixin

log = logging.getLogger("xiehui.group_sms")
SCHEDULE_AHEAD = timedelta(days=30)  # how far ahead a message may be scheduled
SCHEDULE_MARGIN = timedelta(minutes=5)  # a scheduled time is at least this far ahead


class Group(enum.StrEnum):
    MEMBERS = "members"  # every active member with a phone in the register
    ARREARS = "arrears"  # members with this year's dues still open
    EVENT = "event"  # the confirmed and waitlisted sign-ups of one event
    TEAM = "team"  # the volunteers of one team
    CENTRAL = "central"  # the members of a central household (中心户) and its linked households
    SECRETARIES_BELOW = "secretaries_below"  # secretaries of every association below
    SECRETARIES_CHILDREN = "secretaries_children"  # secretaries of the associations directly below


GROUP_LABELS = {
    Group.MEMBERS: _l("All active members"),
    Group.ARREARS: _l("Members in arrears this year"),
    Group.EVENT: _l("Sign-ups of an event"),
    Group.TEAM: _l("A volunteer team"),
    Group.CENTRAL: _l("Households of a central household (中心户)"),
    Group.SECRETARIES_BELOW: _l("Secretaries of all associations below"),
    Group.SECRETARIES_CHILDREN: _l("Secretaries of the associations directly below"),
}
TARGETED = (Group.EVENT, Group.TEAM, Group.CENTRAL)
SECRETARIES = (Group.SECRETARIES_BELOW, Group.SECRETARIES_CHILDREN)


class GroupMessageStatus(enum.StrEnum):
    SCHEDULED = "scheduled"  # waits for send_at; can be cancelled
    SENT = "sent"  # its recipients' messages are queued
    CANCELLED = "cancelled"


class GroupMessage(TenantMixin, CreatedAtMixin, db.Model):
    """One message sent to a group; its recipients are the outbox rows "group:<id>:…"."""

    __tablename__ = "group_messages"
    __table_args__ = (Index("ix_group_messages_status_send_at", "status", "send_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group: Mapped[Group] = mapped_column(string_enum(Group))
    # The event, team or central household of a targeted group, and its name then.
    target_id: Mapped[int | None] = mapped_column(Integer)
    target_label: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Messages to the secretaries below: only the associations of this kind (None: all).
    target_kind: Mapped[AssociationKind | None] = mapped_column(string_enum(AssociationKind))
    body: Mapped[str] = mapped_column(String(300))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    opted_out: Mapped[int] = mapped_column(Integer, default=0)
    capped: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[GroupMessageStatus] = mapped_column(
        string_enum(GroupMessageStatus), default=GroupMessageStatus.SENT, server_default="sent"
    )
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when scheduled
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when queued


@dataclass(frozen=True)
class Recipient:
    key: str  # "<member id>" (as before), "v<volunteer id>" or "u<user id>"
    name: str
    phone: str
    user_id: int | None = None  # her account: the message is also kept in the app


@dataclass(frozen=True)
class Preview:
    recipients: int  # numbers that will be sent to
    opted_out: int  # left out: opted out of notices
    over_cap: int  # of the recipients, held back by the monthly cap
    cost_fen: int
    by_email: int = 0  # secretaries reached by e-mail (included in `recipients`, no cost)


def choices(association: Association) -> list[tuple[str, str]]:
    """The groups to pick from: "members", "arrears", "event:<id>", "team:<id>",
    "central:<id>" (upcoming events, every team, every central household), and above the
    grassroots "secretaries_below" (also "secretaries_below:<kind>", only the associations of
    one kind, e.g. the villages) and "secretaries_children"."""
    from app.events.models import Event
    from app.volunteers.models import Team

    options = [(Group.MEMBERS.value, str(GROUP_LABELS[Group.MEMBERS]))]
    options.append((Group.ARREARS.value, str(GROUP_LABELS[Group.ARREARS])))
    if not association.kind.is_grassroots:
        options.extend((group.value, str(GROUP_LABELS[group])) for group in SECRETARIES)
        below = str(GROUP_LABELS[Group.SECRETARIES_BELOW])
        options.extend(
            (f"{Group.SECRETARIES_BELOW.value}:{kind.value}", f"{below}：{KIND_LABELS[kind]}")
            for kind in AssociationKind
            if kind.level > association.kind.level
        )
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


def parse_choice(value: str) -> tuple[Group, int | None, AssociationKind | None]:
    """(group, target id, kind of association): ("event", 12, None) from "event:12",
    ("secretaries_below", None, "village") from "secretaries_below:village"; ValueError for
    anything else."""
    name, _sep, target = value.partition(":")
    group = Group(name)
    if group in TARGETED:
        return group, int(target), None
    if group == Group.SECRETARIES_BELOW and target:
        return group, None, AssociationKind(target)
    if target:
        raise ValueError(value)
    return group, None, None


def label_of(association: Association, value: str) -> str:
    return dict(choices(association)).get(value, "")


def _member_rows(query) -> list[Recipient]:
    return [
        Recipient(str(member_id), name, crypto.decrypt(encrypted), user_id)
        for member_id, name, encrypted, user_id in db.session.execute(query)
        if encrypted
    ]


def _members(group: Group, target_id: int | None) -> list[Recipient]:
    query = select(Member.id, Member.name, Member.phone_encrypted, Member.user_id).where(
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
            recipients.append(Recipient(key, name, phone, user_id))
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
            Member.user_id,
        )
        .join(TeamMember, TeamMember.volunteer_id == Volunteer.id)
        .outerjoin(Member, Member.id == Volunteer.member_id)
        .where(TeamMember.team_id == team_id)
        .order_by(Volunteer.id)
    )
    recipients = []
    for volunteer_id, name, own_phone, member_name, member_phone, user_id in rows:
        encrypted = member_phone or own_phone
        if encrypted:
            recipients.append(
                Recipient(
                    f"v{volunteer_id}", member_name or name, crypto.decrypt(encrypted), user_id
                )
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
    return _distinct_numbers(found)


def _distinct_numbers(found: list[Recipient]) -> tuple[list[Recipient], int]:
    chosen: dict[str, Recipient] = {}
    for recipient in found:
        chosen.setdefault(recipient.phone, recipient)
    stopped = opted_out_phones(list(chosen))
    kept = [recipient for phone, recipient in chosen.items() if phone not in stopped]
    return kept, len(stopped)


@dataclass(frozen=True)
class Audience:
    """Whom a group message reaches: numbers to text, secretaries to e-mail, and the accounts
    that also keep it in their notification centre."""

    texted: list[Recipient]
    opted_out: int
    emailed: list[User]
    account_ids: list[int]


def audience(
    association: Association,
    group: Group,
    target_id: int | None,
    kind: AssociationKind | None = None,
) -> Audience:
    if group not in SECRETARIES:
        texted, opted_out = recipients_of(group, target_id)
        accounts = dict.fromkeys(r.user_id for r in texted if r.user_id is not None)
        return Audience(texted, opted_out, [], list(accounts))
    found, emailed = [], []
    holders = holders_below(
        association,
        (Role.SECRETARY,),
        children_only=group == Group.SECRETARIES_CHILDREN,
        kind=kind,
    )
    for user, _association_id in holders:
        if MOBILE.match(user.login):
            found.append(Recipient(f"u{user.id}", user.name, user.login, user.id))
        elif "@" in user.login:
            emailed.append(user)
    texted, opted_out = _distinct_numbers(found)
    return Audience(texted, opted_out, emailed, [user.id for user, _id in holders])


def preview(
    association: Association,
    group: Group,
    target_id: int | None = None,
    *,
    kind: AssociationKind | None = None,
) -> Preview:
    """The count and cost as the group stands now (a scheduled message is counted again when
    it goes)."""
    reach = audience(association, group, target_id, kind)
    room = max(monthly_cap() - monthly_usage(association.id)[0], 0)
    sendable = min(len(reach.texted), room)
    return Preview(
        len(reach.texted) + len(reach.emailed),
        reach.opted_out,
        len(reach.texted) - sendable,
        sendable * price_fen(),
        by_email=len(reach.emailed),
    )


def schedule_time(day: date | None, at: time | None, *, now: datetime) -> datetime:
    """The UTC instant of `day` `at` (China time) for a scheduled message; a Problem unless it
    is at least 5 minutes ahead, within 30 days and outside the quiet hours (21:00–08:00)."""
    if day is None or at is None:
        raise Problem({"send_on": _l("Enter the day and the time to send it.")})
    moment = datetime.combine(day, at, tzinfo=CHINA)
    if moment < now + SCHEDULE_MARGIN:
        raise Problem({"send_on": _l("Pick a time at least 5 minutes from now.")})
    if moment > now + SCHEDULE_AHEAD:
        raise Problem({"send_on": _l("Pick a time within the next 30 days.")})
    if next_morning(moment) is not None:
        raise Problem({"send_at": _l("No messages go between 21:00 and 08:00: pick a daytime.")})
    return moment.astimezone(UTC)


def send(
    association: Association,
    group: Group,
    body: str,
    *,
    sent_by_id: int | None,
    target_id: int | None = None,
    target_label: str = "",
    send_at: datetime | None = None,
    kind: AssociationKind | None = None,
) -> tuple:
    """Queue the message for every recipient now, or keep it for `send_at` (checked by
    `schedule_time`). Flushes; the caller commits, then dispatches the returned outbox rows
    (none for a scheduled message)."""
    message = GroupMessage(
        group=group,
        target_id=target_id,
        target_label=target_label[:200],
        target_kind=kind,
        body=body,
        sent_by_id=sent_by_id,
        opted_out=0,
        recipients=0,
        capped=0,
    )
    db.session.add(message)
    if send_at is not None:
        message.status, message.send_at = GroupMessageStatus.SCHEDULED, send_at
        db.session.flush()
        audit.record(
            "group_message_scheduled",
            association_id=association.id,
            target=message,
            group=group.value,
            target_id=target_id,
            send_at=send_at.isoformat(),
        )
        return message, []
    message.status, message.sent_at = GroupMessageStatus.SENT, utcnow()
    db.session.flush()
    return message, _deliver(association, message)


def _deliver(association: Association, message: GroupMessage) -> list[SmsMessage]:
    """Resolve the recipients now and queue the message for each (flushes)."""
    reach = audience(association, message.group, message.target_id, message.target_kind)
    body = message.body
    params = {"association": association.name, "content": body}
    rows = queue_many(
        [
            (f"group:{message.id}:{r.key}", r.phone, params, f"{association.name}: {body}")
            for r in reach.texted
        ],
        "group_notice",
        association_id=association.id,
    )
    for user in reach.emailed:
        with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
            subject = _("Message from %(association)s", association=association.name)
        notify_after_commit(user.login, subject, body)
    inbox.keep_many(
        [
            (user_id, _("Message from %(association)s", association=association.name), body)
            for user_id in reach.account_ids
        ],
        key=f"group:{message.id}",
        association_id=association.id,
    )
    message.recipients = len(rows) + len(reach.emailed)
    message.opted_out = reach.opted_out
    message.capped = sum(1 for row in rows if row.status == SmsStatus.CAPPED)
    audit.record(
        "group_message_sent",
        association_id=association.id,
        target=message,
        group=message.group.value,
        target_id=message.target_id,
        recipients=message.recipients,
        by_email=len(reach.emailed),
        opted_out=message.opted_out,
        capped=message.capped,
    )
    return rows


def cancel(message: GroupMessage) -> bool:
    """Cancel a scheduled message; False when it has already gone (or was cancelled): the
    same conditional UPDATE as the scheduler's claim, so exactly one of them wins."""
    cancelled = db.session.execute(
        update(GroupMessage)
        .where(GroupMessage.id == message.id, GroupMessage.status == GroupMessageStatus.SCHEDULED)
        .values(status=GroupMessageStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    ).rowcount
    if cancelled:
        audit.record(
            "group_message_cancelled", association_id=message.association_id, target=message
        )
    return bool(cancelled)


@periodic(minute="*")
def send_scheduled_group_messages(now: datetime | None = None) -> int:
    """Send the scheduled group messages whose time has come, each in a transaction of its
    own: the claim (scheduled → sent, one conditional UPDATE) and its recipients' messages
    commit together, so a message goes exactly once even with two schedulers running."""
    now = now or utcnow()
    with UNSCOPED_BYPASS("the scheduler finds the group messages due in every association"):
        due = db.session.execute(
            select(GroupMessage.id, GroupMessage.association_id)
            .where(GroupMessage.status == GroupMessageStatus.SCHEDULED, GroupMessage.send_at <= now)
            .order_by(GroupMessage.send_at, GroupMessage.id)
        ).all()
        owners = {
            association.id: association
            for association in db.session.scalars(
                select(Association).where(Association.id.in_({owner for _id, owner in due}))
            )
        }
    sent = 0
    for message_id, association_id in due:
        association = owners[association_id]
        with tenant_context(scope_for(association, writable=True)):
            claimed = db.session.execute(
                update(GroupMessage)
                .where(
                    GroupMessage.id == message_id,
                    GroupMessage.status == GroupMessageStatus.SCHEDULED,
                )
                .values(status=GroupMessageStatus.SENT, sent_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            rows = []
            if claimed:
                message = db.session.scalar(
                    select(GroupMessage)
                    .where(GroupMessage.id == message_id)
                    .execution_options(populate_existing=True)
                )
                rows = _deliver(association, message)
                db.session.flush()  # the counts and the audit entry, inside the scope
        if not claimed:
            db.session.rollback()  # another scheduler sent it, or it was cancelled
            continue
        db.session.commit()
        dispatch(*rows)
        sent += 1
        log.info("scheduled group message %s sent to %s numbers", message_id, len(rows))
    return sent


def recent_group_messages(limit: int = 20) -> list[GroupMessage]:
    return list(
        db.session.scalars(select(GroupMessage).order_by(GroupMessage.id.desc()).limit(limit))
    )


@dataclass(frozen=True)
class RecipientState:
    name: str
    phone_masked: str
    status: SmsStatus | None  # None: reached by e-mail
    sent_at: object
    delivered_at: object
    delivery_error: str | None
    read_at: object = None  # read in the notification centre (secretaries' messages)
    association: str = ""  # the association below whose secretary she is


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


def secretary_states(message: GroupMessage) -> list[RecipientState]:
    """Each secretary a message to the associations below reached, with the association she
    is secretary of: her SMS's state, or e-mail, and whether she has read it in the app —
    three queries, whatever their number. Runs in the sender's scope (its request)."""
    prefix = f"group:{message.id}:"
    texts = {
        row.idempotency_key.removeprefix(prefix): row
        for row in db.session.scalars(
            select(SmsMessage).where(
                SmsMessage.association_id == message.association_id,
                SmsMessage.idempotency_key.startswith(prefix, autoescape=True),
            )
        )
    }
    readers = db.session.execute(
        select(inbox.Notification.user_id, User.name, User.login, inbox.Notification.read_at)
        .join(User, User.id == inbox.Notification.user_id)
        .where(
            inbox.Notification.key == f"group:{message.id}",
            inbox.Notification.association_id == message.association_id,
        )
        .order_by(User.id)
    ).all()
    with subtree_reads():
        serves = dict(
            db.session.execute(
                select(Membership.user_id, Association.name)
                .join(Association, Association.id == Membership.association_id)
                .where(
                    Membership.user_id.in_([row.user_id for row in readers]),
                    Membership.role == Role.SECRETARY,
                    Membership.association_id != message.association_id,
                )
                .order_by(Membership.user_id, Association.path.desc())
            ).all()
        )
    states = []
    for user_id, name, login, read_at in readers:
        text = texts.get(f"u{user_id}")
        if text is None and "@" not in login:
            continue  # no number and no e-mail address (or the number opted out)
        states.append(
            RecipientState(
                name,
                text.phone_masked if text else mask_recipient(login),
                text.status if text else None,
                text.sent_at if text else message.sent_at,
                text.delivered_at if text else None,
                text.delivery_error if text else None,
                read_at,
                serves.get(user_id, ""),
            )
        )
    return states
