"""Rules of volunteering: profiles, teams, shifts with sign-up and assignment, confirmed hours,
totals and the ranking. No request, no flask.g: testable on their own.

Places on a shift are handed out with the shift row locked (SELECT … FOR UPDATE on PostgreSQL;
SQLite serialises writers), so a shift is never over-subscribed, also when many sign up at the
same moment. Members write here only through `sign_up` / `cancel` (their own sign-up) and, as
team leaders, `assign` / `confirm_hours`: those open the association's writable scope
explicitly after the rule that allows them has been checked.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.core import audit, crypto
from app.core.clock import CHINA
from app.core.dates import date_problem
from app.core.problems import Problem
from app.events.models import Event
from app.extensions import db
from app.members.idnumbers import mask_phone
from app.members.models import Household, Member, MemberStatus
from app.volunteers.models import (
    Assignment,
    AssignmentStatus,
    Shift,
    Team,
    TeamMember,
    Volunteer,
    VolunteerSettings,
)
from tenants.context import scope_for, tenant_context
from tenants.models import Association

MAX_PEOPLE = 1000
MAX_MINUTES = 24 * 60
MAX_REPEATS = 12
PAST_DAYS = 366  # how far back a shift or hours may be recorded after the fact


class VolunteerRefused(Problem):
    """An action the rules refuse; `message` is translated (lazy)."""


class VolunteerInvalid(Problem):
    """The input breaks a rule; `problems` maps a field name to a translated message."""


def _writable(association: Association):
    """The association's writable scope, for writes a member may make (their own sign-up,
    a team leader's actions); never for a suspended association."""
    return tenant_context(scope_for(association, writable=association.suspended_at is None))


def beijing_year_bounds(year: int) -> tuple[datetime, datetime]:
    start = datetime(year, 1, 1, tzinfo=CHINA).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=CHINA).astimezone(UTC)
    return start, end


# --- profiles ---------------------------------------------------------------------------------


@dataclass
class VolunteerInput:
    member_id: int | None = None
    name: str = ""
    phone: str | None = None  # validated and normalised by the form
    skills: str = ""
    availability: str = ""
    weekdays: list[str] = field(default_factory=list)
    times_of_day: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    active: bool = True


def telling_apart(people: list[tuple[int, str, str | None, str | None]]) -> list[tuple[int, str]]:
    """Picker choices from (id, name, phone tail, household): a name several people share is
    followed by the phone's last four digits, else the household, so that the two 王秀英 of a
    village can be told apart; a unique name stands alone."""
    counts = Counter(name for _, name, _, _ in people)
    choices = []
    for person_id, name, tail, household in people:
        if counts[name] > 1:
            extra = _l("phone …%(tail)s", tail=tail) if tail else household or f"#{person_id}"
            name = f"{name} · {extra}"
        choices.append((person_id, name))
    return choices


def member_choices() -> list[tuple[int, str]]:
    """Active members without a volunteer profile yet, by name (one query)."""
    taken = select(Volunteer.member_id).where(Volunteer.member_id.is_not(None))
    rows = db.session.execute(
        select(Member.id, Member.name, Member.phone_tail, Household.address)
        .outerjoin(Household, Household.id == Member.household_id)
        .where(Member.status == MemberStatus.ACTIVE, Member.id.not_in(taken))
        .order_by(Member.name, Member.id)
    )
    return telling_apart([tuple(row) for row in rows])


def volunteer_choices(volunteers: list[Volunteer]) -> list[tuple[int, str]]:
    return telling_apart(
        [
            (v.id, v.display_name, v.masked_phone[-4:] if v.masked_phone else None, None)
            for v in volunteers
        ]
    )


def _apply_profile(volunteer: Volunteer, data: VolunteerInput) -> None:
    volunteer.skills = data.skills.strip()
    volunteer.availability = data.availability.strip()
    volunteer.weekdays = data.weekdays
    volunteer.times_of_day = data.times_of_day
    volunteer.tags = data.tags
    volunteer.active = data.active


def _set_phone(volunteer: Volunteer, phone: str | None) -> None:
    volunteer.phone_encrypted = crypto.encrypt(phone) if phone else None
    volunteer.phone_hash = crypto.lookup_hash(phone) if phone else None
    volunteer.phone_masked = mask_phone(phone) or None


def create_volunteer(data: VolunteerInput) -> Volunteer:
    volunteer = Volunteer()
    if data.member_id:
        member = db.session.scalar(select(Member).where(Member.id == data.member_id))
        if member is None:
            raise VolunteerInvalid({"member_id": _l("Choose a member of this association.")})
        if db.session.scalar(select(Volunteer.id).where(Volunteer.member_id == member.id)):
            raise VolunteerInvalid(
                {"member_id": _l("This member already has a volunteer profile.")}
            )
        volunteer.member_id = member.id
        volunteer.name = member.name
    else:
        if not data.name.strip():
            raise VolunteerInvalid(
                {"name": _l("Choose a member, or enter the name of a volunteer who is not one.")}
            )
        volunteer.name = data.name.strip()
        _set_phone(volunteer, data.phone)
    _apply_profile(volunteer, data)
    db.session.add(volunteer)
    db.session.flush()
    return volunteer


def update_volunteer(volunteer: Volunteer, data: VolunteerInput) -> None:
    if volunteer.member is not None:
        volunteer.name = volunteer.member.name
    else:
        if not data.name.strip():
            raise VolunteerInvalid({"name": _l("Enter the volunteer's name.")})
        volunteer.name = data.name.strip()
        _set_phone(volunteer, data.phone)
    _apply_profile(volunteer, data)
    db.session.flush()


def record_person_view(volunteer: Volunteer) -> None:
    """A higher level opened a volunteer's profile or certificate: logged (PIPL)."""
    audit.record("view_person", association_id=volunteer.association_id, target=volunteer)


def phone_of(volunteer: Volunteer) -> str | None:
    if volunteer.member is not None:
        return crypto.decrypt(volunteer.member.phone_encrypted)
    return crypto.decrypt(volunteer.phone_encrypted)


def load_volunteer(volunteer_id: int) -> Volunteer | None:
    return db.session.scalar(select(Volunteer).where(Volunteer.id == volunteer_id))


def volunteer_of_user(user_id: int) -> Volunteer | None:
    """The signed-in user's own volunteer profile here (through their member record)."""
    return db.session.scalar(
        select(Volunteer)
        .join(Member, Member.id == Volunteer.member_id)
        .where(Member.user_id == user_id)
    )


def active_volunteers() -> list[Volunteer]:
    return list(
        db.session.scalars(
            select(Volunteer).where(Volunteer.active.is_(True)).order_by(Volunteer.name)
        )
    )


@dataclass(frozen=True)
class VolunteerRow:
    volunteer: Volunteer
    minutes: int  # confirmed this year
    shifts: int  # shifts served this year (confirmed)


def volunteer_list(year: int) -> list[VolunteerRow]:
    """Every volunteer with confirmed hours and shifts of the year: one query."""
    totals = (
        select(
            Assignment.volunteer_id.label("volunteer_id"),
            func.sum(Assignment.minutes).label("minutes"),
            func.count(Assignment.id).label("shifts"),
        )
        .where(
            Assignment.confirmed_at.is_not(None),
            Assignment.served_on >= date(year, 1, 1),
            Assignment.served_on < date(year + 1, 1, 1),
        )
        .group_by(Assignment.volunteer_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Volunteer, totals.c.minutes, totals.c.shifts)
        .outerjoin(totals, totals.c.volunteer_id == Volunteer.id)
        .order_by(Volunteer.active.desc(), Volunteer.name, Volunteer.id)
    ).unique()
    return [VolunteerRow(v, int(m or 0), int(s or 0)) for v, m, s in rows]


# --- teams ------------------------------------------------------------------------------------


@dataclass
class TeamInput:
    name: str
    leader_id: int | None = None
    duties: str = ""


def _check_team(data: TeamInput, *, exclude_id: int | None = None) -> None:
    problems = {}
    if not data.name.strip():
        problems["name"] = _l("Give the team a name.")
    else:
        clash = select(Team.id).where(Team.name == data.name.strip())
        if exclude_id is not None:
            clash = clash.where(Team.id != exclude_id)
        if db.session.scalar(clash):
            problems["name"] = _l("There is already a team with this name.")
    if data.leader_id and load_volunteer(data.leader_id) is None:
        problems["leader_id"] = _l("Choose a volunteer of this association.")
    if problems:
        raise VolunteerInvalid(problems)


def create_team(data: TeamInput) -> Team:
    _check_team(data)
    team = Team(name=data.name.strip(), duties=data.duties.strip())
    db.session.add(team)
    db.session.flush()
    _set_leader(team, data.leader_id)
    return team


def update_team(team: Team, data: TeamInput) -> None:
    _check_team(data, exclude_id=team.id)
    team.name = data.name.strip()
    team.duties = data.duties.strip()
    db.session.flush()
    _set_leader(team, data.leader_id)


def _set_leader(team: Team, volunteer_id: int | None) -> None:
    """One leader per team, who is also one of its members."""
    for row in db.session.scalars(
        select(TeamMember).where(TeamMember.team_id == team.id, TeamMember.is_leader.is_(True))
    ):
        row.is_leader = row.volunteer_id == volunteer_id
    if volunteer_id:
        row = _team_member(team.id, volunteer_id) or add_team_member(team, volunteer_id, duty="")
        row.is_leader = True
    db.session.flush()


def leader_id_of(team: Team) -> int | None:
    return db.session.scalar(
        select(TeamMember.volunteer_id).where(
            TeamMember.team_id == team.id, TeamMember.is_leader.is_(True)
        )
    )


def _team_member(team_id: int, volunteer_id: int) -> TeamMember | None:
    return db.session.scalar(
        select(TeamMember).where(
            TeamMember.team_id == team_id, TeamMember.volunteer_id == volunteer_id
        )
    )


def add_team_member(team: Team, volunteer_id: int | None, *, duty: str) -> TeamMember:
    if not volunteer_id or load_volunteer(volunteer_id) is None:
        raise VolunteerInvalid({"volunteer_id": _l("Choose a volunteer of this association.")})
    if _team_member(team.id, volunteer_id):
        raise VolunteerInvalid({"volunteer_id": _l("This volunteer is already in the team.")})

    row = TeamMember(team_id=team.id, volunteer_id=volunteer_id, duty=duty.strip())
    db.session.add(row)
    db.session.flush()
    return row


def remove_team_member(team: Team, volunteer_id: int) -> bool:
    row = _team_member(team.id, volunteer_id)
    if row is None:
        return False
    db.session.delete(row)
    db.session.flush()
    return True


def team_members(team: Team) -> list[tuple[TeamMember, Volunteer]]:
    return list(
        db.session.execute(
            select(TeamMember, Volunteer)
            .join(Volunteer, Volunteer.id == TeamMember.volunteer_id)
            .where(TeamMember.team_id == team.id)
            .order_by(Volunteer.name)
        ).unique()
    )


def load_team(team_id: int) -> Team | None:
    return db.session.scalar(select(Team).where(Team.id == team_id))


def all_teams() -> list[Team]:
    return list(db.session.scalars(select(Team).order_by(Team.name)))


@dataclass(frozen=True)
class TeamRow:
    team: Team
    leader_name: str | None
    people: int
    minutes: int  # confirmed this year


def team_list(year: int) -> list[TeamRow]:
    """Every team with its leader's name, head count and confirmed hours of the year: one
    query (two grouped subqueries joined to the teams)."""
    people = (
        select(TeamMember.team_id.label("team_id"), func.count(TeamMember.id).label("people"))
        .group_by(TeamMember.team_id)
        .subquery()
    )
    hours = (
        select(Shift.team_id.label("team_id"), func.sum(Assignment.minutes).label("minutes"))
        .join(Shift, Shift.id == Assignment.shift_id)
        .where(
            Assignment.confirmed_at.is_not(None),
            Assignment.served_on >= date(year, 1, 1),
            Assignment.served_on < date(year + 1, 1, 1),
            Shift.team_id.is_not(None),
        )
        .group_by(Shift.team_id)
        .subquery()
    )
    leader = (
        select(TeamMember.team_id.label("team_id"), Volunteer.name.label("name"))
        .join(Volunteer, Volunteer.id == TeamMember.volunteer_id)
        .where(TeamMember.is_leader.is_(True))
        .subquery()
    )
    rows = db.session.execute(
        select(Team, leader.c.name, people.c.people, hours.c.minutes)
        .outerjoin(leader, leader.c.team_id == Team.id)
        .outerjoin(people, people.c.team_id == Team.id)
        .outerjoin(hours, hours.c.team_id == Team.id)
        .order_by(Team.name)
    )
    return [TeamRow(t, leader, int(n or 0), int(m or 0)) for t, leader, n, m in rows]


def leads_team(user_id: int, team_id: int | None) -> bool:
    """Whether the user (through their volunteer profile) leads the team."""
    if team_id is None:
        return False
    volunteer = volunteer_of_user(user_id)
    if volunteer is None:
        return False
    return bool(
        db.session.scalar(
            select(TeamMember.id).where(
                TeamMember.team_id == team_id,
                TeamMember.volunteer_id == volunteer.id,
                TeamMember.is_leader.is_(True),
            )
        )
    )


# --- shifts -----------------------------------------------------------------------------------


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


# --- hours ------------------------------------------------------------------------------------


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


# --- settings ---------------------------------------------------------------------------------


def settings() -> VolunteerSettings | None:
    return db.session.scalar(select(VolunteerSettings))


def ranking_visible_to_members() -> bool:
    current = settings()
    return bool(current and current.ranking_visible_to_members)


def set_ranking_visible(visible: bool) -> None:
    current = settings()
    if current is None:
        current = VolunteerSettings()
        db.session.add(current)
    current.ranking_visible_to_members = visible
    db.session.flush()


def hours_text(minutes: int) -> str:
    """Minutes as hours with at most one decimal: 90 → "1.5", 120 → "2"."""
    hours = round(minutes / 60, 1)
    return f"{hours:g}"


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=CHINA).astimezone(UTC)
