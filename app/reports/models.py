"""The report forms a level defines for its subtree, and the reports filed against them.

`report_forms` is a platform table, as `figure_targets` is: a form is read by every
association below the level that defined it, which the subtree read rule (and row-level
security) cannot express; it holds no personal data, and only the defining level's secretary
writes it (app/reports/defining.py). `reports` is a tenant table: each association's own
filing, one row per version, read by the levels above through their subtree, decided by the
level directly above through a writable scope of the filing association (as 整改 tasks are).
"""

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import CreatedAtMixin, UTCDateTime, string_enum
from app.extensions import db
from tenants.models import TenantMixin


class PeriodKind(enum.StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class ReportState(enum.StrEnum):
    DRAFT = "draft"  # being filled in by the association
    SUBMITTED = "submitted"  # waiting for the level above
    RETURNED = "returned"  # sent back with a comment: fill in again and submit
    ACCEPTED = "accepted"  # frozen; a correction is a new version
    SUPERSEDED = "superseded"  # an accepted version replaced by an accepted correction


class ReportForm(CreatedAtMixin, db.Model):
    """A statistics form (统计报表) one level publishes for its subtree and one period.

    `figures`: keys of app/reports/catalogue.py FIGURES, pre-filled; `fields`: the manual
    fields, each {"key", "label", "kind" (number|text|choice|file), "choices", "required"};
    `checks`: rules between fields, each {"kind" (le|ge0|required_if), "left", "right"},
    where a field is named "fig:<figure>" or "<manual key>".
    """

    __tablename__ = "report_forms"
    __table_args__ = (Index("ix_report_forms_association_id_year", "association_id", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    period_kind: Mapped[PeriodKind] = mapped_column(string_enum(PeriodKind))
    year: Mapped[int] = mapped_column(Integer)
    # The month (1–12) or quarter (1–4) of the year; 0 for a yearly form.
    period_number: Mapped[int] = mapped_column(Integer, default=0)
    deadline_on: Mapped[date] = mapped_column(Date)
    figures: Mapped[list] = mapped_column(JSON, default=list)
    fields: Mapped[list] = mapped_column(JSON, default=list)
    checks: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reused_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_forms.id", ondelete="SET NULL")
    )
    # When the reminders before and after the deadline went out (each once: reminders.py).
    due_soon_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def field(self, key: str) -> dict | None:
        return next((f for f in self.fields if f["key"] == key), None)


class Report(TenantMixin, CreatedAtMixin, db.Model):
    """One association's filing of a form, one row per version: a correction of an accepted
    report is a new version, and the accepted one is kept as it was."""

    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("association_id", "form_id", "version"),
        Index("ix_reports_form_id_state", "form_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("report_forms.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[ReportState] = mapped_column(string_enum(ReportState), default=ReportState.DRAFT)
    # {"fig:<figure>": int, "<manual key>": int | str | stored file id}
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    # Where the figures came from: frozen (a closed period), live, or children (the sum of the
    # children's accepted reports, for a level with associations below it).
    figures_source: Mapped[str] = mapped_column(String(12), default="live")
    remarks: Mapped[str] = mapped_column(Text, default="")
    # Why an intermediate level submits before every child's report is accepted.
    incomplete_reason: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decision_comment: Mapped[str] = mapped_column(Text, default="")

    @property
    def is_open(self) -> bool:
        return self.state in (ReportState.DRAFT, ReportState.RETURNED)
