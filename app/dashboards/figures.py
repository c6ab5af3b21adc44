"""Figure groups: how each association's yearly figures are computed from the raw tables.

A figure group is one function `compute(year, association_ids) -> {association_id: {column:
value}}` filling some columns of AssociationFigures, in a few grouped queries whatever the
number of associations (`association_ids` None means every association). Adding a group (a new
domain module) is one function appended to GROUPS; a group with no figure for the year (the
overdue rectifications of a past year) returns None and its columns stay NULL, so the
dashboard leaves it out.

The functions run under UNSCOPED_BYPASS (the refresh job computes for many associations at
once); they only ever return counts per association, never personal data.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, func, or_, select

from app.activities.models import Activity, ActivityType
from app.checklist.models import Checklist, ChecklistItem, ItemState
from app.core.clock import CHINA, china_today
from app.core.id_lists import one_of
from app.dues.models import Charge, Exemption, Payment, PaymentAllocation
from app.extensions import db
from app.members.models import Household, Member, MemberStatus
from app.oversight.models import RectificationTask, TaskState
from app.volunteers.models import Assignment, Volunteer
from tenants.models import Association

Rows = dict[int, dict[str, int | str | None]]
QUALIFIED, SUBMITTED, RETURNED, NOT_STARTED = "qualified", "submitted", "returned", "not_started"
CHECKLIST_STATUSES = (QUALIFIED, SUBMITTED, RETURNED, NOT_STARTED)
CHECKLIST_ITEMS = 7


def _restrict(column, association_ids: list[int] | None):
    return one_of(column, association_ids) if association_ids is not None else True


def _year_range(column, year: int, as_of: date | None = None):
    """The year, up to its end or to `as_of` (a closed quarter's last day) if earlier."""
    return and_(column >= date(year, 1, 1), column <= period_end(year, as_of))


def period_end(year: int, as_of: date | None) -> date:
    end = date(year, 12, 31)
    return end if as_of is None or as_of > end else as_of


def members(year: int, association_ids: list[int] | None, as_of: date | None = None) -> Rows:
    """Members active at the period's end: joined by then (or no join date), and active now
    or their status changed after it (a member who left in March was active in December
    before)."""
    end = period_end(year, as_of)
    rows = db.session.execute(
        select(Member.association_id, func.count(Member.id))
        .where(
            _restrict(Member.association_id, association_ids),
            or_(
                Member.status == MemberStatus.ACTIVE,
                and_(Member.status_on.is_not(None), Member.status_on > end),
            ),
            or_(Member.joined_on.is_(None), Member.joined_on <= end),
        )
        .group_by(Member.association_id)
    )
    return {association_id: {"members": count} for association_id, count in rows}


def new_members(year: int, association_ids: list[int] | None, as_of: date | None = None) -> Rows:
    """新发展会员: members who joined in the year, whatever their status since."""
    rows = db.session.execute(
        select(Member.association_id, func.count(Member.id))
        .where(
            _restrict(Member.association_id, association_ids),
            _year_range(Member.joined_on, year, as_of),
        )
        .group_by(Member.association_id)
    )
    return {association_id: {"new_members": count} for association_id, count in rows}


def activities(year: int, association_ids: list[int] | None, as_of: date | None = None) -> Rows:
    """Activities held in each quarter of the year, and those of the member-day type (5·29)."""
    month = func.cast(func.extract("month", Activity.held_on), db.Integer)
    quarters = [
        func.sum(case((and_(month >= 3 * q - 2, month <= 3 * q), 1), else_=0)) for q in range(1, 5)
    ]
    member_day = func.sum(case((Activity.type == ActivityType.MEMBER_DAY, 1), else_=0))
    rows = db.session.execute(
        select(Activity.association_id, *quarters, member_day)
        .where(
            _restrict(Activity.association_id, association_ids),
            _year_range(Activity.held_on, year, as_of),
        )
        .group_by(Activity.association_id)
    )
    return {
        association_id: {
            **{f"activities_q{q}": int(counts[q - 1] or 0) for q in range(1, 5)},
            "member_day_activities": int(counts[4] or 0),
        }
        for association_id, *counts in rows
    }


def checklist_status(accepted: int, submitted: int, returned: int) -> str:
    """Where an association's 七有 stands: all seven accepted is 合格 (qualified); anything
    sent back outweighs items still waiting; nothing handed in yet is 'not started'."""
    if accepted >= CHECKLIST_ITEMS:
        return QUALIFIED
    if returned:
        return RETURNED
    if submitted or accepted:
        return SUBMITTED
    return NOT_STARTED


def checklist(year: int, association_ids: list[int] | None, as_of: date | None = None) -> Rows:
    def count(state):
        return func.sum(case((ChecklistItem.state == state, 1), else_=0))

    rows = db.session.execute(
        select(
            Checklist.association_id,
            count(ItemState.ACCEPTED),
            count(ItemState.SUBMITTED),
            count(ItemState.RETURNED),
        )
        .join(
            ChecklistItem,
            (ChecklistItem.association_id == Checklist.association_id)
            & (ChecklistItem.checklist_id == Checklist.id),
        )
        .where(_restrict(Checklist.association_id, association_ids), Checklist.year == year)
        .group_by(Checklist.association_id)
    )
    return {
        association_id: {
            "checklist_status": checklist_status(int(a or 0), int(s or 0), int(r or 0))
        }
        for association_id, a, s, r in rows
    }


def linkage(year: int, association_ids: list[int] | None, as_of: date | None = None) -> Rows:
    """Households, and those covered by the 中心户 linkage (central, or linked to one). The
    register keeps no history, so every year shows the linkage as it stands."""
    covered = func.sum(
        case(
            (or_(Household.is_central.is_(True), Household.central_household_id.isnot(None)), 1),
            else_=0,
        )
    )
    rows = db.session.execute(
        select(Household.association_id, func.count(Household.id), covered)
        .where(_restrict(Household.association_id, association_ids))
        .group_by(Household.association_id)
    )
    return {
        association_id: {"households": total, "covered_households": int(linked or 0)}
        for association_id, total, linked in rows
    }


def dues(year: int, association_ids: list[int] | None, as_of: date | None = None) -> Rows:
    """What was due for the year and what has been collected, by the rule of
    app.dues.figures.collection_figures: exempt charges left out, a charge counts at most its
    amount, a charge's payment is its allocations of non-voided payments less refunds.

    Set-based (payments summed per charge once, then joined) rather than the per-charge
    correlated subqueries of `Charge.paid_fen`, which at province scale would run two million
    times in the nightly job."""
    paid = (
        select(
            PaymentAllocation.association_id,
            PaymentAllocation.charge_id,
            func.sum(PaymentAllocation.amount_fen - Payment.refunded_fen).label("fen"),
        )
        .join(
            Payment,
            and_(
                Payment.association_id == PaymentAllocation.association_id,
                Payment.id == PaymentAllocation.payment_id,
            ),
        )
        .where(
            _restrict(PaymentAllocation.association_id, association_ids),
            Payment.voided_at.is_(None),
        )
        .group_by(PaymentAllocation.association_id, PaymentAllocation.charge_id)
        .subquery()
    )
    exempt = (
        select(Exemption.association_id, Exemption.member_id)
        .where(_restrict(Exemption.association_id, association_ids), Exemption.year == year)
        .subquery()
    )
    least = func.least if db.session.get_bind().dialect.name == "postgresql" else func.min
    counted = exempt.c.member_id.is_(None)
    rows = db.session.execute(
        select(
            Charge.association_id,
            func.sum(case((counted, Charge.amount_due_fen), else_=0)),
            func.sum(
                case((counted, least(func.coalesce(paid.c.fen, 0), Charge.amount_due_fen)), else_=0)
            ),
        )
        .outerjoin(
            paid,
            and_(paid.c.association_id == Charge.association_id, paid.c.charge_id == Charge.id),
        )
        .outerjoin(
            exempt,
            and_(
                exempt.c.association_id == Charge.association_id,
                exempt.c.member_id == Charge.member_id,
            ),
        )
        .where(_restrict(Charge.association_id, association_ids), Charge.year == year)
        .group_by(Charge.association_id)
    )
    return {
        association_id: {"dues_expected_fen": int(due or 0), "dues_collected_fen": int(got or 0)}
        for association_id, due, got in rows
    }


def volunteer_hours(
    year: int, association_ids: list[int] | None, as_of: date | None = None
) -> Rows:
    """Confirmed volunteer minutes served in the year (the rule of
    app.volunteers.services.confirmed_minutes_by_association)."""
    rows = db.session.execute(
        select(Assignment.association_id, func.sum(Assignment.minutes))
        .where(
            _restrict(Assignment.association_id, association_ids),
            Assignment.confirmed_at.is_not(None),
            _year_range(Assignment.served_on, year, as_of),
        )
        .group_by(Assignment.association_id)
    )
    return {
        association_id: {"volunteer_minutes": int(total or 0)} for association_id, total in rows
    }


def overdue_rectifications(
    year: int, association_ids: list[int] | None, as_of: date | None = None
) -> Rows | None:
    """Rectification tasks (整改) past their deadline and not closed, as of today (the rule of
    app.oversight.rectification.overdue_task_counts): a figure of the current year only, kept
    current by the nightly refresh as deadlines pass."""
    today = china_today()
    if year != today.year:
        return None
    rows = db.session.execute(
        select(RectificationTask.association_id, func.count(RectificationTask.id))
        .where(
            _restrict(RectificationTask.association_id, association_ids),
            RectificationTask.state != TaskState.CLOSED,
            RectificationTask.deadline_on < today,
        )
        .group_by(RectificationTask.association_id)
    )
    return {association_id: {"overdue_rectifications": count} for association_id, count in rows}


@dataclass(frozen=True)
class FigureGroup:
    """`sources`: the tenant tables the group reads; a change to a row of any other table
    queues no refresh (app/dashboards/refresh.py), and a test checks the group's statements
    read no other. `yearly`: the group counts for the whole year whatever the period's end (the
    self-governance cycle, whose report and evaluation come after the year's last quarter has
    closed): left out of the figures a closed quarter freezes, read live for every period."""

    key: str
    columns: tuple[str, ...]
    compute: Callable[[int, list[int] | None, date | None], Rows | None]
    sources: tuple[type, ...]
    yearly: bool = False


GROUPS: list[FigureGroup] = [
    FigureGroup("members", ("members",), members, (Member,)),
    FigureGroup("new_members", ("new_members",), new_members, (Member,)),
    FigureGroup(
        "activities",
        (*(f"activities_q{q}" for q in range(1, 5)), "member_day_activities"),
        activities,
        (Activity,),
    ),
    FigureGroup("checklist", ("checklist_status",), checklist, (Checklist, ChecklistItem)),
    FigureGroup("linkage", ("households", "covered_households"), linkage, (Household,)),
    FigureGroup(
        "dues",
        ("dues_expected_fen", "dues_collected_fen"),
        dues,
        (Charge, Exemption, Payment, PaymentAllocation),
    ),
    FigureGroup(
        "volunteers",
        ("volunteer_minutes",),
        volunteer_hours,
        (Assignment, Volunteer, Member),  # deleted members' hours left out
    ),
    FigureGroup(
        "rectification", ("overdue_rectifications",), overdue_rectifications, (RectificationTask,)
    ),
]


@dataclass(frozen=True)
class DateBound:
    """`column`: every group that reads the table counts a row only in periods ending on or
    after that date, so a change to the row, old and new dates alike later than a period's
    end, leaves that period's figures as they are (app/dashboards/refresh.py skips it). A
    change to one of `unbounded_by` counts in every period; so does a deletion (rows that hang
    off the deleted one go with it, unseen)."""

    column: str
    unbounded_by: tuple[str, ...] = ()


# Activities count from the day they were held, members from the day they joined (in every
# period when it is unknown) — but a member's deletion takes their volunteer hours out of
# every year (the volunteers group leaves deleted members out) —, volunteer hours from the day
# they were served. A group that counts these rows another way must change this. Tables not
# listed may count in every period.
DATED_BY: dict[type, DateBound] = {
    Activity: DateBound("held_on"),
    Member: DateBound("joined_on", unbounded_by=("deleted_at",)),
    Assignment: DateBound("served_on"),
}


def counts_in(changed_from: date | None, period_end: date) -> bool:
    """Whether a change dated `changed_from` (None: undated) can alter the figures of a
    period ending on `period_end`."""
    return changed_from is None or changed_from <= period_end


def register_group(group: FigureGroup) -> None:
    """Add the figure group of a domain above the dashboards (one that itself reads them, so
    this module cannot import it): the domain registers it on import (app/registry.py)."""
    if all(existing.key != group.key for existing in GROUPS):
        GROUPS.append(group)


def source_models() -> set[type]:
    """The tenant tables some figure group reads."""
    return {model for group in GROUPS for model in group.sources}


def yearly_columns() -> tuple[str, ...]:
    """The columns of the yearly groups: never frozen with a closed quarter."""
    return tuple(column for group in GROUPS if group.yearly for column in group.columns)


# Values of a row with nothing recorded yet (groups whose module is missing stay NULL).
EMPTY_ROW = {
    "members": 0,
    "population": None,
    "activities_q1": 0,
    "activities_q2": 0,
    "activities_q3": 0,
    "activities_q4": 0,
    "member_day_activities": 0,
    "new_members": 0,
    "checklist_status": NOT_STARTED,
    "households": 0,
    "covered_households": 0,
}


def compute_rows(year: int, association_ids: list[int] | None, as_of: date | None = None) -> Rows:
    """Every group's figures for the associations (None: all) as of the period's end (the
    year's, or `as_of` when earlier), merged per association, with the columns of the groups
    that computed filled for associations that have nothing recorded (the yearly groups only without
    `as_of`: a closed quarter does not freeze them). An association created after the period's
    end has no row: it does not count in that period."""
    end = period_end(year, as_of)
    existed = Association.created_at < datetime.combine(end + timedelta(days=1), time(0), CHINA)
    query = select(Association.id).where(existed)
    if association_ids is not None:
        query = query.where(one_of(Association.id, association_ids))
    ids = list(db.session.scalars(query))
    rows: Rows = {association_id: dict(EMPTY_ROW) for association_id in ids}
    for group in GROUPS:
        if group.yearly and as_of is not None:
            continue
        computed = group.compute(year, association_ids, as_of)
        if computed is None:
            continue
        for association_id in ids:
            for column in group.columns:
                rows[association_id].setdefault(column, 0)
        for association_id, values in computed.items():
            if association_id in rows:
                rows[association_id].update(values)
    return rows
