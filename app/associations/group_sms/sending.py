"""Sending a group message: its count and cost beforehand, now or at a set China time (the
scheduler job sends it then, exactly once), cancelling a scheduled one, and the latest
messages."""

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.associations.group_sms.models import Group, GroupMessage, GroupMessageStatus
from app.associations.group_sms.recipients import audience
from app.core import audit, inbox
from app.core.clock import CHINA, utcnow
from app.core.jobs import periodic
from app.core.notifications import notify_after_commit
from app.core.problems import Problem
from app.core.sms_outbox.models import SmsMessage, SmsStatus
from app.core.sms_outbox.queueing import monthly_cap, monthly_usage, price_fen, queue_many
from app.core.sms_outbox.sending import dispatch, next_morning
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tenants.models import Association, AssociationKind

log = logging.getLogger("xiehui.group_sms")
SCHEDULE_AHEAD = timedelta(days=30)  # how far ahead a message may be scheduled
SCHEDULE_MARGIN = timedelta(minutes=5)  # a scheduled time is at least this far ahead


@dataclass(frozen=True)
class Preview:
    recipients: int  # numbers that will be sent to
    opted_out: int  # left out: opted out of notices
    over_cap: int  # of the recipients, held back by the monthly cap
    cost_fen: int
    by_email: int = 0  # secretaries reached by e-mail (included in `recipients`, no cost)


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
