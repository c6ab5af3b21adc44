"""People and roles inside an association: roles, removal, disabling, oversight from above."""

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.associations import people
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tenants.models import Membership, Role
from tests.factories import create_user, reload


def _membership(user, association):
    db.session.commit()  # a fresh snapshot: the requests ran in their own sessions
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        return db.session.scalar(
            select(Membership).where(
                Membership.user_id == user.id, Membership.association_id == association.id
            )
        )


def _fresh(model, id_):
    db.session.commit()
    return reload(model, id_)


def test_secretary_changes_a_role(world, client_for):
    secretary = client_for(world.secretary_a1.login)
    membership = _membership(world.staff_a1, world.village_a1)
    response = secretary.post(f"/a/village-a1/people/{membership.id}/change", {"role": "member"})
    assert response.status_code == 303
    page = secretary.get("/a/village-a1/people").get_data(as_text=True)
    assert "The role has been changed." in page
    assert _membership(world.staff_a1, world.village_a1).role == Role.MEMBER


def test_a_secretary_cannot_change_their_own_role(world, client_for):
    secretary = client_for(world.secretary_a1.login)
    membership = _membership(world.secretary_a1, world.village_a1)
    secretary.post(f"/a/village-a1/people/{membership.id}/change", {"role": "member"})
    page = secretary.get("/a/village-a1/people").get_data(as_text=True)
    assert "You cannot change your own access" in page
    assert _membership(world.secretary_a1, world.village_a1).role == Role.SECRETARY


def test_the_last_secretary_stays(app, world):
    membership = _membership(world.secretary_a1, world.village_a1)
    with app.test_request_context(), tenant_context(scope_for(world.village_a1, writable=True)):
        with pytest.raises(people.PeopleError, match="至少要保留一名秘书长"):
            people.change_role(membership, Role.STAFF, world.staff_a1)
        with pytest.raises(people.PeopleError, match="至少要保留一名秘书长"):
            people.remove_access(membership, world.staff_a1)


def test_auditors_cannot_be_named_in_a_grassroots_association(app, world):
    membership = _membership(world.staff_a1, world.village_a1)
    scope = scope_for(world.village_a1, writable=True)
    with app.test_request_context(), tenant_context(scope), pytest.raises(people.PeopleError):
        people.change_role(membership, Role.AUDITOR, world.secretary_a1)


def test_disabling_a_login_ends_its_sessions_at_once(world, client_for):
    staff = client_for(world.staff_a1.login)
    assert staff.get("/a/village-a1/").status_code == 200
    secretary = client_for(world.secretary_a1.login)
    membership_id = _membership(world.staff_a1, world.village_a1).id
    assert secretary.post(f"/a/village-a1/people/{membership_id}/disable").status_code == 303
    page = secretary.get("/a/village-a1/people").get_data(as_text=True)
    assert "The login has been disabled" in page and 'data-testid="disabled"' in page
    # The staff member's open session is over on their very next request.
    after = staff.get("/a/village-a1/")
    assert after.status_code == 302 and "/login" in after.location
    refused = staff.post(
        "/login", {"login": world.staff_a1.login, "password": "Test-Password-2026"}
    )
    assert refused.status_code == 422
    assert "This account has been disabled." in refused.get_data(as_text=True)
    # Enabled again, the person signs in as before.
    secretary.post(f"/a/village-a1/people/{membership_id}/enable")
    assert _fresh(User, world.staff_a1.id).disabled_at is None
    staff.login(world.staff_a1.login)


def test_a_login_with_roles_elsewhere_is_not_disabled_but_can_be_removed(world, client_for):
    both = create_user(
        "both@test.cn",
        "两边",
        roles=[(world.village_a1, Role.STAFF), (world.village_b1, Role.STAFF)],
    )
    secretary = client_for(world.secretary_a1.login)
    membership_id = _membership(both, world.village_a1).id
    secretary.post(f"/a/village-a1/people/{membership_id}/disable")
    page = secretary.get("/a/village-a1/people").get_data(as_text=True)
    assert "also has access to other associations" in page
    assert _fresh(User, both.id).disabled_at is None

    assert secretary.post(f"/a/village-a1/people/{membership_id}/remove").status_code == 303
    assert _membership(both, world.village_a1) is None
    assert _membership(both, world.village_b1) is not None
    removed = client_for(both.login)
    assert removed.get("/a/village-a1/").status_code == 404
    assert removed.get("/a/village-b1/").status_code == 200


def test_people_page_lists_who_oversees_from_above_read_only(world, client_for):
    page = client_for(world.secretary_a1.login).get("/a/village-a1/people").get_data(as_text=True)
    overseers = page.split('data-testid="overseers"')[1].split("</ul>")[0]
    assert "街道秘书" in overseers and "township-a计生协" in overseers
    assert "县审核员" in overseers and "county计生协" in overseers
    assert "镇审核员" not in overseers  # another branch's auditor sees nothing here
    # Oversight is listed, not editable: no forms in that list.
    assert "<form" not in overseers


def test_a_membership_of_another_association_is_not_found(world, client_for):
    secretary = client_for(world.secretary_a1.login)
    other = _membership(world.secretary_a2, world.village_a2)
    assert secretary.post(f"/a/village-a1/people/{other.id}/disable").status_code == 404
    assert _fresh(User, world.secretary_a2.id).disabled_at is None
