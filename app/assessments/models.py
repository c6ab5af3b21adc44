"""Tables of the yearly assessment (考核).

Scoring sheets and their items are platform tables read down the tree, as the targets are
(app/dashboards/models.py: FigureTarget): a sheet published by a county is read by every
association of its kind below it, which the subtree read rule (and row-level security) cannot
express. They hold no personal data; only the publishing level's secretary writes them
(app/assessments/sheets.py, which audit-logs publishing).

What an association claims and what the level above awards are tenant rows of the assessed
association, written by the scorer in a writable scope of that association only (as the 七有
review is). So an association reads its own score and rank, never a sibling's.
Points are stored in tenths: 2.5 points is 25.
"""

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.models import BigId, CreatedAtMixin, UTCDateTime, same_association_fk, string_enum
from app.extensions import db
from tenants.models import TenantMixin


class Rule(enum.StrEnum):
    """How an item is scored: by hand with evidence, or from the year's figures and targets."""

    MANUAL = "manual"
    QIYOU = "qiyou"  # 七有 合格: the item's points for a qualified checklist
    ACTIVE_QUARTERS = "active_quarters"  # a quarter of the points per quarter meeting its target
    ACTIVITIES_YEAR = "activities_year"  # activities in the year ≥ the target
    MEMBER_RATIO = "member_ratio"  # member ratio ≥ the target
    COLLECTION_RATE = "collection_rate"  # dues collection rate ≥ the target
    LINKAGE = "linkage_coverage"  # linkage coverage ≥ the target


class State(enum.StrEnum):
    DRAFT = "draft"  # the association is preparing its self-assessment
    SUBMITTED = "submitted"  # waiting for the level above
    RETURNED = "returned"  # sent back with a comment
    SCORED = "scored"  # every item scored; may still change until the level closes
    CLOSED = "closed"  # frozen with the rank


class AssessmentSheet(CreatedAtMixin, db.Model):
    """A level's scoring sheet for one year and one kind of association below it."""

    __tablename__ = "assessment_sheets"
    __table_args__ = (UniqueConstraint("association_id", "year", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    association_id: Mapped[int] = mapped_column(
        ForeignKey("associations.id", ondelete="CASCADE"), index=True
    )
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # an AssociationKind value
    title: Mapped[str] = mapped_column(String(120))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The self-assessment's due date, set by the publishing level (required to publish), and
    # when the reminders before and after it went out (each once: app/assessments/reminders.py).
    due_on: Mapped[date | None] = mapped_column(Date)
    due_soon_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    items: Mapped[list["SheetItem"]] = relationship(
        back_populates="sheet",
        order_by="SheetItem.position",
        cascade="all, delete-orphan",
        lazy="raise",
    )


class SheetItem(db.Model):
    """One line of a sheet: what is scored, for how many points, and how."""

    __tablename__ = "assessment_sheet_items"
    __table_args__ = (
        CheckConstraint("points_tenths > 0 AND points_tenths <= 1000", name="points"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sheet_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_sheets.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    points_tenths: Mapped[int] = mapped_column(Integer)
    rule: Mapped[Rule] = mapped_column(string_enum(Rule))
    guidance: Mapped[str] = mapped_column(Text, default="")

    sheet: Mapped[AssessmentSheet] = relationship(back_populates="items", lazy="raise")


class Assessment(TenantMixin, CreatedAtMixin, db.Model):
    """One association's assessment for one year: its self-assessment, the score the level
    above gave and, once that level closed the year, its rank among its siblings."""

    __tablename__ = "assessments"
    __table_args__ = (
        UniqueConstraint("association_id", "year"),
        UniqueConstraint("association_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    state: Mapped[State] = mapped_column(string_enum(State), default=State.DRAFT)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    self_tenths: Mapped[int | None] = mapped_column(Integer)  # claimed total when submitted
    score_tenths: Mapped[int | None] = mapped_column(Integer)  # awarded total
    score_comment: Mapped[str] = mapped_column(Text, default="")
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scored_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rank: Mapped[int | None] = mapped_column(Integer)
    ranked_among: Mapped[int | None] = mapped_column(Integer)

    entries: Mapped[list["AssessmentEntry"]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", lazy="raise"
    )


class AssessmentEntry(TenantMixin, db.Model):
    """One item of the sheet for one association: the claim (or the figure, for an item
    scored from the figures), its evidence, and the points the level above awarded."""

    __tablename__ = "assessment_entries"
    __table_args__ = (
        same_association_fk("assessment_id", "assessments", ondelete="CASCADE"),
        same_association_fk("stored_file_id", "stored_files", ondelete="SET NULL"),
        same_association_fk("activity_id", "activities", ondelete="SET NULL"),
        UniqueConstraint("association_id", "assessment_id", "sheet_item_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(Integer, index=True)
    sheet_item_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_sheet_items.id", ondelete="CASCADE"), index=True
    )
    claimed_tenths: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    stored_file_id: Mapped[int | None] = mapped_column(BigId)
    activity_id: Mapped[int | None] = mapped_column(BigId)
    awarded_tenths: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")

    assessment: Mapped[Assessment] = relationship(back_populates="entries", lazy="raise")


class AssessmentClosing(TenantMixin, db.Model):
    """A level closed its assessment of the associations of one kind directly below it."""

    __tablename__ = "assessment_closings"
    __table_args__ = (UniqueConstraint("association_id", "year", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    ranked: Mapped[int] = mapped_column(Integer, default=0)


class AssessmentReopening(TenantMixin, db.Model):
    """A level reopened its closed assessment of one kind for a year (closed by mistake), with
    the reason; `results` keeps what had been frozen: [[association id, name, state, score in
    tenths, rank, ranked among], …]."""

    __tablename__ = "assessment_reopenings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reopened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text)
    results: Mapped[list] = mapped_column(JSON, default=list)


class ModelAssociation(TenantMixin, CreatedAtMixin, db.Model):
    """示范协会: the association was named a model association for the year by the level
    above, from its ranking, with a citation. A row of the named association, so its own pages
    and every dashboard above it can show it."""

    __tablename__ = "model_associations"
    __table_args__ = (UniqueConstraint("association_id", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    citation: Mapped[str] = mapped_column(Text)
    rank: Mapped[int | None] = mapped_column(Integer)
    score_tenths: Mapped[int | None] = mapped_column(Integer)
    named_by_association_id: Mapped[int | None] = mapped_column(
        ForeignKey("associations.id", ondelete="SET NULL")
    )
    named_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ResponsibilityStatement(TenantMixin, db.Model):
    """目标管理责任书: the year's targets as they stood when signed, who signed for the level
    above and for the association, when, and the scan of the signed paper."""

    __tablename__ = "responsibility_statements"
    __table_args__ = (
        UniqueConstraint("association_id", "year"),
        same_association_fk("stored_file_id", "stored_files", ondelete="SET NULL"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    targets: Mapped[list] = mapped_column(JSON, default=list)  # [[label, value text], …]
    upper_signatory: Mapped[str] = mapped_column(String(60))
    upper_signed_on: Mapped[date] = mapped_column(Date)
    own_signatory: Mapped[str] = mapped_column(String(60))
    own_signed_on: Mapped[date] = mapped_column(Date)
    stored_file_id: Mapped[int | None] = mapped_column(BigId)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
