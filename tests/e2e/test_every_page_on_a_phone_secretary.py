"""The 375 px and accessibility sweep of test_every_page_on_a_phone.py: the second half of a
grassroots secretary's pages, and the platform operator's."""

import pytest

from tests.e2e.test_every_page_on_a_phone import sweep

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(("role", "part"), [("secretary", 1), ("operator", None)])
def test_every_page_fits_a_phone_and_has_no_serious_accessibility_violation(
    live_server, browser, role, part
):
    sweep(live_server, browser, role, part=part)
