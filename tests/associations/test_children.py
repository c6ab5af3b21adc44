"""A higher association sets up its children and invites each one's first secretary."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import Invitation, User
from app.associations import onboarding
from app.associations.models import PopulationRecord
from app.core.clock import utcnow
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Association, AssociationKind, Membership, Role
from tests.factories import PASSWORD, create_user

LINK = re.compile(r"https?://[^/\s]+(/invite/[A-Za-z0-9_-]+)")


def _new_village(**overrides):
    data = {
        "name": "新村计生协",
        "kind": "village",
        "division_code": "340104001007",
        "served_population": "2400",
        "secretary_name": "",
        "secretary_login": "",
    }
    data.update(overrides)
    return data


def _association(name):
    return db.session.scalar(select(Association).where(Association.name == name))


def _invitations_of(association):
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        return db.session.scalars(
            select(Invitation).where(Invitation.association_id == association.id)
        ).all()


def _link_path(outbox) -> str:
    return LINK.search(outbox[-1].body).group(1)


def test_township_secretary_creates_a_village_with_its_population(world, client_for):
    client = client_for(world.township_a_secretary.login)
    response = client.post("/a/township-a/children", _new_village())
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "新村计生协" in page
    village = _association("新村计生协")
    assert village.parent_id == world.township_a.id
    assert village.kind == AssociationKind.VILLAGE
    assert village.slug == "340104001007"
    assert village.path == f"{world.township_a.path}{village.id}/"
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        record = db.session.scalar(
            select(PopulationRecord).where(PopulationRecord.association_id == village.id)
        )
    assert record.population == 2400
    listing = client.get("/a/township-a/children").get_data(as_text=True)
    assert "新村计生协" in listing and "340104001007" in listing


def test_the_level_is_derived_from_the_division_code(world, client_for):
    county_secretary = client_for(
        _user_with_role("sec.county@test.cn", world.county, Role.SECRETARY).login
    )
    response = county_secretary.post(
        "/a/county/children",
        _new_village(name="新街道计生协", kind="", division_code="340104200000"),
    )
    assert response.status_code == 200
    assert _association("新街道计生协").kind == AssociationKind.TOWNSHIP


def test_a_village_level_code_without_a_kind_is_refused(world, client_for):
    client = client_for(world.township_a_secretary.login)
    response = client.post("/a/township-a/children", _new_village(kind=""))
    assert response.status_code == 422
    assert "choose the kind" in response.get_data(as_text=True)
    assert _association("新村计生协") is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"division_code": "340104002001"}, "must lie within the parent"),
        ({"division_code": "34010400100"}, "exactly 12 digits"),
        ({"division_code": "340104001000"}, "another level"),
        ({"served_population": "0"}, "population above zero"),
        ({"served_population": "-5"}, "population above zero"),
        ({"name": "village-a2计生协"}, "already has an association named"),
        ({"division_code": "340104001001", "name": "重复代码"}, "already has this division code"),
        ({"kind": "county"}, "Not a valid choice"),
        ({"secretary_name": "王芳"}, "Give both the secretary"),
        ({"secretary_name": "王芳", "secretary_login": "12345"}, "11-digit mobile number"),
    ],
)
def test_bad_children_are_refused_with_a_clear_message_and_nothing_written(
    world, client_for, overrides, message
):
    client = client_for(world.township_a_secretary.login)
    with UNSCOPED_BYPASS("test"):
        before = db.session.scalar(select(func.count(Association.id)))
    response = client.post("/a/township-a/children", _new_village(**overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Association.id))) == before
    assert _association("新村计生协") is None


def test_bad_input_messages_are_translated(world, client_for):
    client = client_for(world.township_a_secretary.login)
    client.post("/locale", {"locale": "zh_Hans_CN", "next": "/"})
    response = client.post("/a/township-a/children", _new_village(division_code="340104002001"))
    assert response.status_code == 422
    assert "上级" in response.get_data(as_text=True)


def test_a_grassroots_association_cannot_have_children(world, client_for):
    client = client_for(world.secretary_a1.login)
    response = client.post("/a/village-a1/children", _new_village())
    assert response.status_code == 422
    assert "cannot have associations under it" in response.get_data(as_text=True)


def test_only_the_secretary_may_create_children(world, client_for):
    for login in (world.staff_a1.login, world.county_auditor.login):
        assert client_for(login).post("/a/village-a1/children", _new_village()).status_code == 403
    # An auditor from above reads the township but may not set anything up in it.
    auditor = client_for(world.county_auditor.login)
    assert auditor.post("/a/township-a/children", _new_village()).status_code == 403
    # Outside one's own subtree the association does not exist.
    outsider = client_for(world.township_b_auditor.login)
    assert outsider.post("/a/township-a/children", _new_village()).status_code == 404
    assert _association("新村计生协") is None


def test_the_service_refuses_writes_into_a_child_from_outside_the_branch(app, world):
    with app.test_request_context():
        with pytest.raises(onboarding.OnboardingError):
            onboarding.invite_first_secretary(
                world.village_a1, world.secretary_b1, name="王芳", login="13900000001"
            )
        with pytest.raises(onboarding.OnboardingError):
            # A secretary of the child itself is not above it.
            onboarding.invite_first_secretary(
                world.village_a1, world.secretary_a1, name="王芳", login="13900000001"
            )
    assert _invitations_of(world.village_a1) == []


def test_first_secretary_accepts_the_link_and_lands_on_the_village(world, client_for, outbox):
    client = client_for(world.township_a_secretary.login)
    response = client.post(
        "/a/township-a/children",
        _new_village(secretary_name="王芳", secretary_login="139 0000 0001"),
    )
    assert response.status_code == 200
    village = _association("新村计生协")
    [invitation] = _invitations_of(village)
    assert invitation.role == Role.SECRETARY and invitation.login == "13900000001"
    assert outbox[-1].channel == "sms" and outbox[-1].to == "13900000001"
    path = _link_path(outbox)
    # The link reaches the secretary only: the inviter's page never shows it.
    assert path not in response.get_data(as_text=True)
    assert "139****0001" in response.get_data(as_text=True)

    newcomer = client_for()
    accepted = newcomer.post(path, {"name": "王芳", "password": PASSWORD, "confirm": PASSWORD})
    assert accepted.status_code == 302
    assert accepted.location.endswith(f"/a/{village.slug}/")
    home = newcomer.get(f"/a/{village.slug}/")
    assert home.status_code == 200 and "新村计生协" in home.get_data(as_text=True)
    user = db.session.scalar(select(User).where(User.login == "13900000001"))
    with UNSCOPED_BYPASS("test"):
        membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
    assert membership.association_id == village.id and membership.role == Role.SECRETARY
    # The link works once.
    assert newcomer.get(path).status_code == 410
    # The parent's list now names the secretary.
    assert "王芳" in client.get("/a/township-a/children").get_data(as_text=True)


def test_an_expired_invitation_link_is_refused_and_can_be_sent_again(world, client_for, outbox):
    secretary = client_for(world.township_a_secretary.login)
    child_page = f"/a/township-a/children/{world.village_a2.id}"
    response = secretary.post(f"{child_page}/invite", {"name": "李强", "login": "liqiang@test.cn"})
    assert response.status_code == 200
    old_path = _link_path(outbox)
    [invitation] = _invitations_of(world.village_a2)
    with UNSCOPED_BYPASS("test: let the invitation expire"):
        invitation.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert client_for().get(old_path).status_code == 410

    resent = secretary.post(f"{child_page}/invitation/resend")
    assert resent.status_code == 200
    new_path = _link_path(outbox)
    assert new_path != old_path
    assert client_for().get(old_path).status_code == 404
    assert client_for().get(new_path).status_code == 200


def test_a_revoked_invitation_link_is_refused(world, client_for, outbox):
    secretary = client_for(world.township_a_secretary.login)
    child_page = f"/a/township-a/children/{world.village_a2.id}"
    secretary.post(f"{child_page}/invite", {"name": "李强", "login": "13900000002"})
    path = _link_path(outbox)
    response = secretary.post(f"{child_page}/invitation/revoke")
    assert response.status_code == 303
    assert client_for().get(path).status_code == 410
    assert "Revoked" in secretary.get(child_page).get_data(as_text=True)


def test_inviting_a_login_that_already_holds_the_role_is_refused(world, client_for):
    secretary = client_for(world.township_a_secretary.login)
    response = secretary.post(
        f"/a/township-a/children/{world.village_a1.id}/invite",
        {"name": "秘书甲", "login": world.secretary_a1.login},
    )
    assert response.status_code == 422
    assert "already holds a role in this association" in response.get_data(as_text=True)
    assert _invitations_of(world.village_a1) == []


def test_a_child_of_another_parent_is_not_found(world, client_for):
    secretary = client_for(world.township_a_secretary.login)
    assert secretary.get(f"/a/township-a/children/{world.village_b1.id}").status_code == 404
    response = secretary.post(
        f"/a/township-a/children/{world.village_b1.id}/invite",
        {"name": "李强", "login": "13900000003"},
    )
    assert response.status_code == 404


def test_the_children_list_runs_a_fixed_number_of_queries(world, client_for, count_queries):
    secretary = client_for(world.township_a_secretary.login)
    secretary.get("/a/township-a/children")
    with count_queries() as few:
        secretary.get("/a/township-a/children")
    for number in range(12):
        secretary.post(
            "/a/township-a/children",
            _new_village(
                name=f"村{number}",
                division_code=f"3401040011{number:02d}",
                secretary_name=f"秘书{number}",
                secretary_login=f"139000001{number:02d}",
            ),
        )
    with count_queries() as many:
        page = secretary.get("/a/township-a/children")
    assert "村11" in page.get_data(as_text=True)
    assert len(many) == len(few)


def _user_with_role(login, association, role):
    from tests.factories import create_user

    return create_user(login, "县秘书", roles=[(association, role)])


def test_a_childs_page_names_its_own_secretaries_only(world, client_for):
    """The township's page of one village lists that village's secretary, not the secretaries of
    its sibling, of another township or of the township itself (a join through memberships once
    listed every association's secretaries)."""
    page = client_for(world.township_a_secretary.login).get(
        f"/a/township-a/children/{world.village_a1.id}"
    )
    assert page.status_code == 200
    listed = re.search(
        r'data-testid="child-secretaries">(.*?)</dd>', page.get_data(as_text=True), re.S
    ).group(1)
    assert listed == world.secretary_a1.name


def test_a_townships_page_does_not_name_the_secretaries_of_its_villages(world, client_for):
    county_secretary = create_user(
        "sec.county@test.cn", "县秘书", roles=[(world.county, Role.SECRETARY)]
    )
    page = client_for(county_secretary.login).get(f"/a/county/children/{world.township_a.id}")
    assert page.status_code == 200
    listed = re.search(
        r'data-testid="child-secretaries">(.*?)</dd>', page.get_data(as_text=True), re.S
    ).group(1)
    assert listed == world.township_a_secretary.name
