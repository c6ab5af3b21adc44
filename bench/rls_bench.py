"""What the signed tenant scope costs a query, against the settings any connection could set.

Builds one county (20 townships × 20 villages, 200 members each: 80,000 members) in a fresh
PostgreSQL database, then, connected as the app role, times the same statements under the
policies before revision 0018_rls_wall (plain settings) and after it (a scope entered with the
app's key and checked by SECURITY DEFINER functions once per statement):
  - a village's member list page (50 rows by name, ORM criteria + policy);
  - a count of the whole county's members (subtree scope, 80,000 rows through the policy);
  - one transaction doing both the scope and the list, as a request does.

    .venv/bin/python bench/rls_bench.py --pg-url postgresql://postgres@127.0.0.1:5432/postgres
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from tenants import rls  # noqa: E402

DATABASE = "xiehui_rls_bench"
LIST = "SELECT id, name FROM members WHERE association_id = %s ORDER BY name, id LIMIT 50"
COUNT = "SELECT count(*) FROM members"
BUILD = """
INSERT INTO associations (id, name, slug, kind, parent_id, path, depth, created_at)
VALUES (1, 'county', 'county', 'county', NULL, '/1/', 0, now());
INSERT INTO associations (id, name, slug, kind, parent_id, path, depth, created_at)
SELECT 1 + t, 'township ' || t, 'township-' || t, 'township', 1, '/1/' || (1 + t) || '/', 1, now()
FROM generate_series(1, 20) t;
INSERT INTO associations (id, name, slug, kind, parent_id, path, depth, created_at)
SELECT 100 + (t - 1) * 20 + v, 'village ' || t || '-' || v, 'village-' || t || '-' || v, 'village',
       1 + t, '/1/' || (1 + t) || '/' || (100 + (t - 1) * 20 + v) || '/', 2, now()
FROM generate_series(1, 20) t, generate_series(1, 20) v;
INSERT INTO members (name, name_initials, status, tags_text, association_id, created_at)
SELECT 'member ' || m, 'm', 'active', '', 101 + (m % 400), now() FROM generate_series(1, 80000) m;
ANALYZE;
"""


def _url(url, **parts) -> str:
    return url.set(drivername="postgresql", **parts).render_as_string(hide_password=False)


def build(server_url) -> tuple[str, str, dict]:
    with psycopg.connect(_url(server_url), autocommit=True) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        server.execute(f'CREATE DATABASE "{DATABASE}"')
    admin = server_url.set(database=DATABASE, drivername="postgresql+psycopg")
    app_url = admin.set(username="xiehui_app", password=None)
    app = create_app(
        {
            "SECRET_KEY": "benchmark-secret-key-long-enough-for-the-check",
            "SQLALCHEMY_DATABASE_URI": app_url.render_as_string(hide_password=False),
            "DATABASE_ADMIN_URL": admin.render_as_string(hide_password=False),
        }
    )
    with app.app_context():
        upgrade(revision="heads")
        db.engine.dispose()
    with psycopg.connect(_url(admin)) as owner:
        owner.execute(BUILD)
    return _url(admin), _url(app_url), app.config


def _median_ms(connection, enter, statement, params, runs: int) -> tuple[float, float]:
    """(median server execution time from EXPLAIN ANALYZE, median wall time of a whole
    transaction: enter the scope, run the statement), in ms."""
    server, wall = [], []
    for _ in range(runs):
        started = time.perf_counter()
        with connection.transaction():
            enter(connection)
            connection.execute(statement, params).fetchall()
        wall.append((time.perf_counter() - started) * 1000)
        with connection.transaction():
            enter(connection)
            plan = connection.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", params)
            server.append(plan.fetchone()[0][0]["Execution Time"])
    return statistics.median(server), statistics.median(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    owner_url, app_url, config = build(make_url(args.pg_url))
    key = rls.scope_key(config)

    def by_settings(low, high):
        def enter(connection):
            connection.execute(
                "SELECT set_config('app.scope_low', %s, true), "
                "set_config('app.scope_high', %s, true)",
                (low, high),
            )

        return enter

    def signed(low, high):
        def enter(connection):
            connection.execute(
                "SELECT xiehui_enter_scope(%s, false, %s, %s, NULL)", (str(key), low, high)
            )

        return enter

    village, county = ("/1/2/101/", "/1/2/1010"), ("/1/", "/10")
    results = {}
    for label, rules, scope in (
        ("settings (before 0018)", (rls.SETTINGS_READ_RULE, rls.SETTINGS_WRITE_RULE), by_settings),
        ("signed scope (0018_rls_wall)", (rls.READ_RULE, rls.WRITE_RULE), signed),
    ):
        with psycopg.connect(owner_url, autocommit=True) as owner:
            owner.execute(rls.rewrite_policies_sql(*rules))
        with psycopg.connect(app_url) as connection:
            results[label] = {
                "village list": _median_ms(connection, scope(*village), LIST, (101,), args.runs),
                "county count": _median_ms(connection, scope(*county), COUNT, (), args.runs // 4),
            }
    with psycopg.connect(owner_url, autocommit=True) as owner:
        owner.execute(rls.rewrite_policies_sql(rls.READ_RULE, rls.WRITE_RULE))
    lines = [f"PostgreSQL, 80,000 members in 400 villages; medians of {args.runs} runs (ms)"]
    for label, figures in results.items():
        for query, (server, wall) in figures.items():
            lines.append(f"{label:30} {query:13} server {server:7.3f}   transaction {wall:7.3f}")
    output = "\n".join(lines)
    print(output)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "rls.txt").write_text(output + "\n")
    (out / "rls.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
