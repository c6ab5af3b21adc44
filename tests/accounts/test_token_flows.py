"""Every link that can create an account or act for one, as a table (SECURITY.md: "a link is
not an identity"): flow x (new, existing account) x (the holder is / is not the login's owner)
x (signed out / signed in as someone else). A flow or a combination missing from EXPECTED fails
the test, like the route sweep.

"Not the owner" is the inviter (or whoever asked for a reset): the test first checks that
nothing the app showed them holds the link, then uses the link as if it had leaked anyway.
"""

import csv
import io
import itertools
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.passwords import verify_password
from app.core.audit import AuditLog
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Association, Membership, Role
from tests.factories import PASSWORD

FLOWS = (
    "member_invitation",
    "staff_invitation",
    "child_secretary_invitation",
    "bulk_onboarding_invitation",
    "password_reset",
)
ACCOUNTS = ("new", "existing")
HOLDERS = ("owner", "not_owner")
SESSIONS = ("signed_out", "signed_in_as_other")

INVITATIONS = FLOWS[:4]
EXPECTED: dict[tuple[str, str, str, str], str] = {}
for _flow in INVITATIONS:
    EXPECTED |= {
        (_flow, "new", "owner", "signed_out"): "creates_account",
        (_flow, "new", "owner", "signed_in_as_other"): "refused",
        (_flow, "new", "not_owner", "signed_out"): "never_reaches_holder",
        (_flow, "new", "not_owner", "signed_in_as_other"): "refused",
        (_flow, "existing", "owner", "signed_out"): "joins_after_signing_in",
        (_flow, "existing", "owner", "signed_in_as_other"): "refused",
        (_flow, "existing", "not_owner", "signed_out"): "needs_the_owners_sign_in",
        (_flow, "existing", "not_owner", "signed_in_as_other"): "refused",
    }
EXPECTED |= {
    # No account, nothing to reset: the same answer as for a real login, and nothing sent.
    ("password_reset", "new", "owner", "signed_out"): "nothing_sent",
    ("password_reset", "new", "owner", "signed_in_as_other"): "nothing_sent",
    ("password_reset", "new", "not_owner", "signed_out"): "nothing_sent",
    ("password_reset", "new", "not_owner", "signed_in_as_other"): "nothing_sent",
    ("password_reset", "existing", "owner", "signed_out"): "password_set_then_sign_in",
    ("password_reset", "existing", "owner", "signed_in_as_other"): "refused",
    ("password_reset", "existing", "not_owner", "signed_out"): "never_reaches_holder",
    ("password_reset", "existing", "not_owner", "signed_in_as_other"): "refused",
}

NEW_LOGIN = "13912340000"
NEW_PASSWORD = "Brand-new-pass-2026"


def test_the_table_has_a_row_for_every_flow_and_case():
    assert set(EXPECTED) == set(itertools.product(FLOWS, ACCOUNTS, HOLDERS, SESSIONS))


@dataclass
class Sent:
    """What the flow's sender saw, and what the owner received."""

    seen_by_sender: list[str]
    link: str | None
    association_slug: str | None
    role: Role | None


def _link_to(outbox, login: str) -> str | None:
    for message in reversed(outbox):
        found = re.search(r"(/invite/\S+|/password/reset/\S+)", message.body)
        if message.to == login and found:
            return found.group(1)
    return None


def _send(flow: str, world, make_client, outbox, login: str, app, tmp_path) -> Sent:
    if flow in ("member_invitation", "staff_invitation"):
        role = Role.MEMBER if flow == "member_invitation" else Role.STAFF
        inviter = make_client(world.secretary_a1.login)
        seen = inviter.post(
            f"/a/{world.village_a1.slug}/people/invite",
            {"name": "受邀人", "login": login, "role": role.value},
        )
        assert seen.status_code == 200, seen.text
        pages = [seen.text, inviter.get(f"/a/{world.village_a1.slug}/people").text]
        return Sent(pages, _link_to(outbox, login), world.village_a1.slug, role)
    if flow == "child_secretary_invitation":
        inviter = make_client(world.township_a_secretary.login)
        seen = inviter.post(
            "/a/township-a/children",
            {
                "name": "新村计生协",
                "kind": "village",
                "division_code": "340104001007",
                "served_population": "2400",
                "secretary_name": "受邀人",
                "secretary_login": login,
            },
        )
        assert seen.status_code == 200, seen.text
        child = db.session.scalar(select(Association).where(Association.name == "新村计生协"))
        pages = [seen.text, inviter.get(f"/a/township-a/children/{child.id}").text]
        return Sent(pages, _link_to(outbox, login), child.slug, Role.SECRETARY)
    if flow == "bulk_onboarding_invitation":
        app.config["ASSOCIATION_IMPORT_DIR"] = str(tmp_path / "association-imports")
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            ["名称", "类型", "区划代码", "上级(名称或代码)", "服务人口", "秘书长", "手机或邮箱"]
        )
        writer.writerow(["东村", "村", "340104001011", "", "1200", "受邀人", login])
        inviter = make_client(world.township_a_secretary.login)
        checked = inviter.post(
            "/a/township-a/children/import",
            {"file": (io.BytesIO(buffer.getvalue().encode()), "协会.csv")},
            content_type="multipart/form-data",
        )
        token = re.search(r'name="token"[^>]*value="([0-9a-f]{32})"', checked.text).group(1)
        seen = inviter.post("/a/township-a/children/import/confirm", {"token": token})
        assert seen.status_code == 200, seen.text
        child = db.session.scalar(select(Association).where(Association.name == "东村"))
        return Sent([checked.text, seen.text], _link_to(outbox, login), child.slug, Role.SECRETARY)
    assert flow == "password_reset"
    requester = make_client()
    seen = requester.post("/password/forgot", {"login": login}, follow_redirects=True)
    assert seen.status_code == 200
    return Sent([seen.text], _link_to(outbox, login), None, None)


def _user(login: str) -> User | None:
    return db.session.scalar(
        select(User).where(User.login == login).execution_options(populate_existing=True)
    )


def _roles(login: str, slug: str) -> list[Role]:
    with UNSCOPED_BYPASS("test reads who holds a role where"):
        return list(
            db.session.scalars(
                select(Membership.role)
                .join(User, User.id == Membership.user_id)
                .join(Association, Association.id == Membership.association_id)
                .where(User.login == login, Association.slug == slug)
            )
        )


def _audit_actions(action: str) -> list[AuditLog]:
    with UNSCOPED_BYPASS("test reads the audit log"):
        return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action)))


def _signed_in_as(client) -> str | None:
    """Who the server takes this client for (None when signed out)."""
    response = client.get("/password/change")
    if response.status_code != 200:
        return None
    return next(
        (u.login for u in db.session.scalars(select(User)) if f"({u.name})" in response.text),
        None,
    )


@pytest.mark.parametrize(("flow", "account", "holder", "session"), sorted(EXPECTED))
def test_token_flow(flow, account, holder, session, world, make_client, outbox, app, tmp_path):
    expected = EXPECTED[(flow, account, holder, session)]
    owner_login = NEW_LOGIN if account == "new" else world.secretary_b1.login
    owner_before = _user(owner_login)
    hash_before = owner_before.password_hash if owner_before else None
    sent = _send(flow, world, make_client, outbox, owner_login, app, tmp_path)

    # The link goes to the owner's address and to no page the sender was shown.
    for page in sent.seen_by_sender:
        assert "/invite/" not in page and "/password/reset/" not in page
    if expected == "nothing_sent":
        assert sent.link is None and _user(owner_login) is None
        return
    assert sent.link is not None
    assert all(message.to == owner_login for message in outbox if sent.link in message.body)
    if expected == "never_reaches_holder":
        return  # the holder has nothing to follow

    if session == "signed_in_as_other":
        holder_client = make_client(world.secretary_a2.login)
    else:
        holder_client = make_client()
    refusals_before = len(_audit_actions("invitation_refused")) + len(
        _audit_actions("password_reset_refused")
    )

    if expected == "refused":
        page = holder_client.get(sent.link)
        assert page.status_code == 403
        assert holder_client.post(sent.link, _new_account_form()).status_code == 403
        if sent.role is not None:
            assert _roles(owner_login, sent.association_slug) == []
        assert (_user(owner_login) is None) == (account == "new")
        if owner_before is not None:
            assert _user(owner_login).password_hash == hash_before
        assert _signed_in_as(holder_client) == world.secretary_a2.login
        refusals = len(_audit_actions("invitation_refused")) + len(
            _audit_actions("password_reset_refused")
        )
        assert refusals > refusals_before
        return

    if expected == "creates_account":
        page = holder_client.get(sent.link)
        assert page.status_code == 200 and 'name="password"' in page.text
        done = holder_client.post(sent.link, _new_account_form())
        assert done.status_code == 302, done.text
        assert done.location == f"/a/{sent.association_slug}/"
        assert _roles(owner_login, sent.association_slug) == [sent.role]
        assert _signed_in_as(holder_client) == owner_login
        return

    if expected in ("joins_after_signing_in", "needs_the_owners_sign_in"):
        page = holder_client.get(sent.link)
        assert page.status_code == 200
        assert 'name="password"' not in page.text and "/login?next=" in page.text
        # Submitting the link without signing in does nothing, and is logged.
        assert holder_client.post(sent.link).status_code == 403
        assert _roles(owner_login, sent.association_slug) == []
        assert _signed_in_as(holder_client) is None
        assert len(_audit_actions("invitation_refused")) > refusals_before
        if expected == "needs_the_owners_sign_in":
            wrong = holder_client.post(
                f"/login?next={sent.link}", {"login": owner_login, "password": "guessed-wrong"}
            )
            assert wrong.status_code == 422 and _signed_in_as(holder_client) is None
            assert _roles(owner_login, sent.association_slug) == []
            return
        signed_in = holder_client.post(
            f"/login?next={sent.link}", {"login": owner_login, "password": PASSWORD}
        )
        assert signed_in.status_code == 302 and signed_in.location == sent.link
        assert _signed_in_as(holder_client) == owner_login
        confirm = holder_client.get(sent.link)
        assert confirm.status_code == 200 and 'name="password"' not in confirm.text
        assert holder_client.post(sent.link).status_code == 302
        assert _roles(owner_login, sent.association_slug) == [sent.role]
        assert _user(owner_login).password_hash == hash_before  # same account, same password
        return

    assert expected == "password_set_then_sign_in"
    page = holder_client.get(sent.link)
    assert page.status_code == 200
    done = holder_client.post(sent.link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.location == "/login"
    assert verify_password(_user(owner_login).password_hash, NEW_PASSWORD)
    assert _signed_in_as(holder_client) is None  # a reset signs no one in
    assert holder_client.get(sent.link).status_code == 410  # and works once


def _new_account_form() -> dict:
    return {"name": "受邀人", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}


def test_a_village_secretary_cannot_take_over_the_operator_through_an_invitation(
    world, make_client, outbox
):
    """The walk-through's attack: invite the operator's login, then open the link."""
    inviter = make_client(world.secretary_a1.login)
    seen = inviter.post(
        f"/a/{world.village_a1.slug}/people/invite",
        {"name": "管理员", "login": world.admin.login, "role": "staff"},
    )
    assert "/invite/" not in seen.text
    link = _link_to(outbox, world.admin.login)
    for client in (make_client(), inviter):
        client.post(link)
        assert _signed_in_as(client) != world.admin.login
        assert client.get("/admin/").status_code in (302, 403, 404)
    assert _roles(world.admin.login, world.village_a1.slug) == []
    with UNSCOPED_BYPASS("test reads the audit log"):
        logins = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "login", AuditLog.user_id == world.admin.id)
        ).all()
    assert logins == []


# --- the member's check-in code (app/events/checkin_card.py) ------------------------------------
# Not a link at all: the QR code on a member's home page only identifies her at the door of an
# event of her own association (or one open to it from above). The table: who holds the code ×
# where they use it → what it does. It never signs anyone in, never opens a page for its
# holder, and only her association's secretary or staff can use it, to tick her name.
CHECKIN_CARD_EXPECTED = {
    ("own_secretary", "door_of_her_association"): "checks_her_in",
    ("own_staff", "door_of_her_association"): "checks_her_in",
    ("other_secretary", "door_of_his_association"): "refused_other_association",
    ("other_secretary", "door_of_her_association"): "not_found",
    ("the_member_herself", "door_of_her_association"): "forbidden",
    ("auditor_above", "door_of_her_association"): "forbidden",
    ("signed_out", "door_of_her_association"): "sign_in_asked",
    ("signed_out", "as_a_sign_in_link"): "nothing_opens",
    ("signed_out", "as_a_password"): "nothing_opens",
}


@pytest.mark.parametrize(("holder", "where"), sorted(CHECKIN_CARD_EXPECTED))
def test_the_check_in_code_only_identifies_its_member_at_her_associations_door(
    holder, where, world, make_client
):
    from app.events.checkin_card import card_token
    from app.events.models import Registration
    from tests.factories import create_event

    expected = CHECKIN_CARD_EXPECTED[(holder, where)]
    member, home = world.member_a1, world.village_a1
    with UNSCOPED_BYPASS("test reads the member's membership"):
        membership = db.session.scalar(
            select(Membership).where(
                Membership.user_id == member.id, Membership.association_id == home.id
            )
        )
    token = card_token(membership_id=membership.id, user_id=member.id, association_id=home.id)
    login = {
        "own_secretary": world.secretary_a1.login,
        "own_staff": world.staff_a1.login,
        "other_secretary": world.secretary_a2.login,
        "the_member_herself": member.login,
        "auditor_above": world.county_auditor.login,
        "signed_out": None,
    }[holder]
    client = make_client(login)
    at = world.village_a2 if where == "door_of_his_association" else home
    event = create_event(at)

    if where == "as_a_sign_in_link":
        for path in (f"/invite/{token}", f"/password/reset/{token}"):
            assert client.get(path).status_code in (403, 404, 410)
            client.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert verify_password(_user(member.login).password_hash, PASSWORD)
        assert _signed_in_as(client) is None
        return
    if where == "as_a_password":
        response = client.post("/login", {"login": member.login, "password": token})
        assert response.status_code == 422
        assert _signed_in_as(client) is None
        return

    response = client.post(
        f"/a/{at.slug}/events/{event.id}/checkin/scan",
        {"token": token},
        headers={"HX-Request": "true"},
    )
    with UNSCOPED_BYPASS("test reads the door list"):
        checked = db.session.scalars(
            select(Registration.user_id).where(
                Registration.event_id == event.id, Registration.checked_in_at.is_not(None)
            )
        ).all()
    if expected == "checks_her_in":
        assert response.status_code == 200 and checked == [member.id]
    else:
        assert checked == []
        assert (
            response.status_code
            == {
                "refused_other_association": 422,
                "not_found": 404,
                "forbidden": 403,
                "sign_in_asked": 302,
            }[expected]
        )
        if expected == "refused_other_association":
            assert "其他协会的会员" in response.text
    # Whatever happened, the holder is still who they were: the code is no identity.
    assert _signed_in_as(client) == login
