"""The content-security policy (script-src 'self') silently blocks inline handlers and inline
scripts, so no template may carry one: behaviour is declared with data attributes that
static/js/app.js wires up (data-confirm, data-autosubmit, data-print)."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE | re.DOTALL)
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
# A data block is not executed, so CSP does not apply to it; every other type is a script.
DATA_BLOCK = re.compile(r"""\btype\s*=\s*["']application/(ld\+)?json["']""", re.IGNORECASE)


def _templates():
    return sorted(TEMPLATES.rglob("*.html")) + sorted(TEMPLATES.rglob("*.txt"))


def test_no_template_has_an_inline_event_handler():
    offenders = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)[:80]!r}"
        for path in _templates()
        for match in INLINE_HANDLER.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_no_template_has_an_inline_script():
    offenders = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)!r}"
        for path in _templates()
        for match in SCRIPT_TAG.finditer(path.read_text(encoding="utf-8"))
        if "src=" not in match.group(1) and not DATA_BLOCK.search(match.group(1))
    ]
    assert offenders == []


def test_the_checks_catch_what_they_are_for():
    assert INLINE_HANDLER.search('<form method="post" onsubmit="return confirm(1)">')
    assert INLINE_HANDLER.search('<select name="year"\n  onchange="this.form.submit()">')
    assert not INLINE_HANDLER.search('<a href="/x" data-confirm="sure?">')
    assert SCRIPT_TAG.search("<script>alert(1)</script>")
    assert not DATA_BLOCK.search(' type="text/javascript"')
