"""What an association's home page shows each role: the secretary's (and staff's) "today", a
member's own dues, events, hours and check-in code, and a higher level's oversight at a glance.

Each part reads a fixed number of queries whatever the registers hold (counts and sums in SQL,
never rows counted in Python), so the home page costs the same for a new village and a big one
(tests/associations/test_home_pages.py counts them).
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select

from app.accounts.models import Invitation
from app.activities.models import Activity
from app.checklist.models import Checklist, ChecklistItem, ItemState
from app.core.clock import china_today, utcnow
from app.dashboards import reading, rollup
from app.dashboards.definitions import current_quarter
from app.dashboards.targets import targets_in_force
from app.dues import services as dues
from app.dues.models import Charge, DuesPlan
from app.events import services as events
from app.events.checkin_card import card_token, qr_svg
from app.events.models import Event, Registration
from app.extensions import db
from app.members.models import Household, Member
from app.oversight import overseeing, rectification
from app.oversight.models import RectificationTask, TaskState
from app.volunteers import services as volunteers
from tenants.access import Access
from tenants.context import subtree_reads
from tenants.models import Association, Membership


@dataclass(frozen=True)
class Step:
    """One first step of a new association; it ticks itself once the data is there."""

    key: str
    done: bool


@dataclass
class Today:
    """The secretary's (or staff's) day: what needs doing, each with the list it comes from."""

    year: int
    quarter: int | None  # the running quarter (None once the year is over)
    activities_this_quarter: int
    activities_per_quarter: int
    returned_items: int
    open_tasks: int
    overdue_tasks: int
    arrears_members: int
    arrears_fen: int
    next_event: Event | None
    unfilled_shifts: int
    steps: list[Step] = field(default_factory=list)

    @property
    def steps_left(self) -> int:
        return sum(1 for step in self.steps if not step.done)


def _quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return start, end


def _count(query) -> int:
    return int(db.session.scalar(query) or 0)


def _first_steps(association: Association, user_id: int) -> list[Step]:
    """What a new association sets up first (one query); a step is done when its data exists."""
    checks = {}
    if association.kind.is_grassroots:
        checks["members"] = select(Member.id)
        checks["households"] = select(Household.id)
    else:
        checks["children"] = select(Association.id).where(Association.parent_id == association.id)
    checks["activities"] = select(Activity.id)
    checks["events"] = select(Event.id)
    if association.kind.is_grassroots:
        checks["dues_plan"] = select(DuesPlan.id)
    # Someone besides the signed-in user holds a role here, or has been invited to.
    checks["team"] = select(Membership.id).where(Membership.user_id != user_id)
    checks["invited"] = select(Invitation.id)
    found = (
        db.session.execute(select(*(check.exists().label(key) for key, check in checks.items())))
        .one()
        ._asdict()
    )
    found["team"] = found["team"] or found.pop("invited")
    found.pop("invited", None)
    return [Step("population", association.served_population is not None)] + [
        Step(key, bool(done)) for key, done in found.items()
    ]


def secretary_today(
    association: Association, user_id: int, *, now: datetime | None = None
) -> Today:
    """The "today" card of a secretary or staff member of `association` (its own scope)."""
    now = now or utcnow()
    today = china_today()
    year = today.year
    ended, _days_left = current_quarter(year, today)
    quarter = ended + 1 if ended < 4 else None
    targets = targets_in_force(association, year)
    start, end = _quarter_bounds(year, quarter or 4)
    activities_now = _count(
        select(func.count(Activity.id)).where(Activity.held_on >= start, Activity.held_on < end)
    )
    returned = _count(
        select(func.count(ChecklistItem.id))
        .join(Checklist, Checklist.id == ChecklistItem.checklist_id)
        .where(Checklist.year == year, ChecklistItem.state == ItemState.RETURNED)
    )
    open_tasks, overdue = db.session.execute(
        select(
            func.count(RectificationTask.id),
            func.count(RectificationTask.id).filter(RectificationTask.deadline_on < today),
        ).where(RectificationTask.state != TaskState.CLOSED)
    ).one()
    arrears_members, arrears_fen = db.session.execute(
        select(
            func.count(Charge.member_id.distinct()),
            func.coalesce(func.sum(Charge.amount_due_fen - Charge.paid_fen), 0),
        ).where(
            Charge.year == year,
            Charge.exempt.is_(False),
            Charge.paid_fen < Charge.amount_due_fen,
        )
    ).one()
    next_event = db.session.scalar(
        select(Event).where(Event.ends_at >= now).order_by(Event.starts_at, Event.id).limit(1)
    )
    return Today(
        year=year,
        quarter=quarter,
        activities_this_quarter=activities_now,
        activities_per_quarter=targets.activities_per_quarter,
        returned_items=returned,
        open_tasks=int(open_tasks),
        overdue_tasks=int(overdue),
        arrears_members=int(arrears_members),
        arrears_fen=int(arrears_fen),
        next_event=next_event,
        unfilled_shifts=volunteers.gap_count(now=now),
        steps=_first_steps(association, user_id),
    )


@dataclass
class MemberHome:
    """A member's own page: what she owes, where she is going, her hours, her check-in code."""

    member: Member | None
    open_charges: list[Charge]
    settings: object
    plans: dict[int, DuesPlan]
    my_events: list[tuple[Event, Registration]]
    other_events: int
    volunteer_minutes: int | None  # None when she is not a volunteer
    year: int
    card_svg: str | None


def member_home(association: Association, user_id: int, *, now: datetime | None = None):
    now = now or utcnow()
    year = china_today().year
    member = dues.member_by_user(user_id)
    open_charges = []
    plans: dict[int, DuesPlan] = {}
    if member is not None:
        open_charges = list(
            db.session.scalars(
                select(Charge)
                .where(
                    Charge.member_id == member.id,
                    Charge.exempt.is_(False),
                    Charge.paid_fen < Charge.amount_due_fen,
                )
                .order_by(Charge.year)
            )
        )
    plans = {p.year: p for p in dues.plans()}
    upcoming = events.upcoming_events(association, now=now)
    mine = events.my_registrations(user_id, upcoming)
    volunteer = volunteers.volunteer_of_user(user_id)
    membership = db.session.scalar(
        select(Membership).where(
            Membership.user_id == user_id, Membership.association_id == association.id
        )
    )
    token = (
        card_token(membership_id=membership.id, user_id=user_id, association_id=association.id)
        if membership is not None
        else None
    )
    return MemberHome(
        member=member,
        open_charges=open_charges,
        settings=dues.current_settings(),
        plans=plans,
        my_events=[(e, mine[e.id]) for e in upcoming if e.id in mine][:3],
        other_events=sum(1 for e in upcoming if e.id not in mine),
        volunteer_minutes=(
            volunteers.confirmed_minutes_of(volunteer.id, year) if volunteer else None
        ),
        year=year,
        card_svg=qr_svg(token) if token else None,
    )


@dataclass
class OversightHome:
    """A higher level's view: associations below behind on a target, 七有 items waiting for
    review, overdue 整改 tasks below."""

    year: int
    problems: int
    review_queue: int
    overdue_below: int


def oversight_home(association: Association, user_id: int) -> OversightHome:
    year = china_today().year
    today = china_today()
    targets = targets_in_force(association, year)
    with subtree_reads():
        rollup.prefer_custom_plans()
        # The same list as the problems page (dashboards.reading), frozen for a closed year.
        _src, problems = reading.problems_query(association, reading.period_shown(year), targets)
        problem_count = _count(select(func.count()).select_from(problems.order_by(None).subquery()))
    queue = overseeing.review_queue(association, user_id=user_id, page=1, per_page=1)
    overdue = rectification.overdue_task_counts(association, today=today)
    return OversightHome(
        year=year,
        problems=problem_count,
        review_queue=queue.total,
        overdue_below=sum(n for a, n in overdue.items() if a != association.id),
    )


def shows_today(access: Access) -> bool:
    return access.can_write


def shows_oversight(access: Access, association: Association) -> bool:
    return (
        not association.kind.is_grassroots
        and access.can_read_registers
        and overseeing.oversees_below(access)
    )


def shows_member_home(access: Access) -> bool:
    return access.own_role is not None and not access.can_read_registers
