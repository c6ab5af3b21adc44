"""The member list of a 10,000-member association on PostgreSQL: its latency, and its throughput
beside a minimal Flask + SQLAlchemy page that renders the same 20 rows of the same table.

    .venv/bin/python bench/list_throughput_bench.py [--rebuild] [--duration 15] [--workers 4]

Builds (or reuses) the database `xiehui_list_bench`: a county, a village, and the association
`b-import` with 10,000 members and 4,000 households (members_bench.py's `insert_registers`),
ANALYZEd. Then two gunicorns with the same settings (sync workers, same count, timeout, access
log) on loopback:
- the app in production mode (`bench/wsgi_bench.py`; sessions in Redis db 14), as the
  row-level-security app role, its secretary signed in: `/a/b-import/members/`;
- `bench/minimal_list_app.py`, as the owner: `/members/`.
Latency: 300 sequential requests per case against the app (pages 1–5, page 400, searches by
name, pinyin initials and phone tail), p50/p95 on the client. Throughput: wrk (Debian's `wrk`),
2 threads, 8 connections, `--duration` seconds, page 1 of each, alternated twice (app with the
minimal page's 20 rows, minimal, app with its default 30 rows; twice); the ratio of the means,
for the same 20 rows (the issue's measure) and for the app's default page. Report:
bench/out/list-throughput.txt.
"""

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_bench import (  # noqa: E402
    OUT,
    ROOT,
    SECRET_KEY,
    build_config,
    database_urls,
    field_key,
)
from members_bench import PASSWORD, percentile  # noqa: E402

NAME = "xiehui_list_bench"
MINIMAL_PAGE_SIZE = 20  # bench/minimal_list_app.py's PAGE_SIZE
PER_PAGE = 30  # app/members/views.py's default
SLUG = "b-import"
MEMBERS = 10_000
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
WRK_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")


def build(pg_url: str, rebuild: bool) -> int:
    """The database, built unless it is there already; returns the big association's id."""
    import random

    from flask_migrate import upgrade
    from members_bench import build_county, create_database, insert_registers
    from sqlalchemy import create_engine, select, text

    app_url, admin_url = database_urls("postgresql", pg_url, NAME)
    if not rebuild:
        try:
            engine = create_engine(admin_url)
            with engine.connect() as connection:
                found = connection.execute(
                    text(
                        "SELECT a.id, count(m.id) FROM associations a JOIN members m "
                        "ON m.association_id = a.id WHERE a.slug = :slug GROUP BY a.id"
                    ),
                    {"slug": SLUG},
                ).first()
            engine.dispose()
            if found and found[1] >= MEMBERS:
                print(f"reusing {NAME} ({found[1]} members in {SLUG})", flush=True)
                _migrate(app_url, admin_url)
                return found[0]
        except Exception:  # noqa: BLE001 - no database yet: build it
            pass

    from app import create_app
    from app.extensions import db
    from tenants.context import UNSCOPED_BYPASS
    from tenants.models import Association

    started = time.perf_counter()
    create_database("postgresql", pg_url, NAME)
    app = create_app(build_config(app_url, admin_url))
    with app.app_context():
        upgrade(revision="heads")
        build_county(random.Random(1), 1, 1)
        with UNSCOPED_BYPASS("benchmark data set"):
            target = db.session.scalar(select(Association.id).where(Association.slug == SLUG))
        insert_registers(
            random.Random(2),
            target,
            900_000,
            members=MEMBERS,
            households=4_000,
            central=400,
            linked_per_central=8,
        )
        db.session.remove()
        db.engine.dispose()
    _migrate(app_url, admin_url)
    print(f"built {NAME} in {time.perf_counter() - started:.0f} s", flush=True)
    return target


def _migrate(app_url: str, admin_url: str) -> None:
    """A kept database gets the migrations added since it was built (indexes, statistics),
    then VACUUM ANALYZE: index-only scans need the visibility map."""
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, text

    from app import create_app
    from app.extensions import db

    app = create_app(build_config(app_url, admin_url))
    with app.app_context():
        upgrade(revision="heads")
        db.session.remove()
        db.engine.dispose()
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()


class Gunicorn:
    """One gunicorn with the settings both pages share."""

    def __init__(self, module: str, port: int, env: dict, workers: int, label: str):
        self.url = f"http://127.0.0.1:{port}"
        OUT.mkdir(parents=True, exist_ok=True)
        self.log = OUT / f"list-throughput-{label}.log"
        access = OUT / f"list-throughput-{label}-access.log"
        access.unlink(missing_ok=True)
        command = [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT),
            "--timeout", "30", "--graceful-timeout", "10", "--error-logfile", "-",
            "--access-logfile", str(access), module,
        ]  # fmt: skip
        self.process = subprocess.Popen(  # noqa: S603 - fixed command
            command, env={**os.environ, **env}, stdout=self.log.open("w"),
            stderr=subprocess.STDOUT, cwd=ROOT,
        )  # fmt: skip

    def wait(self, path: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(self.url + path, timeout=2).status_code < 500:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer: {self.log}")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def sign_in(base: str) -> requests.Session:
    http = requests.Session()
    page = http.get(f"{base}/login", timeout=10).text
    response = http.post(
        f"{base}/login",
        data={
            "csrf_token": CSRF.search(page).group(1),
            "login": "bench.secretary@test.cn",
            "password": PASSWORD,
        },
        headers={"Referer": f"{base}/login"},
        allow_redirects=False,
        timeout=30,
    )
    if response.status_code != 302:
        raise RuntimeError(f"sign-in answered {response.status_code}")
    return http


def latency(http: requests.Session, url: str, params: list[dict], repeat: int) -> tuple:
    timings = []
    for number in range(repeat):
        started = time.perf_counter()
        response = http.get(url, params=params[number % len(params)], timeout=30)
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
    return statistics.median(timings), percentile(timings, 0.95)


def wrk(url: str, seconds: int, cookie: str | None) -> float:
    command = ["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    return float(WRK_RATE.search(output).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    association_id = build(args.pg_url, args.rebuild)
    app_url, admin_url = database_urls("postgresql", args.pg_url, NAME)
    lines = [f"list throughput · PostgreSQL · gunicorn -w {args.workers} · load {os.getloadavg()}"]

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    app_env = {
        "XIEHUI_ENV": "production",
        "SECRET_KEY": SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": field_key(),
        "DATABASE_URL": app_url,
        "DATABASE_ADMIN_URL": admin_url,
        "SESSION_REDIS_URL": "redis://127.0.0.1:6379/14",
        "HUEY_URL": f"sqlite:///{OUT / 'list-throughput-jobs.db'}",
        "NOTIFICATION_BACKEND": "console",
        "SESSION_COOKIE_SECURE": "0",
        "UPLOAD_ROOT": str(OUT / "list-throughput-uploads"),
    }
    minimal_env = {
        "MINIMAL_DATABASE_URL": admin_url,
        "MINIMAL_ASSOCIATION_ID": str(association_id),
    }
    real = Gunicorn("bench.wsgi_bench:app", 8771, app_env, args.workers, "app")
    minimal = Gunicorn("bench.minimal_list_app:app", 8772, minimal_env, args.workers, "minimal")
    try:
        real.wait("/login")
        minimal.wait("/members/")
        http = sign_in(real.url)
        page = f"{real.url}/a/{SLUG}/members/"
        assert "会员" in http.get(page, timeout=30).text or http.get(page).status_code == 200
        say(f"latency over {args.requests} sequential requests each (client side, loopback):")
        for label, params in (
            ("list, pages 1..5", [{"page": p} for p in range(1, 6)]),
            ("list, page 400", [{"page": 400}]),
            ("search by name (张 王 李)", [{"q": "张"}, {"q": "王"}, {"q": "李"}]),
            ("search by initials (zw wf)", [{"q": "zw"}, {"q": "wf"}]),
            ("search by phone tail (0012)", [{"q": "0012"}, {"q": "77"}]),
        ):
            p50, p95 = latency(http, page, params, args.requests)
            say(f"  {label:<30} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")
        cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
        same_rows = f"{page}?per_page={MINIMAL_PAGE_SIZE}"
        rates: dict[str, list[float]] = {"app": [], "minimal": [], "app default": []}
        for _round in range(2):
            rates["app"].append(wrk(same_rows, args.duration, cookie))
            rates["minimal"].append(wrk(f"{minimal.url}/members/", args.duration, None))
            rates["app default"].append(wrk(page, args.duration, cookie))
        minimal_rate = statistics.mean(rates["minimal"])
        say(
            f"throughput (wrk -t2 -c8, {args.duration} s × 2 each, page 1): the minimal page "
            f"{minimal_rate:.0f} req/s {rates['minimal']}"
        )
        for label, key in (
            (f"the app's member list, the same {MINIMAL_PAGE_SIZE} rows", "app"),
            (f"the app's member list, its default {PER_PAGE} rows", "app default"),
        ):
            rate = statistics.mean(rates[key])
            say(f"  {label}: {rate:.0f} req/s {rates[key]}: {100 * rate / minimal_rate:.0f} %")
        say(f"load average after: {os.getloadavg()}")
    finally:
        real.stop()
        minimal.stop()
        (OUT / "list-throughput.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
