"""Benchmark of the dashboards on a national-shape tree (issue 19; run by hand, never in tests).

Builds once, with COPY (psycopg `cursor.copy`) as the owner into the migrated schema, the whole
country scaled down per association: the platform root (全国, kind "province": the tree has no
national kind) → 34 provinces → 340 cities → 3,000 counties → 40,000 townships → 1,000,000
grassroots associations (1,043,375 in all), 10 members (10,000,000) and 5 activities
(5,000,000) per grassroots association. The figures rows (`association_figures`) are generated
from the same rules as the members and activities they count (the run checks a county's against
app/dashboards/figures.py's own computation, and the root's and a county's stored sums against
SQL over the raw tables); the subtree sums (`subtree_figures`) are added up the tree from
rollup.contribution in the same pass, instead of the nightly job's Python over 1 M rows. Then,
as the app role under row-level security (default work_mem), it prints p50/p95 through the
whole app (in-process WSGI, signed-in auditors) of the dashboard at the national root, a
province and a county and of the problems list at a province (page 1 and a deep page), and the
row-level-security cost of a statement at a village, a county, a province and the root.

    nice -n 10 .venv/bin/python bench/national_bench.py --rebuild --build-only
    .venv/bin/python bench/national_bench.py                # times the set built before
    .venv/bin/python bench/national_bench.py --nightly      # the nightly refresh, every year

`--nightly` (alone, or with `--nightly-years 2026`) times the nightly refresh over the whole
country as `flask dashboards refresh` runs it, in a process of its own (peak RSS, transactions
and the longest), while a reader reads the root's and a random association's sums every 20 ms
(its longest read); then checks the stored sums against SQL over the raw tables again.

The server comes from XIEHUI_BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres);
the database `xiehui_national_bench` is kept between runs (about 5 GB). Results go to bench/out/.
"""

import argparse
import json
import os
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
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

import bench.dashboards_bench as base  # noqa: E402
import bench.rls_bench as rls_bench  # noqa: E402
from app import create_app  # noqa: E402
from app.accounts import second_factor  # noqa: E402
from app.accounts.models import User  # noqa: E402
from app.accounts.passwords import hash_password  # noqa: E402
from app.dashboards import figures, rollup  # noqa: E402
from app.dashboards.models import AssociationFigures  # noqa: E402
from app.extensions import db  # noqa: E402
from tenants import rls  # noqa: E402
from tenants.context import UNSCOPED_BYPASS  # noqa: E402
from tenants.models import Association, Membership, Role  # noqa: E402
from tenants.tree import subtree_bounds  # noqa: E402

DATABASE = "xiehui_national_bench"
SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
YEAR = base.YEAR
TODAY = base.TODAY
NOW = datetime.now(UTC)
PROVINCES, CITIES, COUNTIES, TOWNSHIPS, GRASSROOTS = 34, 340, 3_000, 40_000, 1_000_000
MEMBERS_EACH, ACTIVITIES_EACH = 10, 5
LEVELS = ("root", "province", "city", "county", "township", "grassroots")
# The root's kind: AssociationKind has no national level, the highest is the province.
KINDS = ("province", "province", "city", "county", "township")
COUNTS = (1, PROVINCES, CITIES, COUNTIES, TOWNSHIPS, GRASSROOTS)
SLUG_PREFIX = ("n", "p", "c", "k", "t", "g")
NAME_PATTERN = (
    "全国计生协",
    "第{}省计生协",
    "第{}市计生协",
    "第{}县计生协",
    "第{}镇计生协",
    "第{}村计生协",
)
# Division codes (统计用区划代码): province 2 digits, city 2, county 2, township 3, village 3.
CODE_WIDTHS = (0, 2, 2, 2, 3, 3)
USERS = {  # login: (association slug, role)
    "national.auditor@bench.cn": ("n", Role.AUDITOR),
    "province.auditor@bench.cn": ("p0", Role.AUDITOR),
    "county.auditor@bench.cn": ("k0", Role.AUDITOR),
    "village.secretary@bench.cn": ("g0", Role.SECRETARY),
}
LOADED_TABLES = (
    "associations",
    "members",
    "activities",
    "association_figures",
    "subtree_figures",
)
CHUNK = 1 << 20  # characters per COPY write


def grassroots_kind(index: int) -> str:
    if index % 3 == 0:
        return "community"
    return "village" if index % 7 else ("enterprise", "migrant")[index % 2]


class Tree:
    """The associations, numbered breadth first (root 1, provinces 2–35 …): each level's nodes
    are split into contiguous blocks under the nodes of the level above, so a subtree's ids
    (and its members' rows) lie together, as a tree onboarded province by province would."""

    def __init__(self):
        self.first_id = []  # the first id of each level
        next_id = 1
        for count in COUNTS:
            self.first_id.append(next_id)
            next_id += count
        self.size = next_id - 1

    def parent_index(self, level: int, index: int) -> int:
        """The index (within its level) of the parent of node `index` of `level`."""
        return index * COUNTS[level - 1] // COUNTS[level]

    def first_child(self, level: int, index: int) -> int:
        """The index of the first child (within the level below) of node `index` of `level`."""
        below = COUNTS[level + 1]
        return -(-index * below // COUNTS[level])  # ceil(index × below / count)

    def node_id(self, level: int, index: int) -> int:
        return self.first_id[level] + index

    def path_of(self, level: int, index: int) -> str:
        ids = []
        for lvl in range(level, -1, -1):
            ids.append(self.node_id(lvl, index))
            if lvl:
                index = self.parent_index(lvl, index)
        return "/" + "/".join(str(i) for i in reversed(ids)) + "/"


def members_of(grassroots_index: int):
    """(member id, status, joined_on) of the association's members: deterministic, varied."""
    for k in range(MEMBERS_EACH):
        member_id = grassroots_index * MEMBERS_EACH + k + 1
        status = "lapsed" if member_id % 12 == 0 else "active"
        joined = date(2010 + member_id % 17, member_id % 12 + 1, 1)
        yield member_id, status, joined


def activities_of(grassroots_index: int):
    """(activity id, held_on, type) of the association's activities: one per quarter and one
    more, with some quarters left empty (quarter gaps), a year back now and then."""
    i = grassroots_index
    quarters = [1, 2, 3, 4, i % 4 + 1]
    if i % 11 == 0:
        quarters[1] = 1  # nothing in Q2: behind on the activity requirement
    if i % 7 == 0:
        quarters[3] = 3  # nothing in Q4 yet
    for a, quarter in enumerate(quarters):
        year = YEAR - 1 if a == 4 and i % 3 == 0 else YEAR
        held = date(year, 3 * quarter - 2 + (i + a) % 3, 1 + (i * 7 + a) % 28)
        if held > TODAY:
            held = held.replace(month=3 * quarter - 2)
            if held > TODAY:
                held = held.replace(year=YEAR - 1)
        kind = "member_day" if a == 0 and i % 4 == 0 else "publicity"
        yield i * ACTIVITIES_EACH + a + 1, held, kind


def population_of(grassroots_index: int) -> int:
    """Served population scaled down like the members (10 members: a ratio of 5–20 %)."""
    return 50 + grassroots_index * 7919 % 151


class Copier:
    """Text-format COPY into tables over one owner connection, FK triggers off (the generated
    rows are consistent by construction), one transaction."""

    def __init__(self, url: str):
        self.connection = psycopg.connect(url, autocommit=False)
        self.connection.execute("SET session_replication_role = replica")
        self.counts: dict[str, int] = {}

    def copy(self, table: str, columns: tuple[str, ...], lines) -> None:
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        count, buffer, size = 0, [], 0
        with self.connection.cursor() as cursor, cursor.copy(statement) as copy:
            for line in lines:
                buffer.append(line)
                size += len(line)
                count += 1
                if size >= CHUNK:
                    copy.write("".join(buffer))
                    buffer, size = [], 0
            copy.write("".join(buffer))
        self.counts[table] = self.counts.get(table, 0) + count

    def commit(self) -> None:
        for table in self.counts:
            self.connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        self.connection.execute("SET session_replication_role = DEFAULT")
        self.connection.commit()
        self.connection.close()


def text_value(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def division_code(tree: Tree, level: int, index: int) -> str:
    """Each ancestor's place among its parent's children, zero padded, in 12 digits
    (provinces from 11, as the real codes)."""
    digits = []
    while level:
        parent = tree.parent_index(level, index)
        place = index - tree.first_child(level - 1, parent) + (11 if level == 1 else 1)
        digits.append(f"{place:0{CODE_WIDTHS[level]}d}")
        level, index = level - 1, parent
    return "".join(reversed(digits)).ljust(12, "0")


def association_lines(tree: Tree):
    long_ago = base.LONG_AGO.isoformat()
    for level, count in enumerate(COUNTS):
        for index in range(count):
            if level:
                parent_id = tree.node_id(level - 1, tree.parent_index(level, index))
                code = division_code(tree, level, index)
            else:
                parent_id, code = "\\N", "\\N"
            kind = grassroots_kind(index) if level == 5 else KINDS[level]
            population = population_of(index) if level == 5 else "\\N"
            slug = f"{SLUG_PREFIX[level]}{index if level else ''}"
            yield (
                f"{tree.node_id(level, index)}\t{NAME_PATTERN[level].format(index + 1)}\t{slug}\t"
                f"{kind}\t{parent_id}\t{tree.path_of(level, index)}\t{level}\t{code}\t"
                f"{population}\t{long_ago}\n"
            )


def member_lines(tree: Tree):
    created = NOW.isoformat()
    for index in range(GRASSROOTS):
        association_id = tree.node_id(5, index)
        for member_id, status, joined in members_of(index):
            yield (
                f"{member_id}\t{association_id}\t会员{member_id}\thy\t{joined}\t{status}\t\t"
                f"{created}\n"
            )


def activity_lines(tree: Tree):
    created = NOW.isoformat()
    for index in range(GRASSROOTS):
        association_id = tree.node_id(5, index)
        for activity_id, held, kind in activities_of(index):
            yield (
                f"{activity_id}\t{association_id}\t{held}\t活动{activity_id}\t{kind}\t\t\t20\t\t"
                f"{created}\t{created}\n"
            )


def figures_of(index: int, empty: dict) -> dict:
    """A grassroots association's figures row, by the rules of app/dashboards/figures.py."""
    values = dict(empty)
    end, start = date(YEAR, 12, 31), date(YEAR, 1, 1)
    members = new = 0
    for _member_id, status, joined in members_of(index):
        if status == "active" and joined <= end:
            members += 1
        if start <= joined <= end:
            new += 1
    quarters = [0, 0, 0, 0]
    member_day = 0
    for _activity_id, held, kind in activities_of(index):
        if start <= held <= end:
            quarters[(held.month - 1) // 3] += 1
            member_day += kind == "member_day"
    values.update(
        members=members,
        new_members=new,
        population=population_of(index),
        member_day_activities=member_day,
        **{f"activities_q{q + 1}": quarters[q] for q in range(4)},
    )
    return values


FIGURE_COLUMNS = tuple(
    column.key for column in AssociationFigures.__table__.columns if column.key != "id"
)


def figures_and_sums(copier: Copier, tree: Tree, empty: dict) -> None:
    """The figures rows of every association and the subtree sums, added up the tree: each
    grassroots association's contribution is its own sum and goes into its township's; then
    level by level upwards (a node's own contribution plus its children's sums)."""
    computed = NOW.isoformat()
    sums: list[list[dict]] = [[{} for _ in range(count)] for count in COUNTS[:5]]
    sum_lines: list[str] = []

    def figures_lines():
        for level in range(5, -1, -1):
            for index in range(COUNTS[level]):
                association_id = tree.node_id(level, index)
                if level == 5:
                    values = figures_of(index, empty)
                    kind = grassroots_kind(index)
                    own = rollup.contribution(kind, values)
                    sum_lines.append(_sum_line(association_id, own, computed))
                    rollup.add_into(sums[4][tree.parent_index(5, index)], own)
                else:
                    values = dict(empty)
                    kind = KINDS[level]
                    total = rollup.add_into(sums[level][index], rollup.contribution(kind, values))
                    sum_lines.append(_sum_line(association_id, total, computed))
                    if level:
                        rollup.add_into(sums[level - 1][tree.parent_index(level, index)], total)
                row = {**values, "year": YEAR, "computed_at": computed}
                row["association_id"] = association_id
                yield "\t".join(text_value(row[c]) for c in FIGURE_COLUMNS) + "\n"

    copier.copy("association_figures", FIGURE_COLUMNS, figures_lines())
    copier.copy(
        "subtree_figures", ("association_id", "year", "totals", "oldest_computed_at"), sum_lines
    )


def _sum_line(association_id: int, totals: dict, computed: str) -> str:
    return f"{association_id}\t{YEAR}\t{json.dumps(totals, ensure_ascii=False)}\t{computed}\n"


def add_users(tree: Tree) -> None:
    with UNSCOPED_BYPASS("benchmark users"):
        for login, (slug, role) in USERS.items():
            association = db.session.scalar(select(Association).where(Association.slug == slug))
            user = User(login=login, name="基准用户", password_hash=hash_password(base.PASSWORD))
            db.session.add(user)
            db.session.flush()
            db.session.add(Membership(association_id=association.id, user_id=user.id, role=role))
            db.session.flush()
            if second_factor.is_required(user):
                second_factor.enable_with_known_secret(user, base.TOTP_SECRET)
        db.session.commit()


def build(app, owner_url: str, say) -> None:
    tree = Tree()
    phases = []

    def phase(label: str, started: float) -> None:
        phases.append((label, time.perf_counter() - started))
        say(f"  {label:<40} {phases[-1][1]:7.1f} s")

    say("building the national set:")
    total = time.perf_counter()
    copier = Copier(owner_url)
    started = time.perf_counter()
    copier.copy(
        "associations",
        (
            "id",
            "name",
            "slug",
            "kind",
            "parent_id",
            "path",
            "depth",
            "division_code",
            "served_population",
            "created_at",
        ),  # fmt: skip
        association_lines(tree),
    )
    phase(f"associations ({tree.size:,})", started)
    started = time.perf_counter()
    copier.copy(
        "members",
        (
            "id",
            "association_id",
            "name",
            "name_initials",
            "joined_on",
            "status",
            "tags_text",
            "created_at",
        ),  # fmt: skip
        member_lines(tree),
    )
    phase(f"members ({GRASSROOTS * MEMBERS_EACH:,})", started)
    started = time.perf_counter()
    copier.copy(
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
        activity_lines(tree),
    )
    phase(f"activities ({GRASSROOTS * ACTIVITIES_EACH:,})", started)
    copier.commit()
    with app.app_context():
        # The row the app computes for an association with nothing recorded (the root has no
        # members or activities): every installed group's columns, NULL where not installed.
        with UNSCOPED_BYPASS("the benchmark asks the figures job for an empty row"):
            empty = figures.compute_rows(YEAR, [tree.node_id(0, 0)])[tree.node_id(0, 0)]
        db.session.rollback()
    started = time.perf_counter()
    copier = Copier(owner_url)
    figures_and_sums(copier, tree, empty)
    copier.commit()
    phase(f"figures rows and subtree sums ({tree.size:,} each)", started)
    started = time.perf_counter()
    with psycopg.connect(owner_url, autocommit=True) as owner:
        for table in LOADED_TABLES:
            owner.execute(f"VACUUM ANALYZE {table}")
    phase("VACUUM ANALYZE", started)
    started = time.perf_counter()
    with app.app_context():
        add_users(tree)
    phase("users and memberships", started)
    say(f"  {'built in':<40} {time.perf_counter() - total:7.1f} s")


# --- checks -------------------------------------------------------------------------------------


def check_figures(slug: str) -> bool:
    """The stored figures rows of a subtree equal app/dashboards/figures.py's computation."""
    association = db.session.scalar(select(Association).where(Association.slug == slug))
    low, high = subtree_bounds(association.path)
    with UNSCOPED_BYPASS("the benchmark compares the generated figures with the job's"):
        ids = list(
            db.session.scalars(
                select(Association.id).where(Association.path >= low, Association.path < high)
            )
        )
        computed = figures.compute_rows(YEAR, ids)
        stored = {
            row.association_id: {column: getattr(row, column) for column in computed[ids[0]]}
            for row in db.session.scalars(
                select(AssociationFigures).where(
                    AssociationFigures.year == YEAR, AssociationFigures.association_id.in_(ids)
                )
            )
        }
    db.session.rollback()
    differ = [i for i in ids if stored.get(i) != computed[i]]
    if differ:
        print(f"  {differ[0]}: stored {stored.get(differ[0])} != job {computed[differ[0]]}")
    return not differ and len(ids) == len(stored)


# --- measurements -------------------------------------------------------------------------------


def signed_in_client(app, login: str):
    """A test client signed in as `login` (with its TOTP code where a second factor is on;
    each bench user signs in once, so a code of the current step is fresh for it)."""
    client = app.test_client()
    response = client.post("/login", data={"login": login, "password": base.PASSWORD})
    if response.status_code == 302 and response.location.startswith("/login/code"):
        response = client.post("/login/code", data={"code": pyotp.TOTP(base.TOTP_SECRET).now()})
        if response.status_code == 422:  # this step's code was used by an earlier run
            time.sleep(30.5 - time.time() % 30)
            code = pyotp.TOTP(base.TOTP_SECRET).now()
            response = client.post("/login/code", data={"code": code})
    assert response.status_code == 302, (login, response.status_code)
    return client


def page_latencies(app, requests: int, say) -> None:
    """Outside any app context: each request pushes its own (an outer one would share `g`,
    and with it the signed-in user, between the clients)."""
    with app.app_context(), UNSCOPED_BYPASS("the benchmark counts a province's grassroots"):
        p0 = db.session.scalar(select(Association).where(Association.slug == "p0"))
        low, high = subtree_bounds(p0.path)
        grassroots = db.session.scalar(
            select(func.count(Association.id)).where(
                Association.path >= low,
                Association.path < high,
                Association.kind.in_(rollup.GRASSROOTS_KINDS),
            )
        )
        deep = max(1, grassroots * 9 // 10 // 25)
        # Where the page before the deep page ends: the next-page link's `after` (every
        # grassroots association of this set is on the list, in path order).
        after = db.session.scalar(
            select(Association.path)
            .where(
                Association.path >= low,
                Association.path < high,
                Association.kind.in_(rollup.GRASSROOTS_KINDS),
            )
            .order_by(Association.path)
            .offset((deep - 1) * 25 - 1)
            .limit(1)
        )
        db.session.rollback()
    national, province, county, village = (signed_in_client(app, login) for login in USERS)
    cases = [
        ("national root dashboard", national, "/a/n/dashboard/", requests, 200),
        ("province dashboard", province, "/a/p0/dashboard/", requests, 100),
        ("county dashboard", county, "/a/k0/dashboard/", requests, 50),
        ("problems list, province, page 1", province, "/a/p0/dashboard/problems", requests, 150),
        (
            f"problems list, province, page {deep}",
            province,
            f"/a/p0/dashboard/problems?page={deep}",
            requests,
            150,
        ),
        (
            f"problems list, province, page {deep} by key",
            province,
            f"/a/p0/dashboard/problems?page={deep}&after={after}",
            requests,
            150,
        ),
        ("problems list, county, page 1", county, "/a/k0/dashboard/problems", requests, None),
        ("problems list, national, page 1", national, "/a/n/dashboard/problems", 3, None),
        ("village home page (its secretary)", village, "/a/g0/", requests, None),
    ]
    say("latency through the whole app, warm caches, app role under row-level security:")
    for label, client, url, repeat, target in cases:
        p50, p95 = base.timed(base.get_ok(client, url), repeat)
        verdict = ""
        if target is not None:
            verdict = f"  target ≤ {target} ms: {'met' if p95 <= target else 'MISSED'}"
        say(f"  {label:<38} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms   ({repeat}){verdict}")


def rls_costs(config, owner_url: str, app_url: str, runs: int, say) -> None:
    """Server time of one-row statements under a scope at each level, minus the superuser's
    (rls_bench's method): the policy's cost per statement."""
    village = "g0"
    with psycopg.connect(owner_url) as owner:
        paths = dict(
            owner.execute(
                "SELECT slug, path FROM associations WHERE slug IN ('n', 'p0', 'k0', %s)",
                (village,),
            ).fetchall()
        )
        village_id = int(paths[village].strip("/").split("/")[-1])
        member_id = owner.execute(
            "SELECT max(id) FROM members WHERE association_id = %s", (village_id,)
        ).fetchone()[0]
    key = str(rls.scope_key(config))

    def scoped(path):
        low, high = subtree_bounds(path)

        def enter(connection):
            connection.execute(
                "SELECT xiehui_enter_scope(%s, false, %s, %s, NULL)", (key, low, high)
            )

        return enter

    statements = {
        "village's member page": (rls_bench.LIST, (village_id,)),
        "one member by id": (rls_bench.ONE, (member_id,)),
    }
    levels = {"village": village, "county": "k0", "province": "p0", "national root": "n"}
    say(
        "row-level security per statement (medians, ms; 'rls' = server time under the scope "
        "minus the superuser's; 'transaction' = enter the scope + the statement, client side):"
    )
    with psycopg.connect(owner_url) as superuser, psycopg.connect(app_url) as app_role:
        for name, (statement, params) in statements.items():
            plain = rls_bench._timings(superuser, lambda c: None, statement, params, runs)[0]
            for level, slug in levels.items():
                server, planning, wall = rls_bench._timings(
                    app_role, scoped(paths[slug]), statement, params, runs
                )
                say(
                    f"  {name:<22} {level:<14} server {server:7.3f}  rls {server - plain:7.3f}"
                    f"  plan {planning:6.3f}  transaction {wall:7.3f}"
                )


def nightly(app, config: dict, owner_url: str, years: list[int] | None, say) -> None:
    import multiprocessing

    import bench.figures_writes_bench as writes

    with app.app_context(), UNSCOPED_BYPASS("the bench picks associations to read"):
        root = db.session.scalar(select(Association.id).where(Association.parent_id.is_(None)))
        others = list(db.session.scalars(select(Association.id).where(Association.depth == 5)))
        db.session.remove()
        db.engine.dispose()
    context = multiprocessing.get_context("spawn")
    stop, done = context.Event(), context.Queue()
    reader = context.Process(
        target=writes.read_figures, args=(owner_url, root, others[::97], stop, done)
    )
    say("load average (1, 5, 15 min) before: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    reader.start()
    result = writes.run_nightly(config, ROOT, years)
    stop.set()
    longest_read = done.get(timeout=60)[1]
    reader.join(timeout=30)
    say(
        f"nightly refresh, years {result['years']}, {result['rows']:,} rows: "
        f"{result['seconds']:.1f} s ({result['seconds'] / 60:.1f} min), peak RSS "
        f"{result['hwm_mb']:.0f} MB, {result['transactions']:,} transactions, the longest "
        f"{result['longest']:.2f} s; longest dashboard read meanwhile {longest_read * 1000:.0f} ms"
    )
    say("load average (1, 5, 15 min) after: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    with app.app_context():
        check_sums(say)


def check_sums(say) -> None:
    """A county's figures rows against the figures job's, and the stored sums of the county and
    of the root against SQL over the raw tables. In an app context."""
    say(f"figures rows of county 'k0' equal the figures job's: {check_figures('k0')}")
    for slug in ("k0", "n"):
        equal = base.independent_check(
            slug, base.stored_totals(slug, YEAR), YEAR, date(YEAR, 12, 31), live=True
        )
        say(f"stored sums of {slug!r} equal SQL over the raw tables: {equal}")


def is_built(name: str) -> bool:
    """Whether the server holds this bench's database with its users (the build's last step)."""
    server = make_url(os.environ.get("XIEHUI_BENCH_PG_URL", SERVER))
    url = server.set(drivername="postgresql", database=name)
    try:
        with psycopg.connect(url.render_as_string(hide_password=False)) as owner:
            found = owner.execute("SELECT to_regclass('users') IS NOT NULL").fetchone()[0]
            return found and owner.execute("SELECT count(*) FROM users").fetchone()[0] > 0
    except psycopg.OperationalError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="drop and build the set again")
    parser.add_argument("--build-only", action="store_true", help="build, measure nothing")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--rls-runs", type=int, default=200)
    parser.add_argument("--db-name", default=DATABASE)
    parser.add_argument("--nightly", action="store_true", help="time the nightly refresh only")
    parser.add_argument("--nightly-years", type=int, nargs="*", help="default: every year held")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="national-bench-"))
    built = not args.rebuild and is_built(args.db_name)
    config, owner_url = base.config_for("postgresql", workdir, reuse=built, name=args.db_name)
    app = create_app(config)
    lines = [f"national benchmark · {NOW:%Y-%m-%d %H:%M} UTC"]

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    with app.app_context():
        upgrade(revision="heads")
        db.session.remove()
        db.engine.dispose()
    if not built:
        build(app, owner_url, say)
    with psycopg.connect(owner_url) as owner:
        size = owner.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        say(f"database size: {size.fetchone()[0]}")
    if args.nightly:
        nightly(app, config, owner_url, args.nightly_years, say)
    elif not args.build_only:
        say(
            "load average (1, 5, 15 min) before measuring: {:.1f} {:.1f} {:.1f}".format(
                *os.getloadavg()
            )
        )
        with app.app_context():
            check_sums(say)
            db.session.remove()
        page_latencies(app, args.requests, say)
        with app.app_context():
            db.engine.dispose()
        app_url = config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg", "postgresql")
        rls_costs(app.config, owner_url, app_url, args.rls_runs, say)
        say("load average (1, 5, 15 min) after: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    base.OUT.mkdir(parents=True, exist_ok=True)
    (base.OUT / "national.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
