"""Benchmark of the higher-association dashboards at province scale (run by hand, never in tests).

Builds, with COPY (psycopg `cursor.copy`) on PostgreSQL, a province: 16 cities, 105 counties,
1,500 townships, 20,000 grassroots associations, 2,000,000 members, 1,000,000 households with
中心户/联户 linkage, 500,000 activities, 七有 checklists, and dues (a plan per association, a
charge per member, 1,500,000 payments with their allocations); on SQLite a county-sized set
(1 county, 15 townships, 200 grassroots associations, 20,000 members…). Then it computes the
figures table (the nightly job) and prints p50/p95 of, through the whole app (in-process WSGI:
tenant resolver, session, access, SQL with row-level security, templates):
  - the province-root dashboard (PostgreSQL) and a county dashboard,
  - the problems list, and the .xlsx export of a county,
  - the province dashboard's figures computed naively from the raw tables, as a ratio,
and checks that the figures table's roll-up equals the naive computation exactly.

    .venv/bin/python bench/dashboards_bench.py --database postgresql   # URL: XIEHUI_BENCH_PG_URL
    .venv/bin/python bench/dashboards_bench.py --database sqlite

PostgreSQL: the server URL comes from XIEHUI_BENCH_PG_URL (default
postgresql://postgres@127.0.0.1:5432/postgres); the script drops and creates its own database
`xiehui_dash_bench` there. SQLite: a temporary file. Results go to bench/out/ (git-ignored).
"""

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import pyotp  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from app.accounts import second_factor  # noqa: E402
from app.accounts.models import User  # noqa: E402
from app.accounts.passwords import hash_password  # noqa: E402
from app.core.clock import china_today  # noqa: E402
from app.dashboards import definitions, periods, refresh, rollup, totals  # noqa: E402
from app.extensions import db  # noqa: E402
from tenants.context import UNSCOPED_BYPASS, scope_for, subtree_reads, tenant_context  # noqa: E402
from tenants.models import Association, Membership, Role  # noqa: E402

OUT = ROOT / "bench" / "out"
PASSWORD = "Bench-Password-2026"
# The bench auditors' second factor (required at county level and above).
TOTP_SECRET = "BENCHBENCHBENCHBENCHBENCHBENCH22"
DATABASE = "xiehui_dash_bench"
TODAY = china_today()
YEAR = TODAY.year
NOW = datetime.now(UTC)
# The tree existed before the years measured (a later association does not count in a period).
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
GRASSROOTS_KINDS = ("community", "village", "enterprise", "migrant")
SCALES = {
    # cities, counties, townships, grassroots, members, households, activities, payments
    "province": (16, 105, 1_500, 20_000, 2_000_000, 1_000_000, 500_000, 1_500_000),
    # A province of a fifth of the size (bench/figures_writes_bench.py on a loaded machine).
    "region": (4, 21, 300, 4_000, 400_000, 200_000, 100_000, 300_000),
    "county": (1, 1, 15, 200, 20_000, 10_000, 5_000, 15_000),
}


# --- the data set ------------------------------------------------------------------------------


def spread(total: int, parts: int, rng: random.Random) -> list[int]:
    """`total` split into `parts` uneven positive shares (±40 %)."""
    weights = [rng.uniform(0.6, 1.4) for _ in range(parts)]
    scale = total / sum(weights)
    shares = [max(1, int(w * scale)) for w in weights]
    shares[-1] += total - sum(shares)
    return shares


class Writer:
    """Rows into tables: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, database: str, url: str):
        self.database = database
        if database == "postgresql":
            self.connection = psycopg.connect(url, autocommit=False)
            # Generated rows are consistent by construction: skip the per-row FK triggers.
            self.connection.execute("SET session_replication_role = replica")
        else:
            self.connection = sqlite3.connect(url)
            self.connection.execute("PRAGMA foreign_keys=OFF")
            self.connection.execute("PRAGMA synchronous=OFF")
        self.counts: dict[str, int] = {}

    def write(self, table: str, columns: tuple[str, ...], rows) -> None:
        count = 0
        if self.database == "postgresql":
            statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with self.connection.cursor() as cursor, cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            marks = ", ".join("?" for _ in columns)
            statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
            batch = []
            for row in rows:
                batch.append(tuple(_sqlite_value(v) for v in row))
                if len(batch) == 10_000:
                    self.connection.executemany(statement, batch)
                    count += len(batch)
                    batch = []
            self.connection.executemany(statement, batch)
            count += len(batch)
        self.counts[table] = self.counts.get(table, 0) + count

    def finish(self) -> None:
        if self.database == "postgresql":
            for table in self.counts:
                self.connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
            self.connection.execute("SET session_replication_role = DEFAULT")
            self.connection.commit()
            self.connection.autocommit = True
            for table in self.counts:
                self.connection.execute(f"VACUUM ANALYZE {table}")
        else:
            self.connection.commit()
            self.connection.execute("ANALYZE")
        self.connection.close()


def _sqlite_value(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def build(writer: Writer, scale: str, rng: random.Random) -> dict:
    cities, counties, townships, grassroots, members, households, activities, payments = SCALES[
        scale
    ]
    # The tree: ids assigned here, paths from them.
    tree = []  # (id, name, slug, kind, parent_id, path, depth, population)
    next_id = iter(range(1, 10_000_000))

    def add(name, slug, kind, parent, population=None):
        node_id = next(next_id)
        path = f"{parent[5] if parent else '/'}{node_id}/"
        node = (node_id, name, slug, kind, parent[0] if parent else None, path,
                parent[6] + 1 if parent else 0, population)  # fmt: skip
        tree.append(node)
        return node

    if scale != "county":
        top = add("安徽省计生协", "p", "province", None)
        city_nodes = [add(f"第{c + 1}市计生协", f"c{c}", "city", top) for c in range(cities)]
        county_parents = [city_nodes[i % cities] for i in range(counties)]
    else:
        top = None
        county_parents = [None]
    county_nodes = [
        add(f"第{i + 1}县计生协", f"k{i}", "county", parent)
        for i, parent in enumerate(county_parents)
    ]
    # One large county (k1: a tenth of the townships, ≈ 2,000 grassroots at province scale) for
    # the subtree sheet's export target; the others share the rest evenly.
    big = townships // 10 if counties > 2 else 0
    others = county_nodes[:1] + county_nodes[2:]
    township_nodes = [
        add(
            f"第{i + 1}镇计生协",
            f"t{i}",
            "township",
            county_nodes[1] if i < big else others[i % len(others)],
        )  # fmt: skip
        for i in range(townships)
    ]
    grassroots_nodes = [
        add(
            f"第{i + 1}村计生协",
            f"g{i}",
            GRASSROOTS_KINDS[0 if i % 3 == 0 else 1 if i % 7 else rng.randrange(4)],
            township_nodes[i % townships],
            rng.randint(800, 1600),
        )
        for i in range(grassroots)
    ]
    writer.write(
        "associations",
        (
            "id",
            "name",
            "slug",
            "kind",
            "parent_id",
            "path",
            "depth",
            "served_population",
            "created_at",
        ),  # fmt: skip
        ((*node, LONG_AGO) for node in tree),
    )
    member_shares = spread(members, grassroots, rng)
    household_shares = spread(households, grassroots, rng)
    activity_shares = spread(activities, grassroots, rng)
    # Payments follow the members (three in four pay, as many as there are members at most).
    payment_shares = [round(share * payments / members) for share in member_shares]

    # Households: a tenth are central; a varying share of the others is linked to one.
    household_ids: list[range] = []

    def household_rows():
        household_id = 0
        for node, count in zip(grassroots_nodes, household_shares, strict=True):
            first = household_id + 1
            centrals = max(1, count // 10)
            coverage = rng.uniform(0.5, 1.0)
            for h in range(count):
                household_id += 1
                central = h < centrals
                linked = not central and rng.random() < coverage
                central_id = first + (h % centrals) if linked else None
                yield (household_id, node[0], f"幸福路{h + 1}号", f"第{h // 25 + 1}网格",
                       central, central_id, True if linked else None, NOW)  # fmt: skip
            household_ids.append(range(first, household_id + 1))

    writer.write(
        "households",
        (
            "id",
            "association_id",
            "address",
            "grid",
            "is_central",
            "central_household_id",
            "central_link",
            "created_at",
        ),  # fmt: skip
        household_rows(),
    )

    member_ids: list[range] = []

    def member_rows():
        member_id = 0
        for index, (node, count) in enumerate(zip(grassroots_nodes, member_shares, strict=True)):
            first = member_id + 1
            homes = household_ids[index]
            for m in range(count):
                member_id += 1
                status = "active" if m % 12 else "lapsed"
                joined = date(2010 + m % 17, m % 12 + 1, 1)  # some join after this year
                yield (member_id, node[0], f"会员{member_id}", "hy", homes[m % len(homes)],
                       joined, status, "", NOW)  # fmt: skip
            member_ids.append(range(first, member_id + 1))

    writer.write(
        "members",
        (
            "id",
            "association_id",
            "name",
            "name_initials",
            "household_id",
            "joined_on",
            "status",
            "tags_text",
            "created_at",
        ),  # fmt: skip
        member_rows(),
    )

    def activity_rows():
        activity_id = 0
        for node, count in zip(grassroots_nodes, activity_shares, strict=True):
            skipped = rng.random() < 0.25 and rng.randrange(1, 5)  # a quarter with none
            for a in range(count):
                year = YEAR if a % 5 < 3 else YEAR - 1
                quarter = (a % 4) + 1
                if quarter == skipped:
                    quarter = quarter % 4 + 1
                held_on = date(year, 3 * quarter - 2 + a % 3, 1 + a % 28)
                if held_on > TODAY:
                    held_on = held_on.replace(year=YEAR - 1)
                activity_id += 1
                yield (activity_id, node[0], held_on, f"活动{a}", "publicity", "", "", 20, "",
                       NOW, NOW)  # fmt: skip

    writer.write(
        "activities",
        (
            "id",
            "association_id",
            "held_on",
            "title",
            "type",
            "place",
            "organiser",
            "participant_count",
            "description",
            "created_at",
            "updated_at",
        ),  # fmt: skip
        activity_rows(),
    )

    # 七有: most grassroots associations have this year's checklist somewhere along the way.
    checklists = [(i + 1, node[0]) for i, node in enumerate(grassroots_nodes) if i % 10 < 8]
    writer.write(
        "checklists",
        ("id", "association_id", "year", "created_at"),
        ((cid, aid, YEAR, NOW) for cid, aid in checklists),
    )

    def item_rows():
        item_id = 0
        for checklist_id, association_id in checklists:
            profile = checklist_id % 4  # qualified, submitted, returned, draft
            for number in range(1, 8):
                state = ("accepted", "submitted", "returned", "draft")[profile]
                if profile in (1, 2) and number < 4:
                    state = "accepted"
                item_id += 1
                yield (item_id, association_id, checklist_id, number, state, "", 1, "")

    writer.write(
        "checklist_items",
        (
            "id",
            "association_id",
            "checklist_id",
            "number",
            "state",
            "note",
            "round",
            "review_comment",
        ),  # fmt: skip
        item_rows(),
    )

    # Dues: a plan per association, a charge per active member this year, payments on some.
    writer.write(
        "dues_plans",
        ("id", "association_id", "year", "amount_fen", "due_on", "join_rule", "created_at"),
        (
            (i + 1, node[0], YEAR, 1200, date(YEAR, 6, 30), "full", NOW)
            for i, node in enumerate(grassroots_nodes)
        ),  # fmt: skip
    )
    charges: list[tuple[int, int, int]] = []  # (charge id, association id, member id)

    def charge_rows():
        charge_id = 0
        for node, ids in zip(grassroots_nodes, member_ids, strict=True):
            for member_id in ids:
                charge_id += 1
                charges.append((charge_id, node[0], member_id))
                yield (charge_id, node[0], member_id, YEAR, 1200, NOW)

    writer.write(
        "dues_charges",
        ("id", "association_id", "member_id", "year", "amount_due_fen", "created_at"),
        charge_rows(),
    )
    paid: list[tuple[int, int, int, int]] = []  # payment id, association, charge, amount

    def payment_rows():
        payment_id = 0
        start = 0
        for ids, count in zip(member_ids, payment_shares, strict=True):
            own = charges[start : start + len(ids)]
            start += len(ids)
            for p in range(min(count, len(own))):
                charge_id, association_id, member_id = own[p]
                payment_id += 1
                amount = 1200 if p % 6 else 600
                paid.append((payment_id, association_id, charge_id, amount))
                yield (payment_id, association_id, member_id, date(YEAR, 3, 1), amount, "cash",
                       "交款人", "", f"R{payment_id}", 0, False, NOW)  # fmt: skip

    writer.write(
        "dues_payments",
        (
            "id",
            "association_id",
            "member_id",
            "paid_on",
            "amount_fen",
            "method",
            "payer_name",
            "note",
            "receipt_number",
            "refunded_fen",
            "disputed",
            "created_at",
        ),  # fmt: skip
        payment_rows(),
    )
    writer.write(
        "dues_payment_allocations",
        ("id", "association_id", "payment_id", "charge_id", "amount_fen"),
        ((pid, aid, pid, cid, amount) for pid, aid, cid, amount in paid),
    )
    writer.finish()
    return {
        "province": top[2] if top else None,
        "county": county_nodes[0][2],
        "counts": dict(writer.counts),
    }


# --- the measurements --------------------------------------------------------------------------


def config_for(
    database: str, workdir: Path, reuse: bool = False, name: str | None = None
) -> tuple[dict, str]:
    # DATABASE read at call time: the other benches set it to a database of their own (a
    # default argument would keep this bench's name, and their DROP would end this bench's set).
    name = name or DATABASE
    config = {
        "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
        "HUEY_IMMEDIATE": True,
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "NOTIFICATION_BACKEND": "memory",
        "RATELIMIT_LOGIN": "100000 per minute",
        "UPLOAD_ROOT": str(workdir / "uploads"),
    }
    if database == "sqlite":
        path = workdir / "dashboards.db"
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
        return config, str(path)
    base = make_url(
        os.environ.get("XIEHUI_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    base = base.set(drivername="postgresql+psycopg")
    server = create_engine(base, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        if reuse:
            connection.execute(text("SELECT 1"))
        else:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    admin = base.set(database=name)
    app_url = admin.set(username="xiehui_app", password=None)
    config["SQLALCHEMY_DATABASE_URI"] = app_url.render_as_string(hide_password=False)
    config["DATABASE_ADMIN_URL"] = admin.render_as_string(hide_password=False)
    return config, admin.set(drivername="postgresql").render_as_string(hide_password=False)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def timed(call, repeat: int) -> tuple[float, float]:
    call()  # warm caches
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), percentile(timings, 0.95)


USED_STEPS: set[int] = set()


def signed_in_client(app, login: str):
    client = app.test_client()
    response = client.post("/login", data={"login": login, "password": PASSWORD})
    if response.status_code == 302 and response.location.startswith("/login/code"):
        # A code is good once: a second sign-in in the same 30-second step waits for the next.
        if int(time.time() // 30) in USED_STEPS:
            time.sleep(30.5 - time.time() % 30)
        USED_STEPS.add(int(time.time() // 30))
        response = client.post("/login/code", data={"code": pyotp.TOTP(TOTP_SECRET).now()})
        if response.status_code == 422:  # taken by another run in this step
            time.sleep(30.5 - time.time() % 30)
            response = client.post("/login/code", data={"code": pyotp.TOTP(TOTP_SECRET).now()})
    assert response.status_code == 302, response.status_code
    return client


def get_ok(client, url: str):
    def call():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    return call


def add_auditor(slug: str, login: str) -> None:
    with UNSCOPED_BYPASS("benchmark users"):
        association = db.session.scalar(select(Association).where(Association.slug == slug))
        user = User(login=login, name="审核员", password_hash=hash_password(PASSWORD))
        db.session.add(user)
        db.session.flush()
        db.session.add(
            Membership(association_id=association.id, user_id=user.id, role=Role.AUDITOR)
        )
        db.session.flush()
        if second_factor.is_required(user):
            second_factor.enable_with_known_secret(user, TOTP_SECRET)
        db.session.commit()


def compare(slug: str) -> tuple[float, float, bool]:
    """Time of the roll-up (as the dashboard reads it, under row-level security) and of the
    naive computation from the raw tables (as the nightly job computes figures, without the
    per-row policy), and whether they agree."""
    association = db.session.scalar(select(Association).where(Association.slug == slug))
    with tenant_context(scope_for(association, writable=False)), subtree_reads():
        started = time.perf_counter()
        fast = rollup.rollup(association, YEAR)
        fast_ms = (time.perf_counter() - started) * 1000
    db.session.rollback()
    with UNSCOPED_BYPASS("the naive computation reads the raw tables like the nightly job"):
        started = time.perf_counter()
        slow = rollup.naive_rollup(association, YEAR)
        slow_ms = (time.perf_counter() - started) * 1000
    db.session.rollback()
    return fast_ms, slow_ms, fast.comparable() == slow.comparable()


# Written from the domain rules (docs/figures.md), not from app/dashboards: what the stored sums
# must hold for a subtree, straight from the raw tables.
INDEPENDENT_SQL = """
SELECT
  (SELECT count(*) FROM associations a
    WHERE a.path >= :low AND a.path < :high
      AND a.kind IN ('community', 'village', 'enterprise', 'migrant')) AS grassroots,
  (SELECT count(*) FROM members m JOIN associations a ON a.id = m.association_id
    WHERE a.path >= :low AND a.path < :high
      AND (m.joined_on IS NULL OR m.joined_on <= :end)
      AND (m.status = 'active' OR (m.status_on IS NOT NULL AND m.status_on > :end))) AS members,
  (SELECT count(*) FROM members m JOIN associations a ON a.id = m.association_id
    WHERE a.path >= :low AND a.path < :high
      AND m.joined_on >= :start AND m.joined_on <= :end) AS new_members,
  (SELECT count(*) FROM activities x JOIN associations a ON a.id = x.association_id
    WHERE a.path >= :low AND a.path < :high
      AND x.held_on >= :start AND x.held_on <= :end) AS activities,
  (SELECT count(*) FROM year_plans p JOIN associations a ON a.id = p.association_id
    WHERE a.path >= :low AND a.path < :high
      AND p.year = :year AND p.published_at IS NOT NULL) AS plan_published,
  (SELECT count(*) FROM year_reports r JOIN associations a ON a.id = r.association_id
    WHERE a.path >= :low AND a.path < :high
      AND r.year = :year AND r.published_at IS NOT NULL) AS report_published,
  (SELECT count(*) FROM survey_responses sr
    JOIN surveys s ON s.id = sr.survey_id AND s.association_id = sr.association_id
    JOIN associations a ON a.id = sr.association_id
    WHERE a.path >= :low AND a.path < :high AND s.year = :year) AS survey_responses,
  (SELECT count(*) FROM survey_responses sr
    JOIN surveys s ON s.id = sr.survey_id AND s.association_id = sr.association_id
    JOIN associations a ON a.id = sr.association_id
    WHERE a.path >= :low AND a.path < :high AND s.year = :year
      AND sr.overall IN (4, 5)) AS satisfied_responses
"""
# The self-governance cycle is yearly, never frozen with a closed quarter (docs/figures.md):
# compared for the live sums only.
CYCLE_FIGURES = ("plan_published", "report_published", "survey_responses", "satisfied_responses")


def independent_check(slug: str, stored: dict, year: int, end: date, *, live: bool) -> bool:
    """Compare stored subtree sums with SQL written independently of the code filling them
    (the self-governance cycle for the `live` sums only: a closed period does not hold it)."""
    association = db.session.scalar(select(Association).where(Association.slug == slug))
    low = association.path
    high = low[:-1] + "0"
    with UNSCOPED_BYPASS("the benchmark's independent check reads the raw tables"):
        row = db.session.execute(
            text(INDEPENDENT_SQL),
            {"low": low, "high": high, "start": date(year, 1, 1), "end": end, "year": year},
        ).one()
    db.session.rollback()
    expected = {
        "grassroots": row.grassroots,
        "members": row.members,
        "new_members": row.new_members,
        "activities": row.activities,
    }
    got = {key: int(stored.get(key, 0)) for key in ("grassroots", "members", "new_members")}
    got["activities"] = sum(int(stored.get(f"q{q}", 0)) for q in range(1, 5))
    if live:
        expected.update({key: getattr(row, key) for key in CYCLE_FIGURES})
        got.update({key: int(stored.get(key, 0)) for key in CYCLE_FIGURES})
    if got != expected:
        print(f"  stored {got} != independent {expected}", flush=True)
    return got == expected


def stored_totals(slug: str, year: int, quarter: int | None = None) -> dict:
    from app.dashboards.models import PeriodSubtreeFigures, SubtreeFigures

    with UNSCOPED_BYPASS("the benchmark reads the stored sums"):
        one = db.session.scalar(select(Association.id).where(Association.slug == slug))
        if quarter is None:
            query = select(SubtreeFigures.totals).where(
                SubtreeFigures.association_id == one, SubtreeFigures.year == year
            )
        else:
            query = select(PeriodSubtreeFigures.totals).where(
                PeriodSubtreeFigures.association_id == one,
                PeriodSubtreeFigures.year == year,
                PeriodSubtreeFigures.quarter == quarter,
            )
        totals = db.session.scalar(query) or {}
    db.session.rollback()
    return totals


def change_and_refresh(slug: str) -> float:
    """A secretary's kind of change (every lapsed member of one association active again),
    then the incremental refresh the change triggers; returns its time in ms."""
    with UNSCOPED_BYPASS("benchmark change"):
        one = db.session.scalar(select(Association.id).where(Association.slug == slug))
        db.session.execute(
            text("UPDATE members SET status = 'active' WHERE association_id = :id"), {"id": one}
        )
        db.session.commit()
    started = time.perf_counter()
    refresh.refresh_associations([one])
    db.session.commit()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument(
        "--reuse", action="store_true", help="PostgreSQL: time the pages on the set built before"
    )
    parser.add_argument(
        "--pages-only",
        action="store_true",
        help="with --reuse: time only the pages (no build, refresh, closing or checks)",
    )
    parser.add_argument(
        "--db-name",
        default=DATABASE,
        help="PostgreSQL: the bench's own database (dropped and rebuilt unless --reuse); give "
        "each concurrent run its own, or one run's DROP … WITH (FORCE) ends the other's",
    )
    args = parser.parse_args()
    scale = "province" if args.database == "postgresql" else "county"
    rng = random.Random(20261123)
    workdir = Path(tempfile.mkdtemp(prefix="dashboards-bench-"))
    config, raw_url = config_for(
        args.database, workdir, args.reuse and args.database != "sqlite", args.db_name
    )
    app = create_app(config)
    lines = [f"dashboards benchmark · {args.database} · {scale} · {NOW:%Y-%m-%d %H:%M} UTC"]

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    reuse = args.reuse and args.database != "sqlite"
    # Only the pages, on a set built before (no refresh, closing or
    # checks): for repeated latency runs on a busy machine.
    pages_only = args.pages_only and reuse
    if reuse:
        built = {"province": "p", "county": "k0", "counts": {}}
    county = built["county"] if reuse else None
    top = built["province"] if reuse else None
    with app.app_context():
        upgrade(revision="heads")
        db.session.remove()
        naive_runs: list[float] = []
        rollup_runs: list[float] = []
        if not pages_only:
            if not reuse:
                started = time.perf_counter()
                built = build(Writer(args.database, raw_url), scale, rng)
                say(f"data set built in {time.perf_counter() - started:.0f} s: " + ", ".join(
                    f"{table} {count:,}" for table, count in built["counts"].items()))  # fmt: skip
                started = time.perf_counter()
                for year in (YEAR, YEAR - 1):
                    refresh.refresh_figures(year)
                    db.session.commit()
                say(f"figures table and subtree sums (nightly job, 2 years, every association): "
                    f"{time.perf_counter() - started:.1f} s")  # fmt: skip
                county = built["county"]
                top = built["province"] or county
                add_auditor(county, "county.auditor@bench.cn")
                if built["province"]:
                    add_auditor(top, "province.auditor@bench.cn")
            started = time.perf_counter()
            rebuilt = sum(totals.rebuild(year) for year in (YEAR, YEAR - 1))
            db.session.commit()
            say(f"subtree sums rebuilt from the figures table (2 years, {rebuilt:,} rows): "
                f"{time.perf_counter() - started:.1f} s")  # fmt: skip
            ended = definitions.ended_quarters(YEAR, TODAY)
            close_year, close_quarter = (YEAR, ended) if ended else (YEAR - 1, 4)
            with UNSCOPED_BYPASS("the benchmark clears a period closed by an earlier run"):
                db.session.execute(
                    text("DELETE FROM period_subtree_figures WHERE year = :y AND quarter = :q"),
                    {"y": close_year, "q": close_quarter},
                )
                db.session.execute(
                    text("DELETE FROM period_figures WHERE year = :y AND quarter = :q"),
                    {"y": close_year, "q": close_quarter},
                )
                db.session.execute(
                    text("DELETE FROM closed_periods WHERE year = :y AND quarter = :q"),
                    {"y": close_year, "q": close_quarter},
                )
                db.session.commit()
            started = time.perf_counter()
            frozen = periods.close_period(close_year, close_quarter)
            db.session.commit()
            say(
                f"closing Q{close_quarter} {close_year} (figures as of its last day, frozen "
                f"with the subtree sums): {frozen:,} associations in "
                f"{time.perf_counter() - started:.1f} s"
            )
            end = definitions.quarter_end(close_year, close_quarter)
            checked = (top or built["province"] or built["county"], built["county"])
            for slug in dict.fromkeys(checked):
                live = independent_check(
                    slug, stored_totals(slug, YEAR), YEAR, date(YEAR, 12, 31), live=True
                )
                closed = independent_check(
                    slug,
                    stored_totals(slug, close_year, close_quarter),
                    close_year,
                    end,
                    live=False,
                )
                say(
                    f"stored sums of {slug!r} equal SQL written independently: live {YEAR} {live}, "
                    f"closed Q{close_quarter} {close_year} {closed}"
                )
                assert live and closed, "the stored sums disagree with the independent SQL"
            years = len(refresh.years_to_refresh())
            elapsed = change_and_refresh("g7")
            say(
                f"a change in one association, then its incremental refresh ({years} years, "
                f"figures row and the sums of it and its ancestors): {elapsed:.0f} ms"
            )
            for slug in dict.fromkeys((top, county)):
                fast_ms, slow_ms, equal = compare(slug)
                if slug == top:
                    naive_runs.append(slow_ms)
                    rollup_runs.append(fast_ms)
                say(f"roll-up of {slug!r} equals the naive computation from the raw tables: "
                    f"{equal}")  # fmt: skip
                assert equal, "the subtree sums disagree with the raw tables"
        db.session.remove()

    with app.app_context():
        county_client = signed_in_client(app, "county.auditor@bench.cn")
        cases = []
        if built["province"]:
            top_client = signed_in_client(app, "province.auditor@bench.cn")
        if built["province"]:
            base = f"/a/{top}/dashboard"
            cases += [
                ("province-root dashboard", top_client, f"{base}/", args.requests),
                ("problems list, province, page 1", top_client, f"{base}/problems", args.requests),
            ]
            if not pages_only:
                page_40 = f"{base}/problems?page=40"
                cases += [("problems list, province, page 40", top_client, page_40, 20)]
        base = f"/a/{county}/dashboard"
        exports = max(5, args.requests // 5)
        cases += [
            ("county dashboard", county_client, f"{base}/", args.requests),
            ("problems list, county, page 1", county_client, f"{base}/problems", args.requests),
            ("county .xlsx export", county_client, f"{base}/export.xlsx", exports),
            ("county subtree sheet page", county_client, f"{base}/associations", args.requests),
        ]
        if built["province"]:
            big = "/a/k1/dashboard"
            cases += [
                ("large county (k1) .xlsx export", top_client, f"{big}/export.xlsx", 5),
                ("large county (k1) subtree sheet page", top_client, f"{big}/associations", 20),
            ]
            if not pages_only:
                export = "/a/c0/dashboard/export.xlsx"
                cases += [("city .xlsx export", top_client, export, 3)]
        say("latency through the whole app, warm caches (p50 / p95):")
        results = {}
        for label, client, url, repeat in cases:
            p50, p95 = timed(get_ok(client, url), repeat)
            results[label] = p95
            say(f"  {label:<36} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   ({repeat} requests)")
        for _ in range(0 if pages_only else 2):
            fast_ms, slow_ms, _equal = compare(top)
            naive_runs.append(slow_ms)
            rollup_runs.append(fast_ms)
        if rollup_runs:
            fast, slow = statistics.median(rollup_runs), statistics.median(naive_runs)
            say(
                f"{top!r} figures: roll-up query p50 {fast:.1f} ms; naive from the raw tables "
                f"p50 {slow:.0f} ms ({slow / fast:.0f}x slower)"
            )
        db.session.remove()
        db.engine.dispose()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"dashboards-{args.database}.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
