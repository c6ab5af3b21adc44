"""The self-governance cycle (居民自治): the yearly plan (承诺), its commitments and their
progress (实施), the planned activities, and what the secretary chose to publish (居务公开)."""

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
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


class ApprovingBody(enum.StrEnum):
    MEMBERS_MEETING = "members_meeting"  # 会员大会 / 会员代表大会
    COMMITTEE = "committee"  # 理事会


class Measure(enum.StrEnum):
    """What a commitment is measured by: a dashboard figure of the year, or by hand."""

    MEMBERS = "members"
    ACTIVITIES = "activities"
    MEMBER_RATIO = "member_ratio"  # per cent
    LINKAGE_COVERAGE = "linkage_coverage"  # per cent
    COLLECTION_RATE = "collection_rate"  # per cent
    VOLUNTEER_HOURS = "volunteer_hours"
    MANUAL = "manual"  # dated updates entered by the secretary


SHARE_MEASURES = frozenset(
    {Measure.MEMBER_RATIO, Measure.LINKAGE_COVERAGE, Measure.COLLECTION_RATE}
)


class YearPlan(TenantMixin, CreatedAtMixin, db.Model):
    """年度计划: one association's plan for one year, its approval and its publication.

    Drafted by the secretary; approved by the members' meeting or the committee (recorded with
    the minutes); then published, after which its commitments and planned activities are fixed
    and only their progress changes. The `show_*` choices say what the public page shows."""

    __tablename__ = "year_plans"
    __table_args__ = (
        UniqueConstraint("association_id", "id"),
        UniqueConstraint("association_id", "year"),
        # Checked at commit: offboarding deletes the stored files before the rows using them.
        ForeignKeyConstraint(
            ["association_id", "minutes_file_id"],
            ["stored_files.association_id", "stored_files.id"],
            deferrable=True,
            initially="DEFERRED",
        ),
        CheckConstraint("attendance IS NULL OR attendance >= 0", name="attendance"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text, default="")
    approved_on: Mapped[date | None] = mapped_column(Date)
    approved_by: Mapped[ApprovingBody | None] = mapped_column(string_enum(ApprovingBody))
    attendance: Mapped[int | None] = mapped_column(Integer)
    minutes_file_id: Mapped[int | None] = mapped_column(BigId)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    show_activities: Mapped[bool] = mapped_column(Boolean, default=True)
    show_dues: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    minutes: Mapped[StoredFile | None] = relationship(lazy="raise")
    commitments: Mapped[list["Commitment"]] = relationship(
        back_populates="plan", order_by="Commitment.position", lazy="raise", passive_deletes=True
    )
    planned_activities: Mapped[list["PlannedActivity"]] = relationship(
        back_populates="plan",
        order_by="(PlannedActivity.month, PlannedActivity.id)",
        lazy="raise",
        passive_deletes=True,
    )

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def is_approved(self) -> bool:
        return self.approved_on is not None


class Commitment(TenantMixin, CreatedAtMixin, db.Model):
    """承诺: one promise of the plan, with how it is measured, its target and its due quarter."""

    __tablename__ = "plan_commitments"
    __table_args__ = (
        UniqueConstraint("association_id", "id"),
        same_association_fk("plan_id", "year_plans", ondelete="CASCADE"),
        CheckConstraint("due_quarter BETWEEN 1 AND 4", name="due_quarter"),
        CheckConstraint("target >= 0", name="target"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(Integer, index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(300))
    measure: Mapped[Measure] = mapped_column(string_enum(Measure))
    unit: Mapped[str] = mapped_column(String(20), default="")  # for measures entered by hand
    target: Mapped[int] = mapped_column(Integer)  # per cent for the share measures
    due_quarter: Mapped[int] = mapped_column(Integer)

    plan: Mapped[YearPlan] = relationship(back_populates="commitments", lazy="raise")
    updates: Mapped[list["CommitmentUpdate"]] = relationship(
        back_populates="commitment",
        order_by="(CommitmentUpdate.noted_on, CommitmentUpdate.id)",
        lazy="raise",
        passive_deletes=True,
    )


class CommitmentUpdate(TenantMixin, CreatedAtMixin, db.Model):
    """A dated progress note on a commitment: the value reached (for a measure entered by hand),
    whether it is done, and a file as evidence. Never edited: a new note supersedes it."""

    __tablename__ = "commitment_updates"
    __table_args__ = (
        same_association_fk("commitment_id", "plan_commitments", ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["association_id", "evidence_file_id"],
            ["stored_files.association_id", "stored_files.id"],
            deferrable=True,
            initially="DEFERRED",
        ),
        CheckConstraint("value IS NULL OR value >= 0", name="value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    commitment_id: Mapped[int] = mapped_column(Integer, index=True)
    noted_on: Mapped[date] = mapped_column(Date)
    value: Mapped[int | None] = mapped_column(Integer)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    evidence_file_id: Mapped[int | None] = mapped_column(BigId)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    commitment: Mapped[Commitment] = relationship(back_populates="updates", lazy="raise")
    evidence: Mapped[StoredFile | None] = relationship(lazy="raise", overlaps="commitment,updates")


class PlannedActivity(TenantMixin, CreatedAtMixin, db.Model):
    """An activity the plan sets for a month (e.g. 5月: 会员活动日)."""

    __tablename__ = "planned_activities"
    __table_args__ = (
        UniqueConstraint("association_id", "id"),
        same_association_fk("plan_id", "year_plans", ondelete="CASCADE"),
        CheckConstraint("month BETWEEN 1 AND 12", name="month"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(Integer, index=True)
    month: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(120))
    # The activity of the log that fulfilled it: a plain reference, so the plan stays on record
    # if the activity is deleted later (the service checks it belongs to the association).
    activity_id: Mapped[int | None] = mapped_column(BigId)

    plan: Mapped[YearPlan] = relationship(back_populates="planned_activities", lazy="raise")


class SupervisionComment(TenantMixin, CreatedAtMixin, db.Model):
    """监督: a comment of the level above on an association's plan of a year. The row belongs
    to the association commented on; it is written by a user of a higher association through a
    writable scope of it, after an oversight check (see services.comment_from_above)."""

    __tablename__ = "supervision_comments"
    __table_args__ = (CheckConstraint("year BETWEEN 2000 AND 2100", name="year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_association_id: Mapped[int | None] = mapped_column(
        ForeignKey("associations.id", ondelete="SET NULL")
    )


class CommentState(enum.StrEnum):
    PENDING = "pending"  # waiting for the secretary's moderation
    PUBLISHED = "published"  # shown on the public page
    HIDDEN = "hidden"  # kept for the level above, never public


class Survey(TenantMixin, CreatedAtMixin, db.Model):
    """评议: the residents' evaluation of one year. Answered with one-time codes printed on
    slips; the codes are stored only as keyed hashes and a response keeps no link to its code,
    so no answer can be traced to the slip, nor to a household."""

    __tablename__ = "surveys"
    __table_args__ = (
        UniqueConstraint("association_id", "id"),
        UniqueConstraint("association_id", "year"),
        CheckConstraint("target_percent BETWEEN 1 AND 100", name="target_percent"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    target_percent: Mapped[int] = mapped_column(Integer, default=95)
    closes_on: Mapped[date] = mapped_column(Date)
    codes_issued: Mapped[int] = mapped_column(Integer, default=0)
    burst_flagged_on: Mapped[date | None] = mapped_column(Date)  # the day a burst was reported


class SurveyCode(TenantMixin, db.Model):
    """One printed one-time code: only its keyed hash, and whether it has been used."""

    __tablename__ = "survey_codes"
    __table_args__ = (
        same_association_fk("survey_id", "surveys", ondelete="CASCADE"),
        UniqueConstraint("association_id", "code_hash"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    survey_id: Mapped[int] = mapped_column(Integer, index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used: Mapped[bool] = mapped_column(Boolean, default=False)


class SurveyResponse(TenantMixin, db.Model):
    """One household's answers: overall satisfaction and per commitment on a five-point scale
    (1 very dissatisfied … 5 very satisfied), and a comment. No code, no time of day: only the
    date, so the order of answers cannot be matched to the order codes were used."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        UniqueConstraint("association_id", "id"),
        same_association_fk("survey_id", "surveys", ondelete="CASCADE"),
        CheckConstraint("overall BETWEEN 1 AND 5", name="overall"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    survey_id: Mapped[int] = mapped_column(Integer, index=True)
    answered_on: Mapped[date] = mapped_column(Date)
    overall: Mapped[int] = mapped_column(Integer)
    scores: Mapped[dict] = mapped_column(JSON, default=dict)  # commitment id (str) → 1–5
    comment: Mapped[str] = mapped_column(Text, default="")
    comment_state: Mapped[CommentState] = mapped_column(
        string_enum(CommentState), default=CommentState.PENDING
    )


class YearReport(TenantMixin, CreatedAtMixin, db.Model):
    """报告: the report to residents at year end, drafted from the year's figures and the
    commitments' outcomes, edited by the secretary, then published. The figures it quotes are
    frozen in it when published: the report does not change when the registers change later."""

    __tablename__ = "year_reports"
    __table_args__ = (
        UniqueConstraint("association_id", "year"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text, default="")
    frozen: Mapped[dict | None] = mapped_column(JSON)  # the figures as published
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class SurveyPhone(TenantMixin, db.Model):
    """A phone that asked for an evaluation code by SMS: only its keyed hash (never the
    number), the hash of the code sent, and whether it has answered — one answer per phone."""

    __tablename__ = "survey_phones"
    __table_args__ = (
        same_association_fk("survey_id", "surveys", ondelete="CASCADE"),
        UniqueConstraint("association_id", "survey_id", "phone_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(Integer, index=True)
    phone_hash: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    codes_sent: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[bool] = mapped_column(Boolean, default=False)
