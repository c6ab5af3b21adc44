"""Each recipient of a group message with the state of her message: the outbox row's
delivery for members and volunteers; for secretaries below, also e-mail and whether she has
read it in her notification centre."""

from dataclasses import dataclass

from sqlalchemy import select

from app.accounts.models import User
from app.associations.group_sms.models import GroupMessage
from app.core import inbox
from app.core.notifications import mask_recipient
from app.core.sms_outbox.models import SmsMessage, SmsStatus
from app.extensions import db
from app.members.models import Member
from app.volunteers.models import Volunteer
from tenants.context import subtree_reads
from tenants.models import Association, Membership, Role


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
