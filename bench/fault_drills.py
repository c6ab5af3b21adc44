"""Fault drills under load: PostgreSQL restarted, a gunicorn worker killed, the upload disk full.

Each drill starts gunicorn (production mode, 4 workers) on a loopback port over the data set of
`load_bench.py`, runs simulated users with think time, injects the fault and prints which
requests failed and how long the service took to recover. In the PostgreSQL and worker drills,
four staff also record activities back to back (bench/acknowledged.py): afterwards every write
the app acknowledged must be in the database.

    .venv/bin/python bench/fault_drills.py postgres-restart   # needs root: own cluster on :5433
                                          # [--stop-mode immediate (a crash, default) | fast]
    .venv/bin/python bench/fault_drills.py worker-kill [--database postgresql --pg-url ...]
    .venv/bin/python bench/fault_drills.py full-disk          # needs root: a 2 MB tmpfs
    .venv/bin/python bench/fault_drills.py all

The PostgreSQL drill never touches the cluster other people use: it creates a throwaway cluster
(`pg_createcluster 15 drill --port 5433`), restarts that one, and drops it at the end
(`--keep-cluster` keeps it for the next run). Outputs go to bench/out/ (git-ignored).
"""

import argparse
import io
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from acknowledged import Writers, describe, titles_in  # noqa: E402
from load_bench import (  # noqa: E402
    OUT,
    Record,
    SimulatedUser,
    build_data_set,
    database_urls,
    describe_errors,
    server_log_findings,
    simulate,
    start_server,
    summarise,
)

DRILL_CLUSTER = ("15", "drill")
DRILL_PORT = 5433
DRILL_PG_URL = f"postgresql://postgres@127.0.0.1:{DRILL_PORT}/postgres"


def say(lines: list[str], line: str) -> None:
    print(line, flush=True)
    lines.append(line)


def run_with_fault(server, manifest, *, users, duration, ramp, fault, at_seconds):
    """Simulated users for ramp + duration seconds; `fault()` runs `at_seconds` after the
    ramp-up (in its own thread) and returns a list of (label, start, end) monotonic times."""
    marks: list = []
    result: dict = {}

    def load():
        result["run"], result["steady"], result["end"] = simulate(
            server.url, manifest, users=users, duration=duration, ramp=ramp
        )

    loader = threading.Thread(target=load)
    loader.start()
    time.sleep(ramp + at_seconds)
    marks.extend(fault())
    loader.join()
    return result["run"], result["steady"], result["end"], marks


def classify(records: list[Record], start: float, end: float) -> dict:
    """Failed requests around a fault from `start` to `end`: in flight when it began, sent
    while it lasted, and sent after it was over (those should not exist)."""
    failed = [r for r in records if not r.ok]
    return {
        "in_flight": [r for r in failed if r.started < start <= r.ended],
        "during": [r for r in failed if start <= r.started <= end],
        "after": [r for r in failed if r.started > end],
        "before": [r for r in failed if r.ended < start],
    }


def start_writers(server, manifest, label: str, count: int = 4) -> Writers:
    """Staff recording activities beside the simulated users, each write's title kept when the
    app acknowledges it (a 303), so the drill can look for every one afterwards."""
    writers = Writers(server.url, manifest, count, prefix=f"{label}-{int(time.time())}")
    writers.start()
    return writers


def check_acknowledged(lines: list[str], writers: Writers, database_url: str) -> None:
    """Every write the app acknowledged to a client must be in the database."""
    writers.finish()
    acknowledged = {o.title for o in writers.outcomes if o.acknowledged}
    stored = titles_in(database_url, writers.prefix)
    lost = sorted(acknowledged - stored)
    say(lines, f"  writers beside them: {describe(writers.outcomes)}; acknowledged "
               f"{len(acknowledged)}, found in the database {len(acknowledged & stored)}, lost "
               f"{len(lost)} {lost[:5]}; stored although the client saw an error: "
               f"{len(stored - acknowledged)}")  # fmt: skip
    say(lines, f"  every acknowledged write is in the database: {_verdict(not lost)}")


# --- (a) PostgreSQL restarted mid-load --------------------------------------------------------


def _clusters() -> str:
    return subprocess.run(["pg_lsclusters"], capture_output=True, text=True, check=True).stdout


def ensure_drill_cluster() -> None:
    version, name = DRILL_CLUSTER
    if f"{version}  {name} " not in _clusters() and f"{version} {name} " not in _clusters():
        subprocess.run(
            ["pg_createcluster", version, name, "--port", str(DRILL_PORT), "--", "--auth=trust"],
            check=True,
            capture_output=True,
        )
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "start"],
        check=False,
        capture_output=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready = subprocess.run(
            ["pg_isready", "-h", "127.0.0.1", "-p", str(DRILL_PORT)], capture_output=True
        )
        if ready.returncode == 0:
            return
        time.sleep(0.5)
    raise RuntimeError("the drill cluster did not start")


def drop_drill_cluster() -> None:
    version, name = DRILL_CLUSTER
    subprocess.run(["pg_dropcluster", "--stop", version, name], check=False)


def postgres_restart(args) -> list[str]:
    lines: list[str] = []
    ensure_drill_cluster()
    try:
        manifest = build_data_set("postgresql", DRILL_PG_URL, rebuild=args.rebuild, label="-drill")
        server = start_server("postgresql", DRILL_PG_URL, port=args.port, label="-pgrestart")
        writers = start_writers(server, manifest, f"pg-{args.stop_mode}")
        version, name = DRILL_CLUSTER

        def restart():
            began = time.monotonic()
            subprocess.run(
                [
                    "pg_ctlcluster",
                    "--skip-systemctl-redirect",
                    "--mode",
                    args.stop_mode,
                    version,
                    name,
                    "restart",
                ],
                check=True,
                capture_output=True,
            )
            return [("restart", began, time.monotonic())]

        try:
            run, steady, end, marks = run_with_fault(
                server,
                manifest,
                users=args.users,
                duration=args.duration,
                ramp=args.ramp,
                fault=restart,
                at_seconds=args.duration / 3,
            )
        finally:
            writers.finish()
            server.stop()
        _, began, ended = marks[0]
        groups = classify(run.records, began, ended)
        failed = [r for r in run.records if not r.ok]
        last = max((r.ended for r in failed), default=began)
        recovery = max(0.0, last - began)
        body = summarise(run.records, end - steady)
        say(
            lines,
            f"(a) PostgreSQL restarted mid-load · {args.users} users · cluster 15/drill · "
            f"{args.stop_mode} mode",
        )
        say(
            lines,
            f"  restart (pg_ctlcluster restart, {args.stop_mode} mode) took {ended - began:.1f} s; "
            f"{body['requests']} requests in all, {len(failed)} failed:",
        )
        say(
            lines,
            f"    {len(groups['in_flight'])} in flight when it began, {len(groups['during'])} "
            f"sent while the database was down, {len(groups['after'])} sent after it was back, "
            f"{len(groups['before'])} before the restart",
        )
        say(
            lines,
            f"  recovered {recovery:.1f} s after the restart began (last failed request); "
            f"target < 10 s: {'MET' if recovery < 10 and not groups['after'] else 'NOT MET'}",
        )
        for line in describe_errors(run.records):
            say(lines, f"    {line}")
        findings = server_log_findings(server.log_text())
        say(lines, f"  server log: tracebacks × {findings['tracebacks']}")
        check_acknowledged(lines, writers, database_urls("postgresql", DRILL_PG_URL)[1])
    finally:
        if not args.keep_cluster:
            drop_drill_cluster()
    return lines


# --- (b) a gunicorn worker killed with kill -9 ------------------------------------------------


def worker_kill(args) -> list[str]:
    lines: list[str] = []
    pg_url = args.pg_url
    manifest = build_data_set(args.database, pg_url, rebuild=args.rebuild)
    server = start_server(args.database, pg_url, port=args.port, label="-kill")
    writers = start_writers(server, manifest, "kill")
    rng = random.Random(7)

    def kill_workers():
        marks = []
        for _ in range(args.kills):
            # Prefer a worker that is busy (running or waiting on the database) right now, so
            # the drill shows what happens to the request it serves.
            deadline = time.monotonic() + 3
            while True:
                workers = server.worker_pids()
                busy = [pid for pid in workers if _state(pid) in ("R", "D")]
                if busy or time.monotonic() > deadline:
                    break
                time.sleep(0.01)
            victim = rng.choice(busy or workers)
            at = time.monotonic()
            os.kill(victim, signal.SIGKILL)
            marks.append((f"kill -9 {victim}", at, at))
            time.sleep(args.duration / (args.kills + 2))
        return marks

    try:
        run, steady, end, marks = run_with_fault(
            server,
            manifest,
            users=args.users,
            duration=args.duration,
            ramp=args.ramp,
            fault=kill_workers,
            at_seconds=args.duration / (args.kills + 2),
        )
        workers_after = len(server.worker_pids())
    finally:
        writers.finish()
        server.stop()
    steady_records = [r for r in run.records if r.started >= steady]
    failed = [r for r in run.records if not r.ok]  # sign-ins still queued count too
    in_flight = [r for r in failed if any(r.started <= at <= r.ended for _, at, _ in marks)]
    body = summarise(run.records, end - steady)
    say(lines, f"(b) gunicorn worker killed with kill -9 · {args.database} · {args.users} users")
    say(
        lines,
        f"  {len(marks)} kills; {body['requests']} requests ({len(steady_records)} after the "
        f"ramp-up), "
        f"{len(failed)} failed, {len(in_flight)} of them in flight at a kill; "
        f"workers afterwards: {workers_after} (respawned by the master)",
    )
    verdict = "MET" if len(failed) == len(in_flight) and len(failed) <= len(marks) else "NOT MET"
    say(lines, f"  only the killed worker's request fails: {verdict}")
    for line in describe_errors(run.records):
        say(lines, f"    {line}")
    app_url, admin_url = database_urls(args.database, pg_url)
    check_acknowledged(lines, writers, admin_url or app_url)
    return lines


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "?"


# --- (c) a full upload disk -------------------------------------------------------------------


def photo_bytes(seed: int) -> bytes:
    """A phone-photo-like JPEG (noise does not compress: ~0.5 MB after re-encoding)."""
    from PIL import Image

    rng = random.Random(seed)
    image = Image.frombytes("RGB", (1000, 750), rng.randbytes(1000 * 750 * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def full_disk(args) -> list[str]:
    lines: list[str] = []
    mount = OUT / "drill-uploads-tmpfs"
    mount.mkdir(parents=True, exist_ok=True)
    subprocess.run(["umount", str(mount)], check=False, capture_output=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={args.tmpfs_size}", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        raise SystemExit(f"cannot mount a tmpfs ({mounted.stderr.strip()}): run as root")
    try:
        manifest = build_data_set(args.database, args.pg_url, rebuild=args.rebuild)
        server = start_server(
            args.database,
            args.pg_url,
            port=args.port,
            label="-disk",
            extra_env={"UPLOAD_ROOT": str(mount)},
        )
        try:
            lines = _full_disk_steps(args, server, manifest, mount)
        finally:
            server.stop()
    finally:
        subprocess.run(["umount", str(mount)], check=False)
    return lines


def _full_disk_steps(args, server, manifest, mount: Path) -> list[str]:
    from sqlalchemy import create_engine, text

    lines: list[str] = []
    secretary = next(
        u for u in manifest["users"] if u["kind"] == "staff" and u["slug"] == "nanqi-lihua"
    )
    slug = secretary["slug"]
    activity_id = manifest["associations"][slug]["activities"][0]
    readers: dict = {}

    def background_readers():
        readers["run"], readers["steady"], readers["end"] = simulate(
            server.url, manifest, users=args.users, duration=args.duration, ramp=args.ramp
        )

    reader_thread = threading.Thread(target=background_readers)
    reader_thread.start()

    from load_bench import Run

    uploads = Run()
    uploader = SimulatedUser(server.url, secretary, manifest, uploads, 99, lambda rng: 1.0)
    assert uploader.sign_in(), "the secretary could not sign in"
    base = f"/a/{slug}/activities/{activity_id}"
    kept, answers, body = 0, [], ""
    for attempt in range(args.max_uploads):
        started = time.monotonic()
        response = uploader.http.post(
            server.url + f"{base}/photos",
            data={"csrf_token": uploader.csrf},
            files=[("photos", (f"IMG_{attempt:03d}.jpg", photo_bytes(attempt), "image/jpeg"))],
            allow_redirects=False,
            timeout=60,
        )
        answers.append(response.status_code)
        uploads.add(Record(started, time.monotonic(), "upload", response.status_code, True, ""))
        if response.status_code == 303:
            kept += 1
            continue
        body = response.text
        break
    full_status = answers[-1]
    translated = "存储空间已满" in body
    again = uploader.http.post(
        server.url + f"{base}/photos",
        data={"csrf_token": uploader.csrf},
        files=[("photos", ("again.jpg", photo_bytes(999), "image/jpeg"))],
        allow_redirects=False,
        timeout=60,
    ).status_code
    page = uploader.http.get(server.url + base, timeout=30)
    app_url, admin_url = database_urls(args.database, args.pg_url)
    engine = create_engine(admin_url or app_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT s.id, s.storage_key, s.thumbnail_key FROM stored_files s "
                "JOIN activity_photos p ON p.stored_file_id = s.id WHERE p.activity_id = :a"
            ),
            {"a": activity_id},
        ).all()
        orphan_rows = connection.execute(
            text(
                "SELECT count(*) FROM stored_files s WHERE NOT EXISTS "
                "(SELECT 1 FROM activity_photos p WHERE p.stored_file_id = s.id) "
                "AND s.purpose = 'photo'"
            )
        ).scalar()
    engine.dispose()
    on_disk = {str(p.relative_to(mount)) for p in mount.rglob("*") if p.is_file()}
    expected = {key for row in rows for key in (row[1], row[2]) if key}
    partial = [name for name in on_disk if name.endswith(".part") or "/." in f"/{name}"]
    thumbs = [
        uploader.http.get(server.url + f"/a/{slug}/files/{row[0]}/thumbnail", timeout=30)
        for row in rows[:3]
    ]
    # Freeing space (removing a photo) lets uploads work again.
    freed = None
    if rows:
        photo_id = _photo_id_of(page.text)
        if photo_id:
            uploader.http.post(
                server.url + f"/a/{slug}/activities/photos/{photo_id}/delete",
                data={"csrf_token": uploader.csrf},
                allow_redirects=False,
                timeout=30,
            )
            freed = uploader.http.post(
                server.url + f"{base}/photos",
                data={"csrf_token": uploader.csrf},
                files=[("photos", ("after.jpg", photo_bytes(1), "image/jpeg"))],
                allow_redirects=False,
                timeout=60,
            ).status_code
    reader_thread.join()
    reading = summarise(
        [r for r in readers["run"].records if r.started >= readers["steady"]],
        readers["end"] - readers["steady"],
    )
    usage = os.statvfs(mount)
    say(
        lines, f"(c) full upload disk · tmpfs of {args.tmpfs_size} as UPLOAD_ROOT · {args.database}"
    )
    say(
        lines,
        f"  {kept} photos kept, then the upload was answered {full_status} "
        f"(translated message shown: {'yes' if translated else 'NO'}); another try: {again}",
    )
    say(
        lines,
        f"  on disk: {len(on_disk)} files, {len(expected)} expected from the database rows "
        f"({len(rows)} photos + thumbnails); partial files: {len(partial)}; files without a row: "
        f"{len(on_disk - expected)}; rows without a file: {len(expected - on_disk)}; photo rows "
        f"not attached to anything: {orphan_rows}; free space left "
        f"{usage.f_bavail * usage.f_frsize // 1024} KB",
    )
    say(
        lines,
        f"  reads go on: activity page {page.status_code}, thumbnails "
        f"{[t.status_code for t in thumbs]}; {args.users} background users: "
        f"{reading['requests']} requests, {reading['errors']} errors, p95 {reading['p95']:.0f} ms",
    )
    if freed is not None:
        say(lines, f"  after removing one photo, an upload is answered {freed}")
    ok = (
        full_status == 507
        and translated
        and again == 507
        and not partial
        and on_disk == expected
        and page.status_code == 200
        and all(t.status_code == 200 for t in thumbs)
        and reading["errors"] == 0
    )
    say(
        lines,
        f"  uploads fail cleanly, nothing partial is left, reads go on: {_verdict(ok)}",
    )
    for line in describe_errors(readers["run"].records):
        say(lines, f"    {line}")
    return lines


def _verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def _photo_id_of(page: str) -> int | None:
    import re

    match = re.search(r"/activities/photos/(\d+)/delete", page)
    return int(match.group(1)) if match else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("drill", choices=("postgres-restart", "worker-kill", "full-disk", "all"))
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--duration", type=float, default=45.0)
    parser.add_argument("--ramp", type=float, default=60.0)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--tmpfs-size", default="2m")
    parser.add_argument("--max-uploads", type=int, default=40)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--keep-cluster", action="store_true")
    parser.add_argument(
        "--stop-mode",
        choices=("immediate", "fast"),
        default="immediate",
        help="how PostgreSQL is stopped: immediate is a crash (no checkpoint, WAL replayed)",
    )
    args = parser.parse_args()
    drills = {
        "postgres-restart": postgres_restart,
        "worker-kill": worker_kill,
        "full-disk": full_disk,
    }
    chosen = list(drills) if args.drill == "all" else [args.drill]
    lines: list[str] = []
    for name in chosen:
        lines += drills[name](args)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"faults-{args.drill}.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
