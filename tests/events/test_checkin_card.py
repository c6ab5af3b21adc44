"""QR check-in at the door: the member's signed code ticks her name on the door list of an event
of her own association, a code of another association's member is refused with a clear message,
and the name/pinyin search on the list is the fallback."""

from datetime import timedelta

from sqlalchemy import delete, select

from app.core.clock import utcnow
from app.events.checkin_card import card_token, qr_svg, read_card
from app.events.models import EventScope, Registration, RegistrationStatus
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Membership, Role
from tests.factories import create_event, create_user


def membership_of(user, association) -> Membership:
    with UNSCOPED_BYPASS("test reads a membership"):
        return db.session.scalar(
            select(Membership).where(
                Membership.user_id == user.id, Membership.association_id == association.id
            )
        )


def token_of(user, association) -> str:
    membership = membership_of(user, association)
    return card_token(membership_id=membership.id, user_id=user.id, association_id=association.id)


def registrations(event_id: int) -> list[Registration]:
    with UNSCOPED_BYPASS("test reads the door list"):
        return list(
            db.session.scalars(
                select(Registration)
                .where(Registration.event_id == event_id)
                .execution_options(populate_existing=True)
            )
        )


def scan(client, association, event, token, **headers):
    return client.post(
        f"/a/{association.slug}/events/{event.id}/checkin/scan", {"token": token}, headers=headers
    )


def sign_up(client, association, event):
    response = client.post(f"/a/{association.slug}/events/{event.id}/signup")
    assert response.status_code == 303


def test_the_members_home_shows_the_code_that_checks_her_in(world, make_client):
    member = make_client(world.member_a1.login)
    token = token_of(world.member_a1, world.village_a1)
    assert qr_svg(token) in member.get(f"/a/{world.village_a1.slug}/").text
    holder = read_card(token)
    assert (holder.user_id, holder.association_id) == (world.member_a1.id, world.village_a1.id)


def test_scanning_a_signed_up_members_code_checks_her_in_once(world, make_client):
    event = create_event(world.village_a1)
    sign_up(make_client(world.member_a1.login), world.village_a1, event)
    secretary = make_client(world.secretary_a1.login)
    token = token_of(world.member_a1, world.village_a1)

    first = scan(secretary, world.village_a1, event, token, **{"HX-Request": "true"})
    assert first.status_code == 200
    assert "会员甲 已签到" in first.text
    assert 'hx-swap-oob="true"' in first.text  # count and list brought up to date
    [registration] = registrations(event.id)
    assert registration.checked_in_at is not None and not registration.walk_in

    again = scan(secretary, world.village_a1, event, token, **{"HX-Request": "true"})
    assert again.status_code == 200 and "已经签到过了" in again.text
    assert len(registrations(event.id)) == 1


def test_a_member_who_did_not_sign_up_is_added_as_she_comes(world, make_client):
    event = create_event(world.village_a1)
    secretary = make_client(world.secretary_a1.login)
    response = scan(secretary, world.village_a1, event, token_of(world.member_a1, world.village_a1))
    assert response.status_code == 303  # without htmx: back to the door list with a message
    page = secretary.get(response.location).text
    assert "会员甲 已签到" in page
    [registration] = registrations(event.id)
    assert registration.user_id == world.member_a1.id
    assert registration.status == RegistrationStatus.CONFIRMED and registration.walk_in
    assert registration.checked_in_at is not None


def test_a_code_of_another_associations_member_is_refused_clearly(world, make_client):
    event = create_event(world.village_a1)
    other = create_user("member.a2@test.cn", "会员乙", roles=[(world.village_a2, Role.MEMBER)])
    secretary = make_client(world.secretary_a1.login)
    response = scan(
        secretary,
        world.village_a1,
        event,
        token_of(other, world.village_a2),
        **{"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert "此码属于其他协会的会员，不能在本活动签到" in response.text
    assert registrations(event.id) == []


def test_an_event_open_to_the_subtree_checks_in_members_from_below(world, make_client):
    event = create_event(world.township_a, scope=EventScope.SUBTREE)
    secretary = make_client(world.township_a_secretary.login)
    response = scan(secretary, world.township_a, event, token_of(world.member_a1, world.village_a1))
    assert response.status_code == 303
    [registration] = registrations(event.id)
    assert registration.home_association_id == world.village_a1.id


def test_a_forged_altered_or_ended_code_checks_no_one_in(world, make_client):
    event = create_event(world.village_a1)
    secretary = make_client(world.secretary_a1.login)
    token = token_of(world.member_a1, world.village_a1)
    membership = membership_of(world.member_a1, world.village_a1)
    forged = card_token(
        membership_id=membership.id, user_id=world.member_a1.id, association_id=world.village_a1.id
    ).replace("XHC1.", "XHC1.x")
    altered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for bad in (forged, altered, "", "https://example.com/", "XHC1.[1,2,3]"):
        response = scan(secretary, world.village_a1, event, bad, **{"HX-Request": "true"})
        assert response.status_code == 422 and "这不是会员签到码" in response.text
    with UNSCOPED_BYPASS("test ends the membership"):
        db.session.execute(delete(Membership).where(Membership.id == membership.id))
        db.session.commit()
    response = scan(secretary, world.village_a1, event, token, **{"HX-Request": "true"})
    assert response.status_code == 422 and "已失效" in response.text
    assert registrations(event.id) == []


def test_only_the_events_secretary_or_staff_can_use_a_code(world, make_client):
    event = create_event(world.village_a1)
    token = token_of(world.member_a1, world.village_a1)
    assert (
        scan(make_client(world.member_a1.login), world.village_a1, event, token).status_code == 403
    )
    assert (
        scan(make_client(world.county_auditor.login), world.village_a1, event, token).status_code
        == 403
    )
    # Another association's secretary cannot reach this event at all.
    assert (
        scan(make_client(world.secretary_a2.login), world.village_a1, event, token).status_code
        == 404
    )
    anonymous = scan(make_client(), world.village_a1, event, token)
    assert anonymous.status_code == 302 and "/login" in anonymous.location
    assert registrations(event.id) == []
    staff = make_client(world.staff_a1.login)
    assert scan(staff, world.village_a1, event, token).status_code == 303


def test_the_door_list_finds_names_by_pinyin_initials(world, make_client):
    event = create_event(world.village_a1, starts_at=utcnow() + timedelta(days=3))
    sign_up(make_client(world.member_a1.login), world.village_a1, event)
    secretary = make_client(world.secretary_a1.login)
    secretary.post(f"/a/{world.village_a1.slug}/events/{event.id}/walk-in", {"name": "张三"})
    url = f"/a/{world.village_a1.slug}/events/{event.id}/checkin"
    by_initials = secretary.get(url + "?q=hy", headers={"HX-Request": "true"})
    assert by_initials.status_code == 200
    assert "会员甲" in by_initials.text and "张三" not in by_initials.text
    assert "<html" not in by_initials.text  # only the list, for htmx
    by_name = secretary.get(url + "?q=张").text
    assert "张三" in by_name.split('data-testid="door-list"')[1]
    assert "会员甲" not in by_name.split('data-testid="door-list"')[1]
    nobody = secretary.get(url + "?q=xyz", headers={"HX-Request": "true"}).text
    assert "名单中没有匹配的人" in nobody
