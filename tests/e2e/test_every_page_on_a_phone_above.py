"""The 375 px and accessibility sweep of test_every_page_on_a_phone.py for the roles of the
levels above: a county auditor and a township secretary."""

import pytest

from tests.e2e.test_every_page_on_a_phone import sweep

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("role", ["county_auditor", "township_secretary"])
def test_every_page_above_fits_a_phone_and_has_no_serious_accessibility_violation(
    live_server, browser, role
):
    sweep(live_server, browser, role)
