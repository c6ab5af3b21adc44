"""The 375 px and accessibility sweep of test_every_page_on_a_phone.py for the roles of the
levels above: a county auditor (the township secretary's is in _township.py)."""

import pytest

from tests.e2e.test_every_page_on_a_phone import sweep

pytestmark = pytest.mark.e2e


def test_every_page_a_county_auditor_opens_fits_a_phone_and_passes_axe(live_server, browser):
    sweep(live_server, browser, "county_auditor")
