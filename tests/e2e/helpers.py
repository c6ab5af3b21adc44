"""Helpers for browser tests: signing in and saving screenshots as test artefacts."""

import re
from pathlib import Path
from urllib.parse import urlsplit

from tests.factories import PASSWORD, next_code

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "screenshots"


def e2e_login(page, live_server, login: str, password: str = PASSWORD) -> None:
    """Sign in; where the user has a second factor, type the code an authenticator app with
    the test secret would show."""
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("button[type=submit].primary")
    page.wait_for_load_state()
    # A code taken at the end of a 30-second step may be a step too old when it arrives: one
    # more try with a fresh code, as a person would.
    for _attempt in range(2):
        if urlsplit(page.url).path != "/login/code":
            break
        page.fill("input[name=code]", next_code(login))
        page.click("[data-testid=code-form] button[type=submit]")
        page.wait_for_load_state()


def open_menu(page) -> None:
    """The navigation sits behind the ☰ menu on a phone; from 1024 px it is an open bar.

    static/js/app.js (deferred) pins or closes the menu as the page loads: waiting for the
    document a click navigated to avoids reading the menu before that, and clicking a ☰ that the
    script then hides (a CI failure)."""
    page.wait_for_load_state("domcontentloaded")
    menu = page.locator("details.menu")
    if page.viewport_size and page.viewport_size["width"] >= 1024:
        page.wait_for_selector("details.menu.menu-pinned[open]", state="attached")
        return
    if not menu.evaluate("element => element.open"):
        page.click("details.menu > summary")


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
