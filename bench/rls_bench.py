"""What row-level security costs a statement at each level of a province, under the read rule
of revisions 0018–0025 (the viewer's subtree ids built for every statement) and the rule of
0026_scale_rls (the scope's own association without a lookup, otherwise one primary-key probe of
the row's association and a path prefix check).

Builds a province in a fresh PostgreSQL database (10 cities × 10 counties × 20 townships × 10
villages: 22,111 associations; 20 members per village: 400,000 members), then, connected as the
app role, enters a scope at a village, a township, a county, a city and the province and times
the same statements under each, against the superuser (no row-level security at all):
  - one village's member list page (20 rows by name), as the village's or an ancestor's page;
  - one member by id;
  - the subtree's member count (grows with the subtree by nature: reported per row).
The row-level-security cost of a statement is its time under the scope minus the superuser's.

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
from tenants.tree import subtree_bounds  # noqa: E402

DATABASE = "xiehui_rls_bench"
VILLAGE_ID, MEMBER_ID = 10001, 20000  # member 20000 lives in village 10001 (20000 % 20000 = 0)
LEVELS = {  # the scope's association: a chain from village 10001 up to the province
    "village": ("/1/2/101/1001/10001/", 1),
    "township": ("/1/2/101/1001/", 10),
    "county": ("/1/2/101/", 200),
    "city": ("/1/2/", 2_000),
    "province": ("/1/", 20_000),
}
LIST = "SELECT id, name FROM members WHERE association_id = %s ORDER BY name, id LIMIT 20"
ONE = "SELECT id, name FROM members WHERE id = %s"
COUNT = (
    "SELECT count(*) FROM members WHERE association_id IN "
    "(SELECT id FROM associations WHERE path >= %s AND path < %s)"
)
BUILD = """
INSERT INTO associations (id, name, slug, kind, parent_id, path, depth, created_at)
VALUES (1, 'province', 'province', 'province', NULL, '/1/', 0, now());
INSERT INTO associations (id, name, slug, kind, parent_id, path, depth, created_at)
SELECT 1 + c, 'city ' || c, 'city-' || c, 'city', 1, '/1/' || (1 + c) || '/', 1, now()
FROM generate_series(1, 10) c;
INSERT INTO associations (id, name, slug, kind, parent_id, path, depth, created_at)
SELECT 100 + (p.id - 2) * 10 + k, 'county ' || p.id || '-' || k, 'county-' || p.id || '-' || k,
       'county', p.id, p.path || (100 + (p.id - 2) * 10 + k) || '/', 2, now()
FROM associations p, generate_series(1, 10) k WHERE p.kind = 'city';
INSERT INTO associations (id, name, slug, kind, parent_id, path, depth, created_at)
SELECT 1000 + (p.id - 101) * 20 + k, 'township ' || p.id || '-' || k,
       'township-' || p.id || '-' || k, 'township', p.id,
       p.path || (1000 + (p.id - 101) * 20 + k) || '/', 3, now()
FROM associations p, generate_series(1, 20) k WHERE p.kind = 'county';
INSERT INTO associations (id, name, slug, kind, parent_id, path, depth, created_at)
SELECT 10000 + (p.id - 1001) * 10 + k, 'village ' || p.id || '-' || k,
       'village-' || p.id || '-' || k, 'village', p.id,
       p.path || (10000 + (p.id - 1001) * 10 + k) || '/', 4, now()
FROM associations p, generate_series(1, 10) k WHERE p.kind = 'township';
INSERT INTO members (id, name, name_initials, status, tags_text, association_id, created_at)
SELECT m, 'member ' || m, 'm', 'active', '', 10001 + (m % 20000), now()
FROM generate_series(1, 400000) m;
SELECT setval(pg_get_serial_sequence('members', 'id'), 400000);
VACUUM ANALYZE associations;
VACUUM ANALYZE members;
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
    with psycopg.connect(_url(admin), autocommit=True) as owner:
        for statement in BUILD.split(";\n"):
            if statement.strip():
                owner.execute(statement)
    return _url(admin), _url(app_url), app.config


def _timings(connection, enter, statement, params, runs: int) -> tuple[float, float, float]:
    """Medians in ms of (server execution time from EXPLAIN ANALYZE, planning time, a whole
    transaction from the client: enter the scope, run the statement)."""
    server, planning, wall = [], [], []
    for _ in range(runs):
        started = time.perf_counter()
        with connection.transaction():
            enter(connection)
            connection.execute(statement, params).fetchall()
        wall.append((time.perf_counter() - started) * 1000)
        with connection.transaction():
            enter(connection)
            plan = connection.execute(
                f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {statement}", params
            ).fetchone()[0][0]
            server.append(plan["Execution Time"])
            planning.append(plan["Planning Time"])
    return statistics.median(server), statistics.median(planning), statistics.median(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--reuse", action="store_true", help="time the data set built before")
    args = parser.parse_args()
    server_url = make_url(args.pg_url)
    if args.reuse:
        admin = server_url.set(database=DATABASE)
        owner_url, app_url = _url(admin), _url(admin, username="xiehui_app", password=None)
        config = create_app(
            {
                "SECRET_KEY": "benchmark-secret-key-long-enough-for-the-check",
                "SQLALCHEMY_DATABASE_URI": "sqlite://",
            }
        ).config
    else:
        started = time.perf_counter()
        owner_url, app_url, config = build(server_url)
        print(f"built in {time.perf_counter() - started:.0f} s")
    key = str(rls.scope_key(config))

    def scoped(path):
        low, high = subtree_bounds(path)

        def enter(connection):
            connection.execute(
                "SELECT xiehui_enter_scope(%s, false, %s, %s, NULL)", (key, low, high)
            )

        return enter

    def nothing(connection):
        pass

    statements = {
        "village list": (LIST, lambda path: (VILLAGE_ID,), args.runs),
        "member by id": (ONE, lambda path: (MEMBER_ID,), args.runs),
        "subtree count": (COUNT, lambda path: subtree_bounds(path), max(args.runs // 20, 5)),
    }
    results: dict = {"superuser": {}}
    with psycopg.connect(owner_url) as superuser:
        for level, (path, _) in LEVELS.items():
            for name, (statement, params, runs) in statements.items():
                results["superuser"][f"{level} {name}"] = _timings(
                    superuser, nothing, statement, params(path), runs
                )
    for label, rule in (
        ("subtree set (0018-0025)", rls.SUBTREE_SET_READ_RULE),
        ("path probe (0026)", rls.READ_RULE),
    ):
        with psycopg.connect(owner_url, autocommit=True) as owner:
            owner.execute(rls.rewrite_policies_sql(rule, rls.WRITE_RULE))
        results[label] = {}
        with psycopg.connect(app_url) as connection:
            for level, (path, _) in LEVELS.items():
                for name, (statement, params, runs) in statements.items():
                    results[label][f"{level} {name}"] = _timings(
                        connection, scoped(path), statement, params(path), runs
                    )
    with psycopg.connect(owner_url, autocommit=True) as owner:
        owner.execute(rls.rewrite_policies_sql(rls.READ_RULE, rls.WRITE_RULE))

    lines = [
        "PostgreSQL, one province: 22,111 associations, 400,000 members (20 per village);",
        "medians in ms; 'rls' = server execution time under the scope minus the superuser's",
        f"{'rule':24} {'scope':9} {'statement':14} {'server':>9} {'rls':>9} {'plan':>7} "
        f"{'transaction':>11}",
    ]
    for label in ("subtree set (0018-0025)", "path probe (0026)"):
        for level, (_, villages) in LEVELS.items():
            for name in statements:
                server, planning, wall = results[label][f"{level} {name}"]
                base = results["superuser"][f"{level} {name}"][0]
                extra = f"  ({(server - base) * 1000 / (villages * 20):.2f} µs/row)" * (
                    name == "subtree count"
                )
                lines.append(
                    f"{label:24} {level:9} {name:14} {server:9.3f} {server - base:9.3f} "
                    f"{planning:7.3f} {wall:11.3f}{extra}"
                )
    output = "\n".join(lines)
    print(output)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "rls.txt").write_text(output + "\n")
    (out / "rls.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
