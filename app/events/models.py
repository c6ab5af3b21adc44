"""Events an association holds and the sign-ups (registrations) for them."""

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.models import BigId, CreatedAtMixin, UTCDateTime, same_association_fk, string_enum
from app.core.soft_delete import hide_with_owner
from app.extensions import db
from app.members.models import user_member_is_live
from tenants.models import TenantMixin


class EventScope(enum.StrEnum):
    ASSOCIATION = "association"  # members of this association only
    SUBTREE = "subtree"  # members of this association and of every association below it


class RegistrationStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class Event(TenantMixin, CreatedAtMixin, db.Model):
    """An event members sign up for; its row is locked while places are handed out."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("association_id", "id"),
        Index("ix_events_association_id_starts_at", "association_id", "starts_at"),
        CheckConstraint("capacity > 0", name="capacity"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("signup_deadline <= starts_at", name="deadline_before_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(String(120), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    signup_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    scope: Mapped[EventScope] = mapped_column(
        string_enum(EventScope), default=EventScope.ASSOCIATION
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The activity record the event became once held (app/activities); set once.
    activity_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Registration(TenantMixin, CreatedAtMixin, db.Model):
    """One person's place (or place in the queue) at an event; a row of the event's association,
    also when the person belongs to an association below it (subtree-open events)."""

    __tablename__ = "event_registrations"
    __table_args__ = (
        same_association_fk("event_id", "events", ondelete="CASCADE"),
        UniqueConstraint("association_id", "event_id", "user_id"),
        Index("ix_event_registrations_event_status", "event_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(Integer, index=True)
    # None for a walk-in added by name at the door.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The association through which the person signed up (theirs; may lie below the event's).
    home_association_id: Mapped[int | None] = mapped_column(
        ForeignKey("associations.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(60))
    status: Mapped[RegistrationStatus] = mapped_column(string_enum(RegistrationStatus))
    # When the person (last) joined: the waitlist is served in this order.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    walk_in: Mapped[bool] = mapped_column(default=False)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


# A member whose record the secretary deleted leaves the sign-up, waitlist and door lists (and
# the reminders) of her association's events until she is restored.
hide_with_owner(Registration, lambda cls: user_member_is_live(cls.user_id, cls.home_association_id))
