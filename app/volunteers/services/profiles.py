"""Volunteer profiles: create, update, phone numbers, the list with the year's hours."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.core import audit, crypto
from app.core.phones import mask_phone
from app.extensions import db
from app.members.models import Household, Member, MemberStatus
from app.volunteers.models import (
    Assignment,
    Volunteer,
)
from app.volunteers.services.common import VolunteerInvalid


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
