"""Benchmark of the dashboard figures under a sustained stream of changes (issue 19), and of
the nightly refresh that streams (run by hand on PostgreSQL, never in tests).

Builds a province-shaped set with the builder of bench/dashboards_bench.py (`--scale region`,
the default: 4 cities, 21 counties, 300 townships, 4,000 grassroots associations, 400,000
members, 100,000 activities, dues; `--scale province`: the full 21,622 associations and
2,000,000 members), computes the figures with the nightly job, then:

1. Writes: `--writers` processes record activities (three in four) and members (one in four)
   in random grassroots associations through the services (app.activities.services,
   app.members.services), a commit each: the after-commit hook puts the association in the
   queue (figures_queue) and queues the drain job. `--workers` processes run what the job runs
   (`refresh.drain_batch`, in a loop) — the consumers of `flask jobs worker`. Reported: changes
   per second written and refreshed, the queue's length and the age of its oldest row (sampled
   every second), how long the queue takes to empty after the last change, the longest batch.
2. Checks every row of subtree_figures against SQL written independently: association_figures
   summed over each subtree through the path column (`unnest` of the path's ids), key by key,
   every year; and the figures rows of the current year against the raw activities and members.
3. The nightly refresh (`flask dashboards refresh`: every association, every year held) in a
   process of its own, with its time, peak RSS (resource.getrusage), longest transaction, while
   a reader reads the province's row and a random association's every 20 ms (its longest read)
   and one writer and one worker go on (the longest batch of the worker: how long the nightly
   holds the incremental refresh up). Then the check of step 2 again. `--old-tree PATH` runs
   the same nightly with the code of another checkout (e.g. /work/main before issue 19) for
   comparison, on the same data set.

    .venv/bin/python bench/figures_writes_bench.py                        # builds, then runs
    .venv/bin/python bench/figures_writes_bench.py --reuse --seconds 60   # on the set built before
    .venv/bin/python bench/figures_writes_bench.py --reuse --old-tree /work/main

The server URL comes from XIEHUI_BENCH_PG_URL (default
postgresql://postgres@127.0.0.1:5432/postgres); the script drops and creates its own database
`xiehui_figures_bench` there (unless --reuse). Results go to bench/out/ (git-ignored).
"""

import argparse
import json
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORKDIR = Path(tempfile.mkdtemp(prefix="figures-writes-bench-"))
# Jobs the writers queue go to a throwaway Huey store: the bench's workers drain the table.
os.environ.setdefault("HUEY_URL", f"sqlite:///{WORKDIR / 'jobs.db'}")

import psycopg  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import select  # noqa: E402

from app import create_app  # noqa: E402
from app.core.clock import china_today  # noqa: E402
from app.extensions import db  # noqa: E402
from bench import dashboards_bench  # noqa: E402
from tenants.context import UNSCOPED_BYPASS  # noqa: E402
from tenants.models import Association, AssociationKind  # noqa: E402

OUT = ROOT / "bench" / "out"
DATABASE = "xiehui_figures_bench"
TODAY = china_today()
YEAR = TODAY.year
GRASSROOTS = tuple(kind.value for kind in AssociationKind if kind.is_grassroots)
# The keys of the stored sums that plain SQL can sum (the others are bands and signatures
# computed per association in Python; the same rows feed both).
SUMMED = {
    "associations": "count(*)",
    "grassroots": f"count(*) FILTER (WHERE a.kind IN {GRASSROOTS!r})",
    "members": "sum(f.members)",
    "new_members": "sum(f.new_members)",
    "member_day_activities": "sum(f.member_day_activities)",
    "q1": "sum(f.activities_q1)",
    "q2": "sum(f.activities_q2)",
    "q3": "sum(f.activities_q3)",
    "q4": "sum(f.activities_q4)",
    "households": "sum(f.households)",
    "covered_households": "sum(f.covered_households)",
    "dues_expected_fen": "sum(f.dues_expected_fen)",
    "dues_collected_fen": "sum(f.dues_collected_fen)",
}


def bench_config(reuse: bool, name: str) -> tuple[dict, str]:
    config, raw_url = dashboards_bench.config_for("postgresql", WORKDIR, reuse, name)
    config.update({"HUEY_IMMEDIATE": False, "DASHBOARD_LIVE_REFRESH": True})
    return config, raw_url


# --- the processes -----------------------------------------------------------------------------


def write_changes(
    config: dict, stop, seed: int, targets: list, per_commit: int, rate: float, done
) -> None:
    """Until told to stop: record an activity (three in four) or a member through the services
    in a random association, a commit each; or, with `per_commit` > 1, insert that many
    activities in as many random associations and commit them together (the after-commit path
    is the same), at most `rate` changes a second (0: as fast as it can). The drain job is
    not queued: the bench's workers poll the queue table (with Redis, as in production,
    queueing it costs a fraction of a millisecond; the throwaway SQLite store of Huey here
    costs tens of milliseconds on a loaded machine)."""
    from app.activities.models import Activity, ActivityType
    from app.activities.services import ActivityInput, record_activity
    from app.dashboards import refresh
    from app.members.services import MemberInput, create_member
    from tenants.context import TenantScope, tenant_context

    refresh.drain_figures_queue_job = lambda: None
    app = create_app(config)
    rng = random.Random(seed)
    days = (TODAY - date(YEAR, 1, 1)).days
    changes = 0
    with app.app_context():
        started = time.time()
        while not stop.is_set():
            if rate and changes > rate * (time.time() - started):
                time.sleep(0.005)
                continue
            held_on = date(YEAR, 1, 1) + timedelta(days=rng.randint(0, days))
            if per_commit > 1:
                with UNSCOPED_BYPASS("the benchmark records activities in many associations"):
                    for association_id, _path in rng.sample(targets, per_commit):
                        db.session.add(
                            Activity(
                                association_id=association_id,
                                held_on=held_on,
                                title="活动",
                                type=ActivityType.OTHER,
                            )
                        )
                    db.session.commit()
                changes += per_commit
                continue
            association_id, path = rng.choice(targets)
            with tenant_context(TenantScope(association_id, path, writable=True)):
                if changes % 4 == 3:
                    create_member(MemberInput(name=f"新会员{seed}-{changes}", joined_on=TODAY))
                else:
                    data = ActivityInput(held_on=held_on, title="活动", type=ActivityType.OTHER)
                    record_activity(data, recorded_by_id=None, today=TODAY)
                db.session.commit()
            changes += 1
    done.put(("writer", (changes, started, time.time())))


def drain(config: dict, stop, done) -> None:
    """What the refresh job runs, in a loop, until told to stop; measures how long each batch
    holds the subtree rows' locks (from getting its first to its commit, less the waits for
    the later years' locks)."""
    from app.dashboards import refresh, totals

    locked_at: list[tuple[float, float]] = []  # (asked, got) of each year's locks

    def timed_lock(year, paths):
        asked = time.perf_counter()
        rows = lock_ancestors(year, paths)
        locked_at.append((asked, time.perf_counter()))
        return rows

    lock_ancestors = totals.lock_ancestors
    totals.lock_ancestors = timed_lock
    app = create_app(config)
    taken, batches, longest, held, busy = 0, 0, 0.0, [], []
    with app.app_context():
        while not stop.is_set():
            locked_at.clear()
            started = time.perf_counter()
            claimed = refresh.drain_batch()
            ended = time.perf_counter()
            if claimed:
                taken += claimed
                batches += 1
                longest = max(longest, ended - started)
                waited = sum(got - asked for asked, got in locked_at[1:])
                held.append((ended - locked_at[0][1] - waited) if locked_at else 0.0)
                busy.append((time.time() - (ended - started), time.time()))
            else:
                time.sleep(0.05)
    done.put(("worker", (taken, batches, longest, held, busy)))


def read_figures(raw_url: str, root: int, others: list[int], stop, done) -> None:
    """A dashboard's reads, every 20 ms: the province's row and a random association's."""
    rng = random.Random(7)
    longest = 0.0
    with psycopg.connect(raw_url, autocommit=True) as connection:
        while not stop.is_set():
            started = time.perf_counter()
            connection.execute(
                "SELECT totals FROM subtree_figures WHERE association_id = ANY(%s) AND year = %s",
                ([root, rng.choice(others)], YEAR),
            ).fetchall()
            longest = max(longest, time.perf_counter() - started)
            time.sleep(0.02)
    done.put(("reader", longest))


# The nightly refresh as `flask dashboards refresh` runs it, in a process of its own so that
# its peak RSS is its own; run with the tree given (this one, or --old-tree). Peak RSS is the
# process's VmHWM: getrusage's ru_maxrss survives exec on Linux, so it reports the bench's own
# peak (the data set it built) whenever that is higher.
NIGHTLY = """
import json, os, resource, sys, time
from sqlalchemy import event
from sqlalchemy.orm import Session
from app import create_app
from app.dashboards.refresh import refresh_figures, years_to_refresh
from app.extensions import db

config = json.loads(os.environ["FIGURES_BENCH_CONFIG"])
app = create_app(config)
began, longest, transactions = {}, [0.0], [0]

@event.listens_for(Session, "after_begin")
def _begin(session, transaction, connection):
    began.setdefault(id(session), time.perf_counter())

def _end(session):
    start = began.pop(id(session), None)
    if start is not None:
        longest[0] = max(longest[0], time.perf_counter() - start)
        transactions[0] += 1

event.listen(Session, "after_commit", _end)
event.listen(Session, "after_rollback", _end)
with app.app_context():
    years = json.loads(os.environ.get("FIGURES_BENCH_YEARS", "null")) or years_to_refresh()
    db.session.commit()
    started = time.perf_counter()
    rows = 0
    for year in years:
        rows += refresh_figures(year)
        db.session.commit()
    seconds = time.perf_counter() - started
print(json.dumps({
    "years": years, "rows": rows, "seconds": seconds, "longest": longest[0],
    "transactions": transactions[0],
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "hwm_mb": int(next(line.split()[1] for line in open("/proc/self/status")
                       if line.startswith("VmHWM"))) / 1024,
}))
"""


def run_nightly(config: dict, tree: Path, years: list[int] | None = None) -> dict:
    env = {
        **os.environ,
        "PYTHONPATH": str(tree),
        "FIGURES_BENCH_CONFIG": json.dumps(config),
        "FIGURES_BENCH_YEARS": json.dumps(years),
    }
    result = subprocess.run(
        [sys.executable, "-c", NIGHTLY],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- the checks --------------------------------------------------------------------------------


def independent_check(raw_url: str) -> tuple[int, int, int]:
    """(subtree rows compared, subtree rows that differ, figures rows that differ from the raw
    tables), in SQL that shares nothing with the app's code."""
    expected = ",\n".join(f"{sql} AS {key}" for key, sql in SUMMED.items())
    differs = " OR ".join(
        f"coalesce((s.totals->>'{key}')::bigint, 0) <> coalesce(e.{key}, 0)" for key in SUMMED
    )
    with psycopg.connect(raw_url, autocommit=True) as connection:
        compared, wrong = connection.execute(
            f"""
            WITH expected AS (
                SELECT CAST(ancestor AS integer) AS association_id, f.year, {expected}
                FROM association_figures f
                JOIN associations a ON a.id = f.association_id
                CROSS JOIN LATERAL unnest(string_to_array(trim(BOTH '/' FROM a.path), '/'))
                    AS ancestor
                GROUP BY 1, 2
            ), stored AS (
                SELECT association_id, year, totals FROM subtree_figures
                WHERE totals::text <> '{{}}'
            )
            SELECT count(*), count(*) FILTER (
                WHERE e.association_id IS NULL OR s.association_id IS NULL OR {differs})
            FROM expected e FULL JOIN stored s USING (association_id, year)
            """  # noqa: S608
        ).fetchone()
        raw_wrong = connection.execute(
            """
            WITH held AS (
                SELECT association_id, count(*) AS n FROM activities
                WHERE held_on BETWEEN make_date(%(y)s, 1, 1) AND make_date(%(y)s, 12, 31)
                GROUP BY 1
            ), joined AS (
                SELECT association_id, count(*) AS n FROM members
                WHERE joined_on BETWEEN make_date(%(y)s, 1, 1) AND make_date(%(y)s, 12, 31)
                GROUP BY 1
            )
            SELECT count(*) FROM association_figures f
            LEFT JOIN held h USING (association_id) LEFT JOIN joined j USING (association_id)
            WHERE f.year = %(y)s AND (
                f.activities_q1 + f.activities_q2 + f.activities_q3 + f.activities_q4
                    <> coalesce(h.n, 0)
                OR f.new_members <> coalesce(j.n, 0))
            """,
            {"y": YEAR},
        ).fetchone()[0]
    return compared, wrong, raw_wrong


def queue_state(raw_url: str) -> tuple[int, float]:
    with psycopg.connect(raw_url, autocommit=True) as connection:
        length, oldest = connection.execute(
            "SELECT count(*), coalesce(extract(epoch FROM now() - min(queued_at)), 0) "
            "FROM figures_queue"
        ).fetchone()
    return length, float(oldest)


def wait_until_drained(raw_url: str, timeout: float) -> float:
    started = time.perf_counter()
    while queue_state(raw_url)[0] and time.perf_counter() - started < timeout:
        time.sleep(0.2)
    return time.perf_counter() - started


# --- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("region", "province"), default="region")
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument(
        "--per-commit",
        type=int,
        default=1,
        help="1: a change per commit through the services; more: that many activities in as "
        "many associations per commit",
    )
    parser.add_argument(
        "--backlog",
        type=int,
        default=0,
        help="first: this many changes queued with no worker running, then drained by the "
        "workers alone (the refresh's own rate, without writers competing for the CPU)",
    )
    parser.add_argument(
        "--rate", type=float, default=0, help="changes a second, all writers together (0: flat out)"
    )
    parser.add_argument("--skip-nightly", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="run on the set built before")
    parser.add_argument("--db-name", default=DATABASE)
    parser.add_argument(
        "--old-tree", type=Path, help="a checkout whose nightly refresh to time for comparison"
    )
    args = parser.parse_args()
    config, raw_url = bench_config(args.reuse, args.db_name)
    app = create_app(config)
    lines = [f"figures writes benchmark · postgresql · {args.scale} · {time.ctime()}"]

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    with app.app_context():
        upgrade(revision="heads")
        db.session.remove()
        if not args.reuse:
            started = time.perf_counter()
            writer = dashboards_bench.Writer("postgresql", raw_url)
            built = dashboards_bench.build(writer, args.scale, random.Random(20261201))
            say(f"data set built in {time.perf_counter() - started:.0f} s: " + ", ".join(
                f"{table} {count:,}" for table, count in built["counts"].items()))  # fmt: skip
            first = run_nightly(config, ROOT)
            say(f"figures computed (nightly refresh, from empty): {first['rows']:,} rows of "
                f"{len(first['years'])} years in {first['seconds']:.1f} s")  # fmt: skip
        with UNSCOPED_BYPASS("the benchmark picks associations to change"):
            tree = db.session.execute(select(Association.id, Association.path, Association.kind))
            targets = [(i, path) for i, path, kind in tree if kind.is_grassroots]
            root = db.session.scalar(select(Association.id).where(Association.parent_id.is_(None)))
        db.session.remove()
        db.engine.dispose()
    say(f"{len(targets):,} grassroots associations changed at random")

    context = multiprocessing.get_context("spawn")
    done = context.Queue()

    def writes_and_drains(
        writers: int, workers: int, seconds: float, per_commit=1, during=None, rate=0.0
    ):
        """Writers for `seconds` (or while `during` runs), workers until the queue is empty."""
        stop_writing, stop_draining = context.Event(), context.Event()
        processes = [
            context.Process(target=drain, args=(config, stop_draining, done))
            for _ in range(workers)
        ] + [
            context.Process(
                target=write_changes,
                args=(config, stop_writing, n, targets, per_commit, rate / max(writers, 1), done),
            )
            for n in range(writers)
        ]
        for process in processes:
            process.start()
        time.sleep(8)  # the processes build their app
        samples = []
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            samples.append(queue_state(raw_url))
            time.sleep(1)
        result = during() if during else None
        stop_writing.set()
        drained_after = wait_until_drained(raw_url, 600)
        stop_draining.set()
        reports = [done.get(timeout=120) for _ in processes]
        for process in processes:
            process.join(timeout=60)
        return samples, drained_after, reports, result

    def report_writes(samples, drained_after, reports, seconds) -> None:
        writing = [value for kind, value in reports if kind == "writer"]
        changes = sum(w[0] for w in writing)
        if writing:
            seconds = max(w[2] for w in writing) - min(w[1] for w in writing)
        work = [value for kind, value in reports if kind == "worker"]
        taken = sum(w[0] for w in work)
        batches = sum(w[1] for w in work)
        longest = max((w[2] for w in work), default=0.0)
        held = sorted(h for w in work for h in w[3]) or [0.0]
        spans = [span for w in work for span in w[4]]
        window = max(e for _s, e in spans) - min(s for s, _e in spans) if spans else 0.0
        if changes:
            say(f"  changes written: {changes:,} in {seconds:.0f} s = {changes / seconds:,.0f}/s "
                f"({args.writers} writer processes, {args.per_commit} a commit)")  # fmt: skip
        say(f"  queue rows refreshed: {taken:,} in {batches:,} batches "
            f"({taken / max(batches, 1):.0f} a batch), longest batch {longest:.2f} s; "
            f"{taken / max(window, 0.001):,.0f}/s from the first batch to the last "
            f"({window:.0f} s)")  # fmt: skip
        say(f"  subtree rows' locks held per batch (got the first to commit, less waits): median "
            f"{held[len(held) // 2] * 1000:.0f} ms, longest {held[-1] * 1000:.0f} ms")  # fmt: skip
        if samples:
            ages = [age for _length, age in samples]
            say(f"  queue: length max {max(n for n, _ in samples):,}, age of its oldest row "
                f"max {max(ages):.1f} s, mean {sum(ages) / len(ages):.1f} s; "
                f"empty {drained_after:.1f} s after the last change")  # fmt: skip

    def check(label: str) -> None:
        compared, wrong, raw_wrong = independent_check(raw_url)
        say(f"  {label}: {compared:,} subtree rows compared with SQL summing association_figures "
            f"over each subtree: {wrong} differ; figures rows of {YEAR} differing from the raw "
            f"activities and members: {raw_wrong}")  # fmt: skip
        assert wrong == 0 and raw_wrong == 0, "the stored sums disagree with the independent SQL"

    if args.backlog:
        with psycopg.connect(raw_url, autocommit=True) as connection:
            connection.execute(
                "INSERT INTO figures_queue (association_id, queued_at) "
                "SELECT (%s::integer[])[1 + floor(random() * %s)::integer], now() "
                "FROM generate_series(1, %s)",
                ([i for i, _path in targets], len(targets), args.backlog),
            )
        say(f"backlog: {args.backlog:,} changes in random grassroots associations, "
            f"{args.workers} workers")  # fmt: skip
        _samples, drained_after, reports, _ = writes_and_drains(0, args.workers, 0)
        report_writes([], drained_after, reports, 0)
        check("after the backlog")
    say(f"writes: {args.writers} writers, {args.workers} workers, {args.seconds} s, "
        f"{args.per_commit} change(s) per commit")  # fmt: skip
    samples, drained_after, reports, _ = writes_and_drains(
        args.writers, args.workers, args.seconds, args.per_commit, rate=args.rate
    )
    report_writes(samples, drained_after, reports, args.seconds)
    check("after the writes")

    others = [i for i, _path in targets]
    trees = [("this tree", ROOT)] + ([("old tree", args.old_tree)] if args.old_tree else [])
    trees = [] if args.skip_nightly else trees
    for label, tree in trees:
        stop = context.Event()
        reader = context.Process(target=read_figures, args=(raw_url, root, others, stop, done))
        reader.start()
        # The old nightly runs alone: it deletes a year's figures rows before it locks the
        # subtree rows, the incremental refresh the other way round, and the two deadlock.
        alone = tree != ROOT
        _samples, _drained, reports, nightly = writes_and_drains(
            0 if alone else 1,
            0 if alone else 1,
            0,
            during=lambda tree=tree: run_nightly(config, tree),
        )
        stop.set()
        reports.append(done.get(timeout=60))
        reader.join(timeout=30)
        read_longest = next(value for kind, value in reports if kind == "reader")
        batch_longest = max((value[2] for kind, value in reports if kind == "worker"), default=0)
        say(f"nightly refresh ({label}: {tree}), {len(nightly['years'])} years, "
            f"{nightly['rows']:,} rows: {nightly['seconds']:.1f} s, peak RSS "
            f"{nightly['hwm_mb']:.0f} MB, {nightly['transactions']:,} transactions, the longest "
            f"{nightly['longest']:.2f} s")  # fmt: skip
        meanwhile = (
            "run alone"
            if alone
            else f"longest batch of the incremental refresh (a writer, a worker) "
            f"{batch_longest:.1f} s"
        )
        say(f"  meanwhile: longest dashboard read {read_longest * 1000:.0f} ms; "
            f"{meanwhile}")  # fmt: skip
        check(f"after the nightly refresh ({label})")
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / "figures-writes-postgresql.txt").open("a") as out:
        out.write("\n".join(lines) + "\n\n")


if __name__ == "__main__":
    main()
