"""Each role's home page at 375 × 812 (tiles open their lists, nothing overflows), the menu as an
open bar on a desktop, and QR check-in at the door: the scanner script loads, a typed code checks
the member in, the name search narrows the list, and a camera (Chromium's fake device playing a
picture of the member's code) checks her in by itself."""

import io

import pytest
import segno
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from app.events.checkin_card import card_token
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Membership
from tests import factories
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE
from tests.e2e.helpers import e2e_login, screenshot

pytestmark = pytest.mark.e2e


def _fits(page, width: int = 375) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, (page.url, scroll)


def _member_token(world) -> str:
    with UNSCOPED_BYPASS("test reads the member's membership"):
        membership = db.session.scalar(
            select(Membership).where(
                Membership.user_id == world.member_a1.id,
                Membership.association_id == world.village_a1.id,
            )
        )
        return card_token(
            membership_id=membership.id,
            user_id=world.member_a1.id,
            association_id=world.village_a1.id,
        )


def test_each_roles_home_page_on_a_phone(live_server, browser):
    world = factories.build_world()
    event = factories.create_event(world.village_a1, "健康讲座")
    roles = (
        ("secretary", world.secretary_a1.login, "village-a1", ("home-today", "first-steps")),
        (
            "member",
            world.member_a1.login,
            "village-a1",
            ("home-my-dues", "home-my-events", "home-my-hours", "checkin-qr"),
        ),
        ("auditor", world.county_auditor.login, "county", ("home-oversight",)),
    )
    for role, login, slug, parts in roles:
        context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
        page = context.new_page()
        e2e_login(page, live_server, login)
        page.goto(f"{live_server.url}/a/{slug}/")
        for part in parts:
            expect(page.get_by_test_id(part)).to_be_visible()
        expect(page.locator("details.menu > summary")).to_be_visible()  # ☰ on a phone
        _fits(page)
        screenshot(page, f"home-{role}-phone")
        if role == "secretary":
            expect(page.get_by_test_id("tile-next-event")).to_contain_text("健康讲座")
            page.get_by_test_id("tile-next-event").click()
            expect(page).to_have_url(f"{live_server.url}/a/{slug}/events/{event.id}")
        elif role == "member":
            expect(page.locator("[data-testid=checkin-qr] svg")).to_be_visible()
            box = page.locator("[data-testid=checkin-qr] svg").bounding_box()
            assert box["width"] >= 200  # big enough to scan from another phone
        else:
            page.get_by_test_id("tile-review-queue").click()
            expect(page.get_by_test_id("review-queue")).to_be_visible()
        context.close()


def test_the_menu_is_an_open_bar_on_a_desktop(live_server, desktop_page):
    world = factories.build_world()
    e2e_login(desktop_page, live_server, world.secretary_a1.login)
    desktop_page.goto(f"{live_server.url}/a/village-a1/")
    expect(desktop_page.locator("details.menu > summary")).to_be_hidden()
    expect(desktop_page.get_by_test_id("nav-members")).to_be_visible()
    desktop_page.get_by_test_id("nav-members").click()
    expect(desktop_page).to_have_url(f"{live_server.url}/a/village-a1/members/")
    screenshot(desktop_page, "home-menu-desktop")


def test_check_in_by_code_and_by_name_on_a_phone(live_server, page):
    world = factories.build_world()
    event = factories.create_event(world.village_a1, "健康讲座")
    token = _member_token(world)
    e2e_login(page, live_server, world.secretary_a1.login)
    page.goto(f"{live_server.url}/a/village-a1/events/{event.id}/checkin")
    scanner = page.get_by_test_id("scanner")
    expect(scanner).to_have_attribute("data-ready", "yes")  # the vendored jsQR has loaded
    assert page.evaluate("typeof window.jsQR") == "function"
    _fits(page)

    page.get_by_text("输入或粘贴签到码").click()
    page.get_by_test_id("scan-token").fill(token)
    page.get_by_test_id("scan-submit").click()
    expect(page.get_by_test_id("scan-result")).to_contain_text("会员甲 已签到")
    expect(page.get_by_test_id("checked-count")).to_contain_text("1")
    expect(page.get_by_test_id("door-list")).to_contain_text("会员甲")
    expect(page.get_by_test_id("scan-token")).to_have_value("")

    page.get_by_test_id("scan-token").fill(token.replace("XHC1.", "XHC1.x"))
    page.get_by_test_id("scan-submit").click()
    expect(page.get_by_test_id("scan-result")).to_contain_text("这不是会员签到码")

    page.locator("[data-testid=walk-in-form] input[name=name]").fill("张三")
    page.locator("[data-testid=walk-in-form] button[type=submit]").click()
    expect(page.get_by_test_id("door-list")).to_contain_text("张三")
    # The walk-in reloaded the page: htmx binds the search when the document has loaded, and
    # typing before that (as a loaded CI machine once did) sends nothing.
    page.wait_for_load_state("load")
    page.get_by_test_id("door-search").fill("zs")
    expect(page.get_by_test_id("door-list")).not_to_contain_text("会员甲")
    expect(page.get_by_test_id("door-list")).to_contain_text("张三")
    _fits(page)
    screenshot(page, "checkin-door-phone")


def _camera_file(token: str, path) -> None:
    """A few seconds of 'camera': the member's QR code on a white page, as MJPEG frames."""
    buffer = io.BytesIO()
    segno.make(token, error="m").save(buffer, kind="png", scale=8, border=4)
    code = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    frame = Image.new("RGB", (640, 480), "white")
    code.thumbnail((440, 440))
    frame.paste(code, ((640 - code.width) // 2, (480 - code.height) // 2))
    jpeg = io.BytesIO()
    frame.save(jpeg, format="JPEG", quality=90)
    path.write_bytes(jpeg.getvalue() * 30)


def test_the_camera_reads_the_members_code(live_server, browser, tmp_path):
    world = factories.build_world()
    event = factories.create_event(world.village_a1, "健康讲座")
    camera = tmp_path / "camera.mjpeg"
    _camera_file(_member_token(world), camera)
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={camera}",
    ]
    # A browser of its own: the camera is chosen when Chromium starts.
    with_camera = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=args)
    try:
        context = with_camera.new_context(viewport=PHONE, locale="zh-CN")
        context.grant_permissions(["camera"], origin=live_server.url)
        page = context.new_page()
        e2e_login(page, live_server, world.secretary_a1.login)
        page.goto(f"{live_server.url}/a/village-a1/events/{event.id}/checkin")
        page.get_by_test_id("scanner-start").click()
        expect(page.get_by_test_id("scanner-video")).to_be_visible()
        expect(page.get_by_test_id("scan-result")).to_contain_text("会员甲 已签到")
        expect(page.get_by_test_id("checked-count")).to_contain_text("1")
        screenshot(page, "checkin-camera-phone")
        page.get_by_test_id("scanner-start").click()  # stops the camera
        expect(page.get_by_test_id("scanner-video")).to_be_hidden()
    finally:
        with_camera.close()
