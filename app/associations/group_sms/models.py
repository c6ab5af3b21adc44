"""The groups a message can go to, and the group_messages table: one row per message sent
or scheduled, its recipients being the outbox rows "group:<id>:…"."""

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import CreatedAtMixin, UTCDateTime, string_enum
from app.extensions import db
from tenants.models import AssociationKind, TenantMixin


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
