"""The figures tables the dashboards read.

`association_figures`: one row per association and year, computed from the registers, the
activity log, the 七有 checklist, dues and volunteer hours (app/dashboards/figures.py) by a job
after changes and by `flask dashboards refresh`.

`subtree_figures`: the sums of those rows over each association's whole subtree, kept equal to
them by app/dashboards/totals.py. A dashboard reads one row for the association and one per
child, whatever the size of the subtree: a province's 20,000 associations are summed when their
figures change, not when somebody looks.
"""

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.models import BigId, UTCDateTime
from app.extensions import db
from tenants.models import TenantMixin


class AssociationFigures(TenantMixin, db.Model):
    """Figures of one association (itself only, not its subtree) for one year.

    A NULL figure means its source does not exist (a module not installed): the group is then
    left out of the dashboard instead of being shown as zero.
    """

    __tablename__ = "association_figures"
    __table_args__ = (UniqueConstraint("association_id", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    # Register: active members who had joined by the end of the year; the population served
    # in that year (the record in force, see app/associations/settings.py).
    members: Mapped[int] = mapped_column(Integer, default=0)
    population: Mapped[int | None] = mapped_column(Integer)
    # Activity log: activities held in each quarter of the year.
    activities_q1: Mapped[int] = mapped_column(Integer, default=0)
    activities_q2: Mapped[int] = mapped_column(Integer, default=0)
    activities_q3: Mapped[int] = mapped_column(Integer, default=0)
    activities_q4: Mapped[int] = mapped_column(Integer, default=0)
    # 5·29: activities of the member-day type (会员活动日) held in the year.
    member_day_activities: Mapped[int] = mapped_column(Integer, default=0)
    # 新发展会员: members who joined in the year (whatever their status since).
    new_members: Mapped[int] = mapped_column(Integer, default=0)
    # 七有: qualified / submitted / returned / not_started (see app/dashboards/figures.py).
    checklist_status: Mapped[str] = mapped_column(String(12), default="not_started")
    # 中心户/联户 linkage: households, and those covered (central, or linked to a central one).
    households: Mapped[int] = mapped_column(Integer, default=0)
    covered_households: Mapped[int] = mapped_column(Integer, default=0)
    # Dues (app/dues), integer fen: what was due for the year and what has been collected.
    dues_expected_fen: Mapped[int | None] = mapped_column(Integer)
    dues_collected_fen: Mapped[int | None] = mapped_column(Integer)
    # Volunteer hours (app/volunteers), confirmed, in minutes.
    volunteer_minutes: Mapped[int | None] = mapped_column(Integer)
    # Rectification tasks (整改, app/oversight) past their deadline and not closed.
    overdue_rectifications: Mapped[int | None] = mapped_column(Integer)
    # The year's self-governance cycle (app/governance/figures.py): its plan published (0/1),
    # its report to residents published (0/1), the residents' evaluation's responses and those
    # satisfied or very satisfied. Counted for the whole year, never frozen with a quarter.
    plan_published: Mapped[int | None] = mapped_column(Integer)
    report_published: Mapped[int | None] = mapped_column(Integer)
    survey_responses: Mapped[int | None] = mapped_column(Integer)
    satisfied_responses: Mapped[int | None] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SubtreeFigures(TenantMixin, db.Model):
    """Sums of the figures rows of one association's subtree (itself included) for one year.

    `totals` maps each additive figure of app/dashboards/rollup.py (`contribution`) to its sum
    over the subtree; keys that would be zero are left out. JSON rather than a column per
    figure: a new figure group adds keys, not a migration, and the row is always read whole.
    """

    __tablename__ = "subtree_figures"
    __table_args__ = (UniqueConstraint("association_id", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    totals: Mapped[dict] = mapped_column(JSON, default=dict)
    # No figures row of the subtree was computed before this (the "figures as of" the page
    # shows): exact after a full refresh, a lower bound after incremental changes.
    oldest_computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FiguresQueue(db.Model):
    """An association whose figures are to be recomputed: written after the commit of a change
    to its records, drained in batches by the refresh job (app/dashboards/refresh.py).

    Platform table, no row-level security: it holds association ids only, and the job drains
    it for every association at once. No unique constraint and no foreign key on purpose: an
    insert never waits on a job's claim of the same association, and an association deleted
    meanwhile is simply found missing when the job reads the tree.

    `changed_from`: the earliest date the change can count at (an activity's date, a member's
    join date: app/dashboards/figures.py, `DATED_BY`); periods that ended before it are left
    as they are. NULL: every period.
    """

    __tablename__ = "figures_queue"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    association_id: Mapped[int] = mapped_column(Integer)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_from: Mapped[date | None] = mapped_column(Date)


class FigureTarget(db.Model):
    """A target one level sets for its subtree in a year (and the years after, until it sets
    another): a built-in one (`key` member_ratio, activities_per_quarter, …) or one of its own
    (`key` "own:<id>", with a name, a unit and how it is measured).

    Not a tenant table on purpose: targets are read by every association below the one that
    set them, which the subtree read rule (and row-level security) cannot express; they hold
    no personal data, and only the setting level's secretary writes them (app/dashboards/
    target_settings.py, which also audit-logs every change).

    `value_centi` is the target × 100: 10 % is 1000 (hundredths of a per cent), 4 activities
    is 400, so shares stay exact integers.
    """

    __tablename__ = "figure_targets"
    __table_args__ = (UniqueConstraint("association_id", "year", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    association_id: Mapped[int] = mapped_column(
        ForeignKey("associations.id", ondelete="CASCADE"), index=True
    )
    year: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(40))
    value_centi: Mapped[int] = mapped_column(Integer)
    # A target of the level's own: its name, unit ("%", "次", "人" …) and the figure that
    # measures it (a key of OWN_TARGET_FIGURES), or None when the value is entered by hand.
    name: Mapped[str | None] = mapped_column(String(80))
    unit: Mapped[str | None] = mapped_column(String(12))
    figure: Mapped[str | None] = mapped_column(String(40))
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClosedPeriod(db.Model):
    """A quarter whose figures are frozen (quarter 4 closes the year). Platform table: one row
    per period for the whole platform, written by the closing job."""

    __tablename__ = "closed_periods"
    __table_args__ = (UniqueConstraint("year", "quarter"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PeriodFigures(TenantMixin, db.Model):
    """One association's figures as of a closed quarter's end, frozen when it closed, with
    where it stood in the tree then (`path`, `kind`). `amended` holds the figures as
    recomputed after a later change touching the period (a back-dated activity, a late
    payment), None while they equal the frozen ones."""

    __tablename__ = "period_figures"
    __table_args__ = (UniqueConstraint("association_id", "year", "quarter"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(400))
    kind: Mapped[str] = mapped_column(String(20))
    frozen: Mapped[dict] = mapped_column(JSON)
    amended: Mapped[dict | None] = mapped_column(JSON)


class PeriodSubtreeFigures(TenantMixin, db.Model):
    """Sums of the frozen figures over an association's subtree as it stood when the quarter
    closed (`totals`), and the sum of the amendments since (`amendments`, new − frozen)."""

    __tablename__ = "period_subtree_figures"
    __table_args__ = (UniqueConstraint("association_id", "year", "quarter"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)
    totals: Mapped[dict] = mapped_column(JSON, default=dict)
    amendments: Mapped[dict] = mapped_column(JSON, default=dict)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ManualTargetValue(TenantMixin, db.Model):
    """A value a grassroots association enters by hand for a target measured by hand (知晓率
    from its own survey, 自治开展面, a level's own named target entered by hand) for one year.

    `key` is the target's key (app/dashboards/targets.py: a built-in one or "own:<id>");
    `value_centi` the value × 100 in the target's unit (95.5 % is 9550, 12 people 1200). Who
    entered it and when are kept here and in the audit log (the change listener).
    """

    __tablename__ = "manual_target_values"
    __table_args__ = (UniqueConstraint("association_id", "year", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(40))
    value_centi: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(200), default="")
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
