"""The tenant context is safe behind a transaction pooler (PgBouncer, transaction mode): every
tenant setting lives for one transaction, so two tenants sharing one server connection never
see each other's scope. The whole suite also runs through PgBouncer in .ci/run."""

import ast
import re
import threading
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from tests.conftest import PG_URL, Client, base_config, sign_in_directly
from tests.deploy.pgbouncer import PGBOUNCER, start_pgbouncer

ROOT = Path(__file__).resolve().parents[2]
# `SET name = …`, `SET SESSION name TO …`, `SET ROLE …` at the start of a statement; not
# `SET LOCAL`, not `UPDATE … SET`, not a function's `SET search_path` clause.
SESSION_LEVEL_SET = re.compile(
    r"(?:^|;)\s*(?:PERFORM\s+)?SET\s+(?:SESSION\s+)?"
    r"(?:ROLE\b|AUTHORIZATION\b|SESSION\s+AUTHORIZATION\b|(?!LOCAL\b)[\w.\"]+\s*(?:=|TO\b))",
    re.IGNORECASE,
)


def _sql_like_strings(path: Path):
    """String constants of a module, f-strings whole with their placeholders as {}; not
    docstrings (or any string that is a statement of its own)."""
    tree = ast.parse(path.read_text(), str(path))
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            skipped.update(id(part) for part in node.values)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            skipped.add(id(node.value))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value
        elif isinstance(node, ast.JoinedStr):
            yield (
                node.lineno,
                "".join(
                    part.value if isinstance(part, ast.Constant) else "{}" for part in node.values
                ),
            )


def _set_config_calls(sql: str):
    """The argument lists of every set_config(…) call in the text, split at top level."""
    for match in re.finditer(r"set_config\s*\(", sql, re.IGNORECASE):
        depth, args, current = 1, [], ""
        for char in sql[match.end() :]:
            if char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
                if depth == 0:
                    break
            if char == "," and depth == 1:
                args.append(current.strip())
                current = ""
            else:
                current += char
        args.append(current.strip())
        yield args


def test_no_session_level_setting_anywhere_in_the_app():
    """A session-level SET (or set_config(…, false)) would outlive its transaction and reach
    whichever client PgBouncer gives the server connection to next."""
    offenders = []
    for folder in ("app", "tenants", "migrations"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for line, value in _sql_like_strings(path):
                where = f"{path.relative_to(ROOT)}:{line}"
                if SESSION_LEVEL_SET.search(value):
                    offenders.append(f"{where}: {value.strip()[:80]}")
                for args in _set_config_calls(value):
                    if len(args) != 3 or args[2].lower() != "true":
                        offenders.append(f"{where}: set_config({', '.join(args)})")
    assert offenders == []


def test_the_check_finds_session_level_settings():
    assert SESSION_LEVEL_SET.search("SET app.scope = 'x'")
    assert SESSION_LEVEL_SET.search("BEGIN; set role xiehui_ops")
    assert SESSION_LEVEL_SET.search("SET SESSION statement_timeout TO 0")
    assert not SESSION_LEVEL_SET.search("SET LOCAL plan_cache_mode = force_custom_plan")
    assert not SESSION_LEVEL_SET.search("UPDATE members SET name = 'x'")
    assert not SESSION_LEVEL_SET.search("SET NULL")
    assert not SESSION_LEVEL_SET.search("LANGUAGE sql SECURITY DEFINER SET search_path = x")
    assert list(_set_config_calls("SELECT set_config('a', f(x, y), false)")) == [
        ["'a'", "f(x, y)", "false"]
    ]


pooled = pytest.mark.skipif(
    not PG_URL or PGBOUNCER is None,
    reason="needs TEST_DATABASE_URL and PgBouncer (apt install pgbouncer; .ci/run installs it)",
)


@pytest.fixture
def one_server_connection(database_url):
    """PgBouncer with ONE server connection for the test database: every transaction of every
    client below runs on the same PostgreSQL backend, one after another."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    server = make_url(PG_URL)
    pooler = start_pgbouncer(
        server.host or "127.0.0.1", server.port or 5432, ["postgres", "xiehui_app"], pool_size=1
    )
    yield make_url(database_url).set(host="127.0.0.1", port=pooler.port)
    pooler.stop()


@pooled
def test_two_tenants_interleaved_over_one_pooled_connection_never_cross(
    app, world, one_server_connection, monkeypatch
):
    monkeypatch.setenv("DATABASE_TRANSACTION_POOLER", "1")
    app_url = one_server_connection.render_as_string(hide_password=False)
    pooled_app = create_app(base_config(app_url))
    tenants = {
        "sec.a1@test.cn": ("/a/village-a1/people", "秘书甲", "秘书乙"),
        "sec.a2@test.cn": ("/a/village-a2/people", "秘书乙", "秘书甲"),
    }
    clients = {}
    with pooled_app.app_context():
        for login in tenants:
            clients[login] = Client(pooled_app.test_client())
            sign_in_directly(clients[login], login)
    probe = psycopg.connect(
        one_server_connection.set(drivername="postgresql").render_as_string(hide_password=False),
        autocommit=True,
        prepare_threshold=None,
    )
    backends, leaked_scopes, crossings, failures = set(), [], [], []

    def look_at_the_server_connection():
        # A transaction of its own on the one server connection, with no scope entered: a
        # setting left by the last request's transaction would show here.
        pid, scope, signature = probe.execute(
            "SELECT pg_backend_pid(), current_setting('app.scope', true), "
            "current_setting('app.scope_signature', true)"
        ).fetchone()
        backends.add(pid)
        if scope or signature:
            leaked_scopes.append((scope, signature))

    def browse(login: str, rounds: int):
        url, own, other = tenants[login]
        for _ in range(rounds):
            response = clients[login].get(url)
            if response.status_code != 200 or own not in response.text:
                failures.append((login, response.status_code))
            elif other in response.text:
                crossings.append(login)

    # Strictly alternating, with the server connection inspected between requests…
    for _ in range(10):
        for login in tenants:
            browse(login, 1)
            look_at_the_server_connection()
    # …then both tenants at once from two threads, queueing for the one connection.
    threads = [threading.Thread(target=browse, args=(login, 15)) for login in tenants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    look_at_the_server_connection()
    probe.close()
    with pooled_app.app_context():
        db.engine.dispose()

    assert failures == [] and crossings == []
    assert leaked_scopes == []
    assert len(backends) == 1  # really one server connection for everyone
