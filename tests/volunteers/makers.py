"""Test data for volunteering: profiles, teams, shifts and sign-ups, each committed."""

from datetime import timedelta

from app.core.clock import utcnow
from app.extensions import db
from app.volunteers import services
from app.volunteers.models import Assignment, AssignmentStatus, Shift
from tenants.context import scope_for, tenant_context
from tests.factories import create_member


def _detached(obj):
    db.session.refresh(obj)
    db.session.expunge(obj)
    return obj


def create_volunteer(association, name: str = "志愿者甲", *, user=None, member=True, **fields):
    """A volunteer; a member of the register (linked to `user`'s login when given) by default,
    else a non-member with a phone of their own."""
    member_id = None
    if member:
        member_id = create_member(
            association,
            name=name,
            user_id=user.id if user else None,
            phone=fields.pop("phone", None),
        ).id
    with tenant_context(scope_for(association, writable=True)):
        volunteer = services.create_volunteer(
            services.VolunteerInput(member_id=member_id, name=name, **fields)
        )
        db.session.commit()
        return _detached(volunteer)


def create_team(association, name: str = "梨花志愿队", *, leader=None, members=()):
    with tenant_context(scope_for(association, writable=True)):
        team = services.create_team(
            services.TeamInput(name=name, leader_id=leader.id if leader else None)
        )
        for volunteer in members:
            services.add_team_member(team, volunteer.id, duty="3栋")
        db.session.commit()
        return _detached(team)


def create_shift(
    association, title: str = "活动引导", *, starts_in=timedelta(days=3), hours: float = 2, **fields
):
    start = utcnow() + starts_in
    with tenant_context(scope_for(association, writable=True)):
        shift = Shift(
            title=title,
            starts_at=start,
            ends_at=fields.pop("ends_at", start + timedelta(hours=hours)),
            people_needed=fields.pop("people_needed", 2),
            place=fields.pop("place", "社区广场"),
            **fields,
        )
        db.session.add(shift)
        db.session.commit()
        return _detached(shift)


def put_on_shift(association, shift, volunteer, **fields) -> Assignment:
    """An assignment written directly (past shifts too), bypassing the sign-up rules."""
    with tenant_context(scope_for(association, writable=True)):
        assignment = Assignment(
            shift_id=shift.id,
            volunteer_id=volunteer.id,
            status=fields.pop("status", AssignmentStatus.SIGNED_UP),
            **fields,
        )
        db.session.add(assignment)
        db.session.commit()
        return _detached(assignment)
