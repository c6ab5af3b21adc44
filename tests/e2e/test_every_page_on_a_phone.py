"""Every page each role may open, at 375 × 812: nothing overflows sideways on a phone (wide
tables scroll inside their own container), no control is under 44 px, and axe-core finds no
serious or critical accessibility violation.

With XIEHUI_FULL_SWEEP=1, axe also runs at 1280 × 800 and a screenshot of every page per role
(at 375 px) lands in test-artefacts/screenshots/sweep-<role>-<endpoint>.png for review. Those
two double the sweep's time (≈ 5 minutes of a worker for the five roles), so the default run
leaves them out.

The pages are not listed here: they come from the app's URL map and the permission table
(tests/tenancy/permissions.py), with real objects made by tests/tenancy/objects.py, so a new
page is swept as soon as it is in the table.

axe-core is vendored for the tests only (tests/e2e/vendor/axe-core-<version>/, from the npm
registry) and injected as an init script, which the page's content-security policy does not
govern; it is never served to users.
"""

import json
import os
from pathlib import Path

import pytest
from flask import url_for

from tests import factories
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.helpers import e2e_login, screenshot
from tests.tenancy.objects import OBJECT_IDS
from tests.tenancy.permissions import PUBLIC_ROUTES, TENANT_ROUTES

pytestmark = pytest.mark.e2e

FULL_SWEEP = os.environ.get("XIEHUI_FULL_SWEEP") == "1"
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
# What the table's columns are called, and who else is swept with one of them.
TABLE_COLUMN = {
    "secretary": "secretary",
    "member": "member",
    "county_auditor": "auditor",
    "township_secretary": "secretary",
}
# Public (non-tenant) pages that need a token or a published plan, which no role here holds.
UNREACHABLE_ARGUMENTS = {"token", "address", "filename"}
AXE_RUN = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
    resultTypes: ['violations'],
  });
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""


# Controls a finger taps, shorter than 44 px at 375 (links inside text are not counted).
SMALL_TARGETS = """() => Array.from(document.querySelectorAll(
    'button, .button, select, input:not([type=hidden]):not([type=checkbox]):not([type=radio])'))
  .filter(e => !e.matches('button.link') && e.getClientRects().length > 0)
  .filter(e => e.getBoundingClientRect().height < 44)
  .map(e => e.outerHTML.slice(0, 80))"""


def _people(world):
    return {
        "secretary": (world.secretary_a1, world.village_a1),
        "member": (world.member_a1, world.village_a1),
        "county_auditor": (world.county_auditor, world.village_a1),
        "township_secretary": (world.township_a_secretary, world.township_a),
        "operator": (world.admin, None),
    }


def _get_rules(app):
    return [
        (rule.endpoint, rule)
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not (set(rule.arguments) & UNREACHABLE_ARGUMENTS)
    ]


def _pages(app, world, role):
    """(endpoint, url, must_answer_200) for every GET page `role` may open."""
    _, association = _people(world)[role]
    column = TABLE_COLUMN.get(role)
    ids: dict[str, int] = {}
    pages = []
    for endpoint, rule in _get_rules(app):
        arguments = sorted(rule.arguments - {"slug"})
        if "slug" in rule.arguments:
            if column is None or TENANT_ROUTES[(endpoint, "GET")][column] != 200:
                continue
            values = {"slug": association.slug}
        else:
            assert (endpoint, "GET") in PUBLIC_ROUTES
            values = {}
        for argument in arguments:
            if argument == "association_id":
                values[argument] = world.village_a1.id
                continue
            if argument not in ids:
                ids[argument] = OBJECT_IDS[argument](world, association)
            values[argument] = ids[argument]
        with app.test_request_context():
            url = url_for(endpoint, **values)
        # The table says what the village's people get; anyone else opens what answers them.
        pages.append((endpoint, url, "slug" in rule.arguments and role != "township_secretary"))
    return pages


def _write_findings(role, opened, overflowing, violations, small_targets):
    """The sweep's findings as JSON beside the screenshots, for review."""
    folder = Path(__file__).resolve().parents[2] / "test-artefacts"
    folder.mkdir(exist_ok=True)
    findings = {
        "opened": opened,
        "overflowing": overflowing,
        "axe": violations,
        "small_targets": small_targets,
    }
    (folder / f"sweep-{role}.json").write_text(json.dumps(findings, ensure_ascii=False, indent=1))


# The sweep is spread over four files, so the suite's workers (--dist loadfile, one file per
# worker) share it: the secretary's pages (the most) in two halves, here and in
# test_every_page_on_a_phone_secretary.py; the levels above in _above.py and _township.py.
@pytest.mark.parametrize(("role", "part"), [("secretary", 0), ("member", None)])
def test_every_page_fits_a_phone_and_has_no_serious_accessibility_violation(
    live_server, browser, role, part
):
    sweep(live_server, browser, role, part=part)


def sweep(live_server, browser, role: str, *, part: int | None = None, parts: int = 2) -> None:
    """Sweep `role`'s pages; with `part`, only every `parts`-th page from that one on."""
    world = factories.build_world()
    user, _ = _people(world)[role]
    pages = _pages(live_server.app, world, role)
    if part is not None:
        pages = pages[part::parts]
    role = role if part is None else f"{role}-{part + 1}"  # the findings file's name
    context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(20_000)
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    try:
        e2e_login(page, live_server, user.login)
        overflowing, violations, small_targets, opened = [], {}, {}, []
        for endpoint, path, must_answer in pages:
            url = live_server.url + path
            probe = page.request.get(url, max_redirects=0)
            status = probe.status
            assert status < 500, f"{role}: {path} answered {status}"
            if must_answer:
                assert status == 200, f"{role}: {path} answered {status}, the table says 200"
            # Downloads (CSV, PDF, calendar, photos) are files, and htmx fragments (a picker's
            # results) parts of a page: only whole pages are swept.
            if status != 200 or not probe.headers.get("content-type", "").startswith("text/html"):
                continue
            if "<html" not in probe.text()[:500]:
                continue
            page.goto(url)
            opened.append(endpoint)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                overflowing.append((path, width))
            small = page.evaluate(SMALL_TARGETS)
            if small:
                small_targets[path] = small
            if FULL_SWEEP:
                screenshot(page, f"sweep-{role}-{endpoint}")
            widths = (("375", PHONE), ("1280", DESKTOP)) if FULL_SWEEP else (("375", PHONE),)
            for name, viewport in widths:
                page.set_viewport_size(viewport)
                found = page.evaluate(AXE_RUN)
                if found:
                    violations[f"{path} @{name}"] = found
            page.set_viewport_size(PHONE)
        _write_findings(role, opened, overflowing, violations, small_targets)
        assert opened, f"{role} opened no page"
        assert not overflowing, f"{role}: wider than 375 px: {overflowing}"
        assert not small_targets, f"{role}: touch targets under 44 px: {small_targets}"
        assert not violations, (
            f"{role}: axe: {json.dumps(violations, ensure_ascii=False, indent=1)}"
        )
    finally:
        context.close()
