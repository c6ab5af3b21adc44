"""On a phone: a member signs up for a full event, lands on the waitlist, and is promoted when
the member holding the place cancels."""

from playwright.sync_api import expect

from app.core.clock import utcnow
from app.events import signups
from tenants.models import Role
from tests import factories
from tests.e2e.helpers import e2e_login, open_menu, screenshot


def test_member_waits_on_the_waitlist_and_is_promoted_when_a_place_frees_up(
    live_server, page, sms_notices
):
    world = factories.build_world()
    second = factories.create_user("13900000009", "会员乙", roles=[(world.village_a1, Role.MEMBER)])
    event = factories.create_event(world.village_a1, title="健康讲座", capacity=1)
    signups.sign_up(event, user=world.member_a1, home=world.village_a1, now=utcnow())
    factories.db.session.commit()

    e2e_login(page, live_server, second.login)
    page.goto(f"{live_server.url}/a/{world.village_a1.slug}/")
    open_menu(page)
    page.click("[data-testid=nav-events]")
    card = page.get_by_test_id(f"event-{event.id}")
    expect(card).to_contain_text("健康讲座")
    card.get_by_test_id(f"signup-{event.id}").click()
    expect(page.get_by_test_id("my-status")).to_contain_text("候补")
    screenshot(page, "events-waitlist")

    # The member holding the place cancels on their own phone.
    open_menu(page)
    page.click("[data-testid=logout]")
    e2e_login(page, live_server, world.member_a1.login)
    page.goto(f"{live_server.url}/a/{world.village_a1.slug}/events/{event.id}")
    page.get_by_test_id("cancel").click()
    expect(page.get_by_test_id("signup")).to_be_visible()

    # The promoted member signs in by mobile number: the notice goes by SMS, through the outbox.
    factories.db.session.commit()  # end the test's transaction: read what the server committed
    phone, text = sms_notices()[-1]
    assert phone == "13900000009" and "健康讲座" in text
    open_menu(page)
    page.click("[data-testid=logout]")
    e2e_login(page, live_server, second.login)
    page.goto(f"{live_server.url}/a/{world.village_a1.slug}/events/{event.id}")
    expect(page.get_by_test_id("my-status")).to_contain_text("您已报名")
    screenshot(page, "events-promoted")
