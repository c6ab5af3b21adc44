"""Confirmed hours: after a shift or recorded afterwards, the year's totals and the ranking."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.core.clock import CHINA
from app.extensions import db
from app.volunteers.models import (
    Assignment,
    AssignmentStatus,
    Shift,
    Volunteer,
)
from app.volunteers.services.common import (
    MAX_MINUTES,
    PAST_DAYS,
    VolunteerInvalid,
    VolunteerRefused,
    _writable,
)
from app.volunteers.services.shifts import _live_assignment
from app.volunteers.services.teams import leads_team
from tenants.models import Association


def may_confirm_hours(*, can_write: bool, user_id: int, shift: Shift) -> bool:
    """Only the secretary, staff, or the leader of the shift's team confirm hours."""
    return can_write or leads_team(user_id, shift.team_id)


def confirm_hours(
    shift: Shift,
    volunteer_id: int,
    minutes: int | None,
    *,
    association: Association,
    confirmed_by_id: int,
    now: datetime,
) -> Assignment | None:
    """Confirm the time a volunteer served on a shift (default: the shift's length). None when
    the volunteer is not on the shift."""
    minutes = shift.minutes if minutes is None else minutes
    if minutes <= 0:
        raise VolunteerInvalid({"hours": _l("Hours must be more than zero.")})
    if minutes > MAX_MINUTES:
        raise VolunteerInvalid({"hours": _l("At most 24 hours can be recorded for one shift.")})
    if now < shift.starts_at:
        raise VolunteerRefused(_l("Hours can be confirmed once the shift has started."))
    with _writable(association):
        assignment = _live_assignment(shift.id, volunteer_id)
        if assignment is None:
            return None
        if assignment.confirmed_at is not None:
            raise VolunteerRefused(_l("These hours are already confirmed."))
        assignment.minutes = minutes
        assignment.served_on = shift.starts_at.astimezone(CHINA).date()
        assignment.confirmed_at = now
        assignment.confirmed_by_id = confirmed_by_id
        db.session.flush()
        return assignment


def record_past_hours(
    volunteer: Volunteer,
    *,
    served_on: date | None,
    minutes: int | None,
    title: str,
    association: Association,
    recorded_by_id: int,
    now: datetime,
) -> Assignment:
    """Hours served without a shift in the app (a standalone entry): a one-person shift on that
    day, and the volunteer on it with the hours confirmed as of today."""
    problems = {}
    today = now.astimezone(CHINA).date()
    if not title.strip():
        problems["title"] = _l("Say what the volunteer did.")
    if served_on is None:
        problems["served_on"] = _l("Enter the day the volunteer served.")
    elif served_on > today:
        problems["served_on"] = _l("Hours are recorded once served: not for a future day.")
    elif served_on < today - timedelta(days=PAST_DAYS):
        problems["served_on"] = _l("Hours more than a year ago cannot be recorded.")
    if not minutes or minutes <= 0:
        problems["hours"] = _l("Hours must be more than zero.")
    elif minutes > MAX_MINUTES:
        problems["hours"] = _l("At most 24 hours can be recorded for one shift.")
    if problems:
        raise VolunteerInvalid(problems)
    if not volunteer.active:
        raise VolunteerRefused(_l("This volunteer is marked inactive."))
    starts_at = datetime.combine(served_on, time(9), tzinfo=CHINA).astimezone(UTC)
    with _writable(association):
        shift = Shift(
            title=title.strip()[:120],
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
            people_needed=1,
            created_by_id=recorded_by_id,
        )
        db.session.add(shift)
        db.session.flush()
        assignment = Assignment(
            shift_id=shift.id,
            volunteer_id=volunteer.id,
            status=AssignmentStatus.SIGNED_UP,
            assigned_by_id=recorded_by_id,
            minutes=minutes,
            served_on=served_on,
            confirmed_at=now,
            confirmed_by_id=recorded_by_id,
        )
        db.session.add(assignment)
        db.session.flush()
        return assignment


@dataclass(frozen=True)
class ServedShift:
    shift: Shift
    assignment: Assignment


def history_of(volunteer: Volunteer, *, limit: int = 100) -> list[ServedShift]:
    rows = db.session.execute(
        select(Assignment, Shift)
        .join(Shift, Shift.id == Assignment.shift_id)
        .where(
            Assignment.volunteer_id == volunteer.id,
            Assignment.status == AssignmentStatus.SIGNED_UP,
        )
        .order_by(Shift.starts_at.desc())
        .limit(limit)
    )
    return [ServedShift(shift, assignment) for assignment, shift in rows]


def confirmed_minutes_of(volunteer_id: int, year: int) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(Assignment.minutes), 0)).where(
                Assignment.volunteer_id == volunteer_id,
                Assignment.confirmed_at.is_not(None),
                Assignment.served_on >= date(year, 1, 1),
                Assignment.served_on < date(year + 1, 1, 1),
            )
        )
    )


def yearly_totals() -> list[tuple[int, int, int]]:
    """(year, confirmed minutes, volunteers who served) per year, newest first: one query."""
    year = func.extract("year", Assignment.served_on)
    rows = db.session.execute(
        select(year, func.sum(Assignment.minutes), func.count(Assignment.volunteer_id.distinct()))
        .where(Assignment.confirmed_at.is_not(None))
        .group_by(year)
        .order_by(year.desc())
    )
    return [(int(y), int(m or 0), int(n)) for y, m, n in rows]


@dataclass(frozen=True)
class RankingRow:
    rank: int
    volunteer_id: int
    name: str
    minutes: int
    shifts: int


def ranking(year: int, *, limit: int = 50) -> list[RankingRow]:
    """Volunteers by confirmed hours in the year, most first (ties share a rank): one query."""
    minutes = func.sum(Assignment.minutes)
    rows = db.session.execute(
        select(Volunteer.id, Volunteer.name, minutes, func.count(Assignment.id))
        .join(Assignment, Assignment.volunteer_id == Volunteer.id)
        .where(
            Assignment.confirmed_at.is_not(None),
            Assignment.served_on >= date(year, 1, 1),
            Assignment.served_on < date(year + 1, 1, 1),
        )
        .group_by(Volunteer.id, Volunteer.name)
        .order_by(minutes.desc(), Volunteer.name)
        .limit(limit)
    )
    result: list[RankingRow] = []
    for index, (volunteer_id, name, total, shifts) in enumerate(rows):
        rank = index + 1
        if result and result[-1].minutes == int(total):
            rank = result[-1].rank
        result.append(RankingRow(rank, volunteer_id, name, int(total), int(shifts)))
    return result


def confirmed_minutes_by_association(year: int) -> dict[int, int]:
    """Confirmed volunteer minutes per association in a year (Beijing dates), for every
    association the current tenant scope may read: wrap in `subtree_reads()` for a roll-up.
    One query."""
    rows = db.session.execute(
        select(Assignment.association_id, func.sum(Assignment.minutes))
        .where(
            Assignment.confirmed_at.is_not(None),
            Assignment.served_on >= date(year, 1, 1),
            Assignment.served_on < date(year + 1, 1, 1),
        )
        .group_by(Assignment.association_id)
    )
    return {association_id: int(total or 0) for association_id, total in rows}


def confirmed_hours_by_association(year: int) -> dict[int, float]:
    """The same in hours (one decimal), for dashboards."""
    return {a: round(m / 60, 1) for a, m in confirmed_minutes_by_association(year).items()}
