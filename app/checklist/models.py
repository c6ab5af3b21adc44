"""The yearly 七有 checklist: its seven items, their evidence (versioned) and the review history."""

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
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


class ItemState(enum.StrEnum):
    DRAFT = "draft"  # being prepared by the secretary
    SUBMITTED = "submitted"  # waiting for the higher association
    ACCEPTED = "accepted"  # 通过
    RETURNED = "returned"  # 退回: sent back with a comment
    WITHDRAWN = "withdrawn"  # taken back by the secretary before review


class Checklist(TenantMixin, CreatedAtMixin, db.Model):
    """One association's 七有 checklist for one year."""

    __tablename__ = "checklists"
    __table_args__ = (
        UniqueConstraint("association_id", "id"),
        UniqueConstraint("association_id", "year"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)

    items: Mapped[list["ChecklistItem"]] = relationship(
        back_populates="checklist", order_by="ChecklistItem.number", lazy="raise"
    )


class ChecklistItem(TenantMixin, db.Model):
    """One of the seven items (1–7, see DOMAIN.md) and where it stands in review."""

    __tablename__ = "checklist_items"
    __table_args__ = (
        same_association_fk("checklist_id", "checklists", ondelete="CASCADE"),
        UniqueConstraint("association_id", "checklist_id", "number"),
        UniqueConstraint("association_id", "id"),
        CheckConstraint("number BETWEEN 1 AND 7", name="number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checklist_id: Mapped[int] = mapped_column(Integer, index=True)
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[ItemState] = mapped_column(string_enum(ItemState), default=ItemState.DRAFT)
    note: Mapped[str] = mapped_column(Text, default="")  # the secretary's explanation
    # Items computed from the registers: the figure as it stood when submitted.
    submitted_figure: Mapped[int | None] = mapped_column(Integer)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    round: Mapped[int] = mapped_column(Integer, default=0)  # submissions so far
    review_comment: Mapped[str] = mapped_column(Text, default="")
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    checklist: Mapped[Checklist] = relationship(back_populates="items", lazy="raise")
    evidence: Mapped[list["ChecklistEvidence"]] = relationship(
        back_populates="item", order_by="ChecklistEvidence.version", lazy="raise"
    )


class ChecklistEvidence(TenantMixin, CreatedAtMixin, db.Model):
    """One uploaded piece of evidence for an item. Never replaced: each upload is a new version,
    so what an auditor reviewed stays as it was."""

    __tablename__ = "checklist_evidence"
    __table_args__ = (
        same_association_fk("item_id", "checklist_items", ondelete="CASCADE"),
        same_association_fk("stored_file_id", "stored_files", ondelete="CASCADE"),
        UniqueConstraint("association_id", "item_id", "version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer, index=True)
    stored_file_id: Mapped[int] = mapped_column(BigId)
    version: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer)  # the submission round it was uploaded for
    note: Mapped[str] = mapped_column(String(300), default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    item: Mapped[ChecklistItem] = relationship(back_populates="evidence", lazy="raise")
    # Both relationships fill association_id; the composite keys make them agree.
    stored_file: Mapped[StoredFile] = relationship(
        lazy="joined", innerjoin=True, overlaps="item,evidence"
    )


class ChecklistEvent(TenantMixin, db.Model):
    """The history: every submission, withdrawal, upload and review (who, when, what)."""

    __tablename__ = "checklist_events"
    __table_args__ = (same_association_fk("checklist_id", "checklists", ondelete="CASCADE"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checklist_id: Mapped[int] = mapped_column(Integer, index=True)
    item_number: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The association the actor acted from (the reviewer's higher association, for reviews).
    actor_association_id: Mapped[int | None] = mapped_column(
        ForeignKey("associations.id", ondelete="SET NULL")
    )
    comment: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict | None] = mapped_column(JSON)
