"""The audit log page names actions, records and outcomes in the reader's language, and every
action code the application records has a name."""

import ast
from pathlib import Path

from app.core.audit_labels import ACTION_LABELS

ROOT = Path(__file__).resolve().parents[2]


def _recorded_action_codes() -> set[str]:
    codes = set()
    for path in [*ROOT.joinpath("app").rglob("*.py"), *ROOT.joinpath("tenants").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if (
                name in ("record", "record_apart")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                codes.add(node.args[0].value)
    return codes | {"create", "update", "delete"}


def test_every_recorded_action_has_a_name():
    assert _recorded_action_codes() - set(ACTION_LABELS) == set()


def test_the_audit_log_shows_translated_names_not_codes(world, make_client):
    secretary = make_client(world.secretary_a1.login)
    secretary.post(
        f"/a/{world.village_a1.slug}/people/invite",
        {"name": "新人", "login": "newbie@test.cn", "role": "member"},
    )
    page = secretary.get(f"/a/{world.village_a1.slug}/audit").get_data(as_text=True)
    table = page.split('data-testid="audit-log"')[1].split("</table>")[0]
    assert '<td data-action="create">新建</td>' in table
    assert "邀请 #" in table and "已完成" in table
    assert "Invitation #" not in table and ">ok<" not in table
