"""A member's home page shows what she owes with the button to pay it online (when her
association takes payments online), and says so when she owes nothing."""

import pytest

from tests.dues.stripe_fake import WEBHOOK_SECRET, set_up_dues


@pytest.fixture
def app_config():
    # Online payment offered: Stripe keys set (no request reaches Stripe on these pages).
    return {
        "STRIPE_SECRET_KEY": "sk_test_fake",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": "http://127.0.0.1:9",
    }


def test_the_members_home_shows_her_open_dues_with_the_pay_button(world, make_client):
    dues = set_up_dues(world.village_a1, world.member_a1, amount_fen=3000, year=2026)
    html = make_client(world.member_a1.login).get("/a/village-a1/").text
    charge = html.split('data-testid="home-charge-2026"')[1].split("</div>")[0]
    assert "¥30.00" in charge
    assert f"/dues/stripe/charges/{dues.charge_id}/pay" in charge
    assert 'data-testid="pay-online-2026"' in charge


def test_a_member_who_owes_nothing_is_told_so(world, make_client):
    set_up_dues(world.village_a1, None, member_name="别人")  # someone else's charge
    from tests.factories import create_member

    create_member(world.village_a1, "会员甲", user_id=world.member_a1.id)
    html = make_client(world.member_a1.login).get("/a/village-a1/").text
    assert 'data-testid="nothing-owed"' in html
    assert "home-charge-" not in html
