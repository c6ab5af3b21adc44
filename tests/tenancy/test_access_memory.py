"""Each worker keeps a user's access per association under her roles stamp: a role granted,
changed or taken away counts from her very next request, and nobody is ever handed another
user's access."""

from sqlalchemy import select, update

from app.accounts.models import User
from app.extensions import db
from tenants.context import scope_for, tenant_context
from tenants.models import Membership, Role
from tests.factories import reload

MEMBERS = "/a/village-a1/members/"


def _membership(world, user) -> Membership:
    return db.session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.association_id == world.village_a1.id
        )
    )


def test_a_role_taken_away_counts_from_the_next_request(world, make_client):
    staff = make_client(world.staff_a1.login)
    assert staff.get(MEMBERS).status_code == 200
    stamp = reload(User, world.staff_a1.id).roles_stamp
    with tenant_context(scope_for(world.village_a1, writable=True)):
        db.session.delete(_membership(world, world.staff_a1))
        db.session.commit()
    assert reload(User, world.staff_a1.id).roles_stamp != stamp
    assert staff.get(MEMBERS).status_code == 404


def test_a_changed_role_counts_from_the_next_request(world, make_client):
    staff = make_client(world.staff_a1.login)
    assert staff.get(MEMBERS).status_code == 200
    with tenant_context(scope_for(world.village_a1, writable=True)):
        _membership(world, world.staff_a1).role = Role.MEMBER
        db.session.commit()
    assert staff.get(MEMBERS).status_code == 403


def test_a_role_granted_above_counts_from_the_next_request(world, make_client):
    other = make_client(world.secretary_b1.login)
    assert other.get(MEMBERS).status_code == 404
    with tenant_context(scope_for(world.township_a, writable=True)):
        db.session.add(Membership(user_id=world.secretary_b1.id, role=Role.AUDITOR))
        db.session.commit()
    assert other.get(MEMBERS).status_code == 200
    assert other.post(f"{MEMBERS}new", {"name": "越权"}).status_code == 403  # read-only


def test_a_user_is_never_handed_another_users_access(world, make_client):
    secretary = make_client(world.secretary_a1.login)
    assert secretary.get(MEMBERS).status_code == 200
    # Even with the same stamp as the secretary, another user reads her own access.
    stamp = reload(User, world.secretary_a1.id).roles_stamp
    db.session.execute(
        update(User).where(User.id == world.secretary_b1.id).values(roles_stamp=stamp)
    )
    db.session.commit()
    assert make_client(world.secretary_b1.login).get(MEMBERS).status_code == 404
