"""A township secretary sets up a village and invites its secretary, who joins by the link
sent to her phone."""

import re

from playwright.sync_api import expect

from tests import factories
from tests.e2e.helpers import e2e_login, open_menu, screenshot


def test_township_secretary_creates_a_village_whose_secretary_joins_by_the_link(live_server, page):
    with live_server.app.app_context():
        world = factories.build_world()
        township_secretary = world.township_a_secretary.login

    e2e_login(page, live_server, township_secretary)
    open_menu(page)
    page.click("[data-testid=nav-children]")
    form = page.get_by_test_id("create-child")
    form.locator("input[name=name]").fill("桃园村计生协")
    form.locator("select[name=kind]").select_option("village")
    form.locator("input[name=division_code]").fill("340104001009")
    form.locator("input[name=served_population]").fill("1800")
    form.locator("input[name=secretary_name]").fill("桃园秘书")
    form.locator("input[name=secretary_login]").fill("13900000077")
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("child-associations")).to_contain_text("桃园村计生协")
    expect(page.locator("main")).not_to_contain_text("/invite/")  # the link goes to her only
    screenshot(page, "onboarding-village-created")
    [sms] = [m for m in live_server.app.extensions["notifications"].outbox if m.to == "13900000077"]
    path = "/invite/" + re.search(r"/invite/(\S+)", sms.body).group(1)

    open_menu(page)
    page.click("[data-testid=logout]")
    page.goto(f"{live_server.url}{path}")
    page.fill("input[name=password]", "Taoyuan-Secretary-2026")
    page.fill("input[name=confirm]", "Taoyuan-Secretary-2026")
    page.click("button[type=submit].primary")
    expect(page.get_by_test_id("current-association")).to_contain_text("桃园村计生协")
    expect(page.get_by_test_id("current-association")).to_contain_text("秘书长")
    expect(page.locator("h1")).to_have_text("桃园村计生协")
    screenshot(page, "onboarding-secretary-joined")
