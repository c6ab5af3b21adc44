"""The 375 px and accessibility sweep of test_every_page_on_a_phone.py for a township
secretary: her own street association's pages and, read-only, those of the six below it."""

import pytest

from tests.e2e.test_every_page_on_a_phone import sweep

pytestmark = pytest.mark.e2e


def test_every_page_a_township_secretary_opens_fits_a_phone_and_passes_axe(live_server, browser):
    sweep(live_server, browser, "township_secretary")
