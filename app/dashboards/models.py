"""The figures tables the dashboards read.

`association_figures`: one row per association and year, computed from the registers, the
activity log, the 七有 checklist, dues and volunteer hours (app/dashboards/figures.py) by a job
after changes and by `flask dashboards refresh`.

`subtree_figures`: the sums of those rows over each association's whole subtree, kept equal to
them by app/dashboards/totals.py. A dashboard reads one row for the association and one per
child, whatever the size of the subtree: a province's 20,000 associations are summed when their
figures change, not when somebody looks.
"""

from datetime import datetime

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import UTCDateTime, utcnow
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
