"""Invitation links: sending, accepting once, expiry, revocation, existing accounts."""

import re
from datetime import timedelta

from sqlalchemy import select

from app.accounts.models import Invitation, User
from app.core.clock import utcnow
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Membership


def _invite(client, world, login="new.staff@test.cn", role="staff"):
    return client.post(
        f"/a/{world.village_a1.slug}/people/invite",
        {"name": "新干事", "login": login, "role": role},
    )


def _token(outbox) -> str:
    return re.search(r"/invite/(\S+)", outbox[-1].body).group(1)


def test_invited_person_sets_a_password_and_lands_in_the_association(world, make_client, outbox):
    secretary = make_client(world.secretary_a1.login)
    response = _invite(secretary, world)
    assert response.status_code == 200
    token = _token(outbox)
    assert outbox[-1].to == "new.staff@test.cn"
    assert "/invite/" not in response.text  # the link goes to the invitee only
    newcomer = make_client()
    page = newcomer.get(f"/invite/{token}")
    assert world.village_a1.name in page.text and "工作人员" in page.text
    done = newcomer.post(
        f"/invite/{token}",
        {"name": "新干事", "password": "Strong-pass-2026", "confirm": "Strong-pass-2026"},
    )
    assert done.status_code == 302 and done.location == f"/a/{world.village_a1.slug}/"
    assert newcomer.get(done.location).status_code == 200
    # The link works once.
    assert make_client().get(f"/invite/{token}").status_code == 410


def test_a_staff_invitee_must_choose_a_staff_strength_password(world, make_client, outbox):
    _invite(make_client(world.secretary_a1.login), world)
    token = _token(outbox)
    response = make_client().post(
        f"/invite/{token}", {"name": "新干事", "password": "short-pw", "confirm": "short-pw"}
    )
    assert response.status_code == 422 and "12" in response.text
    with UNSCOPED_BYPASS("test checks nothing was created"):
        assert db.session.scalar(select(User).where(User.login == "new.staff@test.cn")) is None


def test_revoked_and_expired_invitations_no_longer_work(world, make_client, outbox):
    secretary = make_client(world.secretary_a1.login)
    _invite(secretary, world, login="one@test.cn")
    revoked_token = _token(outbox)
    _invite(secretary, world, login="two@test.cn")
    expired_token = _token(outbox)
    with UNSCOPED_BYPASS("test arranges the invitations"):
        first, second = db.session.scalars(select(Invitation).order_by(Invitation.id)).all()
        second.expires_at = utcnow() - timedelta(minutes=1)
        first_id = first.id
        db.session.commit()
    assert (
        secretary.post(
            f"/a/{world.village_a1.slug}/people/invitations/{first_id}/revoke"
        ).status_code
        == 303
    )
    revoked = make_client().get(f"/invite/{revoked_token}")
    assert revoked.status_code == 410 and "已被协会撤回" in revoked.text
    expired = make_client().get(f"/invite/{expired_token}")
    assert expired.status_code == 410 and "已过期" in expired.text


def test_inviting_someone_who_already_holds_a_role_is_refused(world, make_client):
    response = _invite(make_client(world.secretary_a1.login), world, login=world.member_a1.login)
    assert response.status_code == 422
    assert "已在本协会担任角色" in response.text


def test_an_existing_account_joins_with_one_click_and_keeps_its_password(
    world, make_client, outbox
):
    _invite(make_client(world.secretary_a1.login), world, login=world.secretary_b1.login)
    token = _token(outbox)
    invitee = make_client(world.secretary_b1.login)
    assert invitee.post(f"/invite/{token}").status_code == 302
    with UNSCOPED_BYPASS("test checks the new membership"):
        roles = db.session.scalars(
            select(Membership.association_id).where(Membership.user_id == world.secretary_b1.id)
        ).all()
    assert sorted(roles) == sorted([world.village_b1.id, world.village_a1.id])


def test_an_unknown_invitation_token_is_not_found(world, make_client):
    assert make_client().get("/invite/made-up").status_code == 404


def test_a_bad_invitation_form_keeps_what_was_typed(world, make_client):
    response = make_client(world.secretary_a1.login).post(
        f"/a/{world.village_a1.slug}/people/invite",
        {"name": "老王", "login": "not-a-phone", "role": "staff"},
    )
    assert response.status_code == 422
    assert "请输入邮箱地址或11位手机号" in response.text
    assert 'value="老王"' in response.text
