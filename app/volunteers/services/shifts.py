"""Shifts, and places on them: sign-up, assignment, cancellation, with the shift row locked."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.core.clock import CHINA
from app.core.dates import date_problem
from app.events.models import Event
from app.extensions import db
from app.volunteers.models import (
    Assignment,
    AssignmentStatus,
    Shift,
    Team,
    Volunteer,
)
from app.volunteers.services.common import (
    MAX_PEOPLE,
    MAX_REPEATS,
    PAST_DAYS,
    VolunteerInvalid,
    VolunteerRefused,
    _writable,
)
from app.volunteers.services.profiles import load_volunteer
from app.volunteers.services.teams import load_team
from tenants.models import Association


@dataclass
class ShiftInput:
    title: str
    starts_at: datetime | None
    ends_at: datetime | None
    people_needed: int | None
    place: str = ""
    team_id: int | None = None
    event_id: int | None = None
    repeat_weeks: int = 0  # further copies, one week apart (a recurring task)


def shift_problems(data: ShiftInput, *, now: datetime) -> dict:
    problems = {}
    if not data.title.strip():
        problems["title"] = _l("Give the shift a title.")
    if data.starts_at is None:
        problems["starts_at"] = _l("Enter when the shift starts.")
    if data.ends_at is None:
        problems["ends_at"] = _l("Enter when the shift ends.")
    if data.starts_at and data.ends_at and data.ends_at <= data.starts_at:
        problems["ends_at"] = _l("The shift must end after it starts.")
    # A past shift is recorded after the fact (hours then confirmed on it), up to a year back.
    if data.starts_at and data.starts_at < now - timedelta(days=PAST_DAYS):
        problems["starts_at"] = _l("A shift more than a year ago cannot be recorded.")
    for name in ("starts_at", "ends_at"):
        instant = getattr(data, name)
        if instant is not None and (problem := date_problem(instant.astimezone(CHINA))):
            problems[name] = problem
    if data.people_needed is None or data.people_needed <= 0:
        problems["people_needed"] = _l("At least one person must be needed.")
    elif data.people_needed > MAX_PEOPLE:
        problems["people_needed"] = _l("At most %(n)d people per shift.", n=MAX_PEOPLE)
    if not 0 <= (data.repeat_weeks or 0) <= MAX_REPEATS:
        problems["repeat_weeks"] = _l("Repeat at most %(n)d weeks.", n=MAX_REPEATS)
    if data.team_id and load_team(data.team_id) is None:
        problems["team_id"] = _l("Choose a team of this association.")
    if (
        data.event_id
        and db.session.scalar(select(Event.id).where(Event.id == data.event_id)) is None
    ):
        problems["event_id"] = _l("Choose an event of this association.")
    return problems


def create_shifts(data: ShiftInput, *, created_by_id: int | None, now: datetime) -> list[Shift]:
    """The shift, and for a recurring task one copy a week for `repeat_weeks` weeks."""
    problems = shift_problems(data, now=now)
    if problems:
        raise VolunteerInvalid(problems)
    shifts = []
    for week in range((data.repeat_weeks or 0) + 1):
        shift = Shift(
            title=data.title.strip(),
            starts_at=data.starts_at + timedelta(weeks=week),
            ends_at=data.ends_at + timedelta(weeks=week),
            people_needed=data.people_needed,
            place=data.place.strip(),
            team_id=data.team_id or None,
            event_id=data.event_id or None,
            created_by_id=created_by_id,
        )
        db.session.add(shift)
        shifts.append(shift)
    db.session.flush()
    return shifts


def update_shift(shift: Shift, data: ShiftInput, *, now: datetime) -> None:
    problems = shift_problems(data, now=now)
    locked = _lock(shift.id)
    taken = _signed_up_count(locked.id)
    if "people_needed" not in problems and data.people_needed < taken:
        problems["people_needed"] = _l(
            "%(n)d people are already on this shift: it cannot need fewer.", n=taken
        )
    if problems:
        raise VolunteerInvalid(problems)
    locked.title = data.title.strip()
    locked.starts_at = data.starts_at
    locked.ends_at = data.ends_at
    locked.people_needed = data.people_needed
    locked.place = data.place.strip()
    locked.team_id = data.team_id or None
    locked.event_id = data.event_id or None
    db.session.flush()


def load_shift(shift_id: int) -> Shift | None:
    return db.session.scalar(select(Shift).where(Shift.id == shift_id))


def event_choices(*, now: datetime) -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(Event.id, Event.title, Event.starts_at)
        .where(Event.ends_at >= now - timedelta(days=30))
        .order_by(Event.starts_at)
    )
    return [(i, f"{t} ({s.astimezone(CHINA):%m-%d})") for i, t, s in rows]


@dataclass(frozen=True)
class ShiftRow:
    shift: Shift
    taken: int
    team_name: str | None
    event_title: str | None

    @property
    def missing(self) -> int:
        return max(self.shift.people_needed - self.taken, 0)


def _taken_subquery():
    return (
        select(Assignment.shift_id.label("shift_id"), func.count(Assignment.id).label("taken"))
        .where(Assignment.status == AssignmentStatus.SIGNED_UP)
        .group_by(Assignment.shift_id)
        .subquery()
    )


def shift_rows(
    *, now: datetime, gaps_only: bool = False, limit: int = 200, past: bool = False
) -> list[ShiftRow]:
    """Upcoming (or recent past) shifts with how many are on each, their team and event: one
    query. `gaps_only`: those still short of people."""
    taken = _taken_subquery()
    taken_count = func.coalesce(taken.c.taken, 0)
    query = (
        select(Shift, taken_count, Team.name, Event.title)
        .outerjoin(taken, taken.c.shift_id == Shift.id)
        .outerjoin(Team, Team.id == Shift.team_id)
        .outerjoin(Event, Event.id == Shift.event_id)
    )
    if past:
        query = query.where(Shift.ends_at < now).order_by(Shift.starts_at.desc(), Shift.id.desc())
    else:
        query = query.where(Shift.ends_at >= now).order_by(Shift.starts_at, Shift.id)
    if gaps_only:
        query = query.where(taken_count < Shift.people_needed, Shift.starts_at >= now)
    rows = db.session.execute(query.limit(limit))
    return [ShiftRow(s, int(n), team, event) for s, n, team, event in rows]


def gap_count(*, now: datetime) -> int:
    taken = _taken_subquery()
    return db.session.scalar(
        select(func.count(Shift.id))
        .outerjoin(taken, taken.c.shift_id == Shift.id)
        .where(Shift.starts_at >= now, func.coalesce(taken.c.taken, 0) < Shift.people_needed)
    )


def shift_people(shift: Shift) -> list[tuple[Assignment, Volunteer]]:
    """Who is on the shift (and who cancelled, last), by name."""
    return list(
        db.session.execute(
            select(Assignment, Volunteer)
            .join(Volunteer, Volunteer.id == Assignment.volunteer_id)
            .where(Assignment.shift_id == shift.id)
            .order_by(Assignment.status.desc(), Volunteer.name)
        ).unique()
    )


def _lock(shift_id: int) -> Shift:
    """The shift row, locked until the transaction ends (PostgreSQL); fresh from the database."""
    return db.session.scalar(
        select(Shift)
        .where(Shift.id == shift_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _signed_up_count(shift_id: int) -> int:
    return db.session.scalar(
        select(func.count()).where(
            Assignment.shift_id == shift_id, Assignment.status == AssignmentStatus.SIGNED_UP
        )
    )


def _put_on_shift(
    shift: Shift,
    volunteer: Volunteer,
    *,
    assigned_by_id: int | None,
    now: datetime,
    own: bool,
) -> Assignment:
    locked = _lock(shift.id)
    if locked is None:
        raise VolunteerRefused(_l("This shift no longer exists."))
    if own and now >= locked.starts_at:
        raise VolunteerRefused(_l("This shift has already started: sign-up is closed."))
    if not volunteer.active:
        raise VolunteerRefused(_l("This volunteer is marked inactive."))
    existing = db.session.scalar(
        select(Assignment).where(
            Assignment.shift_id == locked.id, Assignment.volunteer_id == volunteer.id
        )
    )
    if existing is not None and existing.status == AssignmentStatus.SIGNED_UP:
        if own:
            raise VolunteerRefused(_l("You are already signed up for this shift."))
        raise VolunteerRefused(
            _l("%(name)s is already on this shift.", name=volunteer.display_name)
        )
    if _signed_up_count(locked.id) >= locked.people_needed:
        raise VolunteerRefused(_l("This shift already has all the people it needs."))
    assignment = existing or Assignment(shift_id=locked.id, volunteer_id=volunteer.id)
    assignment.status = AssignmentStatus.SIGNED_UP
    assignment.assigned_by_id = assigned_by_id
    assignment.reminded_at = None
    if existing is None:
        db.session.add(assignment)
    try:
        db.session.flush()
    except IntegrityError:  # the same person added twice at the same moment
        db.session.rollback()
        raise VolunteerRefused(_l("You are already signed up for this shift.")) from None
    return assignment


def sign_up(
    shift: Shift, *, volunteer: Volunteer | None, association: Association, now
) -> Assignment:
    """A volunteer puts themselves on a shift (the caller checked they hold a role here)."""
    if volunteer is None:
        raise VolunteerRefused(
            _l("Only volunteers can sign up for shifts: ask the secretary to register you.")
        )
    with _writable(association):
        return _put_on_shift(shift, volunteer, assigned_by_id=None, now=now, own=True)


def assign(
    shift: Shift,
    volunteer_id: int | None,
    *,
    association: Association,
    assigned_by_id: int,
    now: datetime,
) -> Assignment:
    """The secretary, staff or the shift's team leader puts a volunteer on the shift (the caller
    checked who may)."""
    volunteer = load_volunteer(volunteer_id) if volunteer_id else None
    if volunteer is None:
        raise VolunteerRefused(_l("Choose a volunteer of this association."))
    with _writable(association):
        return _put_on_shift(shift, volunteer, assigned_by_id=assigned_by_id, now=now, own=False)


def cancel(shift: Shift, *, volunteer: Volunteer | None, association: Association, now) -> None:
    """A volunteer takes themselves off a shift that has not started."""
    with _writable(association):
        locked = _lock(shift.id)
        if now >= locked.starts_at:
            raise VolunteerRefused(_l("The shift has started: it can no longer be cancelled."))
        assignment = _live_assignment(locked.id, volunteer.id) if volunteer else None
        if assignment is None:
            raise VolunteerRefused(_l("You are not signed up for this shift."))
        assignment.status = AssignmentStatus.CANCELLED
        db.session.flush()


def remove_from_shift(shift: Shift, volunteer_id: int, *, association: Association) -> bool:
    """Staff or the team leader take someone off a shift; hours already confirmed stay."""
    with _writable(association):
        assignment = _live_assignment(shift.id, volunteer_id)
        if assignment is None:
            return False
        if assignment.confirmed_at is not None:
            raise VolunteerRefused(_l("Hours are confirmed for this person: they stay on it."))
        assignment.status = AssignmentStatus.CANCELLED
        db.session.flush()
        return True


def _live_assignment(shift_id: int, volunteer_id: int) -> Assignment | None:
    return db.session.scalar(
        select(Assignment).where(
            Assignment.shift_id == shift_id,
            Assignment.volunteer_id == volunteer_id,
            Assignment.status == AssignmentStatus.SIGNED_UP,
        )
    )


def my_assignments(volunteer: Volunteer, shifts: list[Shift]) -> dict[int, Assignment]:
    ids = [shift.id for shift in shifts]
    if not ids:
        return {}
    rows = db.session.scalars(
        select(Assignment).where(
            Assignment.shift_id.in_(ids),
            Assignment.volunteer_id == volunteer.id,
            Assignment.status == AssignmentStatus.SIGNED_UP,
        )
    )
    return {row.shift_id: row for row in rows}
