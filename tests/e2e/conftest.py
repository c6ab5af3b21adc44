"""Browser tests: the app served on a loopback port, driven by Debian's headless Chromium.

Where Chromium is absent (a fresh laptop) these tests skip with a reason; CI installs it and sets
XIEHUI_REQUIRE_BROWSER=1, which turns a missing browser into a failure instead.
"""

import os
import shutil
import threading
from dataclasses import dataclass

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    if CHROMIUM is None:
        if os.environ.get("XIEHUI_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required here (XIEHUI_REQUIRE_BROWSER) but not installed")
        pytest.skip("Chromium is not installed (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import expect, sync_playwright

    # Generous waits: CI runs two workers and two databases on two cores.
    expect.set_options(timeout=20_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@dataclass
class LiveServer:
    url: str
    app: Flask


class RequestsInFlight:
    """The app, counting the requests it is serving: the test's teardown waits for them, or a
    request the browser sent last would still run while the next test resets the app and its
    database under it."""

    def __init__(self, app: Flask):
        self.app = app
        self.idle = threading.Condition()
        self.running = 0

    def __call__(self, environ, start_response):
        with self.idle:
            self.running += 1
        try:
            # Flask pops the request's contexts before returning a (non-streamed) response.
            return self.app(environ, start_response)
        finally:
            with self.idle:
                self.running -= 1
                self.idle.notify_all()

    def wait(self, timeout: float) -> bool:
        with self.idle:
            return self.idle.wait_for(lambda: self.running == 0, timeout=timeout)


@pytest.fixture
def live_server(app):
    served = RequestsInFlight(app)
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    server.shutdown()
    thread.join(timeout=5)
    assert served.wait(timeout=30), "a request was still running 30 s after the test"


def _page(browser, viewport):
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(20_000)
    page = context.new_page()
    return context, page


@pytest.fixture
def page(browser):
    """A phone-sized page (375×812)."""
    context, page = _page(browser, PHONE)
    yield page
    context.close()


@pytest.fixture
def desktop_page(browser):
    context, page = _page(browser, DESKTOP)
    yield page
    context.close()


@pytest.fixture(params=["phone", "desktop"])
def any_page(request, browser):
    """The same test at phone and at desktop width."""
    context, page = _page(browser, PHONE if request.param == "phone" else DESKTOP)
    page.viewport_name = request.param
    yield page
    context.close()
