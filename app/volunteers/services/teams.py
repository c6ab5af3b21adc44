"""Volunteer teams: members, duties and the leader."""

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.volunteers.models import (
    Assignment,
    Shift,
    Team,
    TeamMember,
    Volunteer,
)
from app.volunteers.services.common import VolunteerInvalid
from app.volunteers.services.profiles import load_volunteer, volunteer_of_user


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
