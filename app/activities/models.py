"""The activity log (活动记录): activities, their photos and the aid given on hardship visits."""

import enum
from datetime import date, datetime

from sqlalchemy import (
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


class ActivityType(enum.StrEnum):
    PUBLICITY = "publicity"  # 宣传
    SERVICE = "service"  # 服务
    TRAINING = "training"  # 培训
    PERFORMANCE = "performance"  # 文艺
    HARDSHIP_VISIT = "hardship_visit"  # 慰问
    FREE_CLINIC = "free_clinic"  # 义诊
    MEMBER_DAY = "member_day"  # 会员活动日
    OTHER = "other"  # 其他


class AidKind(enum.StrEnum):
    CASH = "cash"  # 现金
    RICE = "rice"  # 大米
    OIL = "oil"  # 食用油
    GOODS = "goods"  # 物品
    OTHER = "other"  # 其他


class Activity(TenantMixin, CreatedAtMixin, db.Model):
    """One activity (活动) an association held: the record a higher association inspects."""

    __tablename__ = "activities"
    __table_args__ = (
        UniqueConstraint("association_id", "id"),
        Index("ix_activities_association_id_held_on", "association_id", "held_on"),
        CheckConstraint("participant_count >= 0", name="participant_count"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    held_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(120))
    type: Mapped[ActivityType] = mapped_column(string_enum(ActivityType))
    place: Mapped[str] = mapped_column(String(120), default="")
    organiser: Mapped[str] = mapped_column(String(60), default="")
    participant_count: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    photos: Mapped[list["ActivityPhoto"]] = relationship(
        back_populates="activity",
        order_by="ActivityPhoto.id",
        cascade="all, delete-orphan",
        lazy="raise",
    )
    aid: Mapped[list["HardshipAid"]] = relationship(
        back_populates="activity",
        order_by="HardshipAid.id",
        cascade="all, delete-orphan",
        lazy="raise",
    )

    @property
    def quarter(self) -> int:
        return (self.held_on.month - 1) // 3 + 1


class ActivityPhoto(TenantMixin, CreatedAtMixin, db.Model):
    """A photo of an activity; the bytes live in a StoredFile (app/core/uploads.py)."""

    __tablename__ = "activity_photos"
    __table_args__ = (
        same_association_fk("activity_id", "activities", ondelete="CASCADE"),
        same_association_fk("stored_file_id", "stored_files", ondelete="CASCADE"),
        UniqueConstraint("association_id", "stored_file_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    activity_id: Mapped[int] = mapped_column(BigId, index=True)
    stored_file_id: Mapped[int] = mapped_column(BigId)

    # Shown on the public page (居务公开) once the secretary marked it public, saying on what
    # basis (app/governance/public_photos.py); private otherwise.
    public_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    public_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    public_basis: Mapped[str | None] = mapped_column(String(20))

    activity: Mapped[Activity] = relationship(back_populates="photos", lazy="raise")
    # Both relationships fill association_id; the composite keys make them agree.
    stored_file: Mapped[StoredFile] = relationship(
        lazy="joined", innerjoin=True, overlaps="activity,photos"
    )


class HardshipAid(TenantMixin, db.Model):
    """Aid handed to one family on a hardship visit (慰问): what, how much, worth how many fen."""

    __tablename__ = "hardship_aid"
    __table_args__ = (
        same_association_fk("activity_id", "activities", ondelete="CASCADE"),
        CheckConstraint("value_fen >= 0", name="value_fen"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(BigId, index=True)
    family: Mapped[str] = mapped_column(String(60))
    kind: Mapped[AidKind] = mapped_column(string_enum(AidKind))
    quantity: Mapped[str] = mapped_column(String(30), default="")
    value_fen: Mapped[int] = mapped_column(Integer, default=0)

    activity: Mapped[Activity] = relationship(back_populates="aid", lazy="raise")
