"""Rectification tasks (整改) a higher association opens against one below it, and spot checks
(抽查) of activity records drawn at random from the subtree."""

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.models import BigId, CreatedAtMixin, UTCDateTime, same_association_fk, string_enum
from app.core.uploads import StoredFile
from app.extensions import db
from tenants.models import TenantMixin


class TaskState(enum.StrEnum):
    OPEN = "open"  # opened by the higher association, waiting for an answer
    ANSWERED = "answered"  # the secretary answered, waiting for the higher association
    RETURNED = "returned"  # sent back with a comment: answer again
    CLOSED = "closed"  # accepted by the higher association


class Verdict(enum.StrEnum):
    PENDING = "pending"
    OK = "ok"
    PROBLEM = "problem"


class RectificationTask(TenantMixin, CreatedAtMixin, db.Model):
    """整改任务: what is wrong and by when. The row belongs to the TARGET association (its
    secretary answers it); it is opened and closed by a user of a higher association, who writes
    it through a writable scope of the target after an oversight check (see services)."""

    __tablename__ = "rectification_tasks"
    __table_args__ = (
        UniqueConstraint("association_id", "id"),
        same_association_fk("checklist_item_id", "checklist_items"),
        Index("ix_rectification_tasks_state_deadline_on", "state", "deadline_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    deadline_on: Mapped[date] = mapped_column(Date)
    state: Mapped[TaskState] = mapped_column(string_enum(TaskState), default=TaskState.OPEN)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_by_association_id: Mapped[int | None] = mapped_column(
        ForeignKey("associations.id", ondelete="SET NULL")
    )
    checklist_item_id: Mapped[int | None] = mapped_column(Integer)
    # A plain reference, no foreign key: the task stays on record even if the activity it is
    # about is deleted later. The service checks the activity belongs to the target.
    activity_id: Mapped[int | None] = mapped_column(Integer)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def is_overdue(self, today: date) -> bool:
        return self.state != TaskState.CLOSED and self.deadline_on < today


class TaskEvent(TenantMixin, db.Model):
    """The history of a task: opened, answered, accepted, sent back (who, from where, when)."""

    __tablename__ = "rectification_events"
    __table_args__ = (
        UniqueConstraint("association_id", "id"),
        same_association_fk("task_id", "rectification_tasks", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_association_id: Mapped[int | None] = mapped_column(
        ForeignKey("associations.id", ondelete="SET NULL")
    )
    comment: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict | None] = mapped_column(JSON)


class TaskEvidence(TenantMixin, CreatedAtMixin, db.Model):
    """A file sent with an answer; kept as it was, so what the reviewer saw stays on record."""

    __tablename__ = "rectification_evidence"
    __table_args__ = (
        same_association_fk("task_id", "rectification_tasks", ondelete="CASCADE"),
        same_association_fk("event_id", "rectification_events", ondelete="CASCADE"),
        same_association_fk("stored_file_id", "stored_files", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(Integer, index=True)
    event_id: Mapped[int] = mapped_column(Integer)
    stored_file_id: Mapped[int] = mapped_column(BigId)

    stored_file: Mapped[StoredFile] = relationship(lazy="joined", innerjoin=True)


class SpotCheck(TenantMixin, CreatedAtMixin, db.Model):
    """抽查: one recorded draw of activity records below the association that drew it.

    Never changed once made; drawing again makes a new one, so every draw stays on record."""

    __tablename__ = "spot_checks"
    __table_args__ = (
        UniqueConstraint("association_id", "id"),
        CheckConstraint("sample_size > 0", name="sample_size"),
        CheckConstraint("quarter IS NULL OR quarter BETWEEN 1 AND 4", name="quarter"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int | None] = mapped_column(Integer)
    child_association_id: Mapped[int | None] = mapped_column(
        ForeignKey("associations.id", ondelete="SET NULL")
    )
    sample_size: Mapped[int] = mapped_column(Integer)
    population: Mapped[int] = mapped_column(Integer)  # how many records the draw was made from
    seed: Mapped[int] = mapped_column(BigInteger)
    activity_ids: Mapped[list] = mapped_column(JSON)  # in the order drawn

    entries: Mapped[list["SpotCheckEntry"]] = relationship(
        back_populates="spot_check", order_by="SpotCheckEntry.position", lazy="raise"
    )


class SpotCheckEntry(TenantMixin, db.Model):
    """One drawn activity and what the inspection found. Owned by the drawing association; the
    activity belongs to an association below it, so it is referenced by id (no foreign key: the
    record of what was drawn outlives the activity)."""

    __tablename__ = "spot_check_entries"
    __table_args__ = (
        same_association_fk("spot_check_id", "spot_checks", ondelete="CASCADE"),
        UniqueConstraint("association_id", "spot_check_id", "position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    spot_check_id: Mapped[int] = mapped_column(Integer, index=True)
    position: Mapped[int] = mapped_column(Integer)
    activity_id: Mapped[int] = mapped_column(Integer)
    activity_association_id: Mapped[int | None] = mapped_column(
        ForeignKey("associations.id", ondelete="SET NULL")
    )
    verdict: Mapped[Verdict] = mapped_column(string_enum(Verdict), default=Verdict.PENDING)
    note: Mapped[str] = mapped_column(Text, default="")
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The task opened for a problem: it belongs to the activity's association, not this one.
    task_id: Mapped[int | None] = mapped_column(
        ForeignKey("rectification_tasks.id", ondelete="SET NULL")
    )

    spot_check: Mapped[SpotCheck] = relationship(back_populates="entries", lazy="raise")
