"""Load drill: 100 simulated users with think time against gunicorn (several workers).

Builds (or reuses) a demo-sized database — the demo tree and logins (`app.demo`), plus 300
members, 30 activities and 3 upcoming events in each of the 12 grassroots associations and 100
bench users (secretaries, staff, members linked to their member record, township secretaries,
county auditors) — then starts `gunicorn -w 4` in production mode on a loopback port and lets
the users sign in (real form POST with the CSRF token from the page) and browse a realistic
mix for a fixed time. Prints requests, p50/p95/p99 latency, the error rate and whether the
server log shows "database is locked".

    .venv/bin/python bench/load_bench.py --database sqlite
    .venv/bin/python bench/load_bench.py --database postgresql \\
        --pg-url postgresql://postgres@127.0.0.1:5432/postgres   # database xiehui_load

Targets (SECURITY.md, "Load and faults"): p95 < 300 ms, p99 < 1 s, errors < 0.1 %.
Outputs (database, key, server logs, summary) go to bench/out/ (git-ignored).
"""

import argparse
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import requests

from app.core.clock import china_today

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

OUT = ROOT / "bench" / "out"
SECRET_KEY = "load-bench-secret-key-0123456789abcdefghijklmnop"
PASSWORD = "Bench-Password-2026"
# The second factor of the bench's county auditors (required at county level and above).
TOTP_SECRET = "BENCHBENCHBENCHBENCHBENCHBENCH22"
GRASSROOTS = (
    "nanqi-lihua",
    "nanqi-meiyuan",
    "nanqi-hengtai",
    "nanqi-market",
    "nanqi-shuguang",
    "nanqi-qingxi",
    "jinggang-taohua",
    "jinggang-zhaoqiao",
    "jinggang-xiaomiao",
    "jinggang-jinyuan",
    "jinggang-yida",
    "jinggang-park",
)
MEMBERS_EACH, ACTIVITIES_EACH, EVENTS_EACH = 300, 30, 3
SEARCHES = ("王", "李", "张", "刘", "陈", "wf", "zw", "l", "0012", "77", "老党员")
TARGETS = {"p95": 300.0, "p99": 1000.0, "errors": 0.001}


# --- the data set -----------------------------------------------------------------------------


def field_key() -> str:
    """The field-encryption key of the bench database (kept beside it in bench/out/)."""
    from app.core import crypto

    path = OUT / "load-field-key.txt"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        path.write_text(crypto.new_key())
    return path.read_text().strip()


def database_urls(database: str, pg_url: str, name: str = "xiehui_load") -> tuple[str, str | None]:
    """(app URL, owner URL) of the bench database."""
    if database == "sqlite":
        return f"sqlite:///{OUT / 'load-sqlite.db'}", None
    from sqlalchemy.engine import make_url

    base = make_url(pg_url).set(drivername="postgresql+psycopg", database=name)
    app_url = base.set(username="xiehui_app", password=None)
    return app_url.render_as_string(hide_password=False), base.render_as_string(hide_password=False)


def build_config(app_url: str, admin_url: str | None) -> dict:
    config = {
        "SECRET_KEY": SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": app_url,
        "FIELD_ENCRYPTION_KEY": field_key(),
        "HUEY_IMMEDIATE": True,
        "NOTIFICATION_BACKEND": "memory",
    }
    if admin_url:
        config["DATABASE_ADMIN_URL"] = admin_url
    return config


def totp_now() -> str:
    import pyotp

    return pyotp.TOTP(TOTP_SECRET).now()


def manifest_path(database: str, label: str = "") -> Path:
    return OUT / f"load-{database}{label}.json"


def build_data_set(
    database: str, pg_url: str, *, rebuild: bool, name: str = "xiehui_load", label: str = ""
) -> dict:
    """The bench database and its manifest (users, ids to visit); reused when both exist."""
    manifest_file = manifest_path(database, label)
    app_url, admin_url = database_urls(database, pg_url, name)
    if not rebuild and manifest_file.exists() and _database_ready(database, app_url, admin_url):
        print(f"reusing the data set ({manifest_file.name})", flush=True)
        _upgrade(app_url, admin_url)  # the migrations added since it was built
        return json.loads(manifest_file.read_text())

    from flask_migrate import upgrade
    from members_bench import create_database, insert_registers
    from sqlalchemy import select

    from app import create_app
    from app.accounts import second_factor
    from app.accounts.models import User
    from app.accounts.passwords import hash_password
    from app.activities.models import ActivityType
    from app.activities.services import ActivityInput, record_activity
    from app.core.clock import utcnow as events_now
    from app.demo import load_demo_data
    from app.events.services import EventInput, publish_event
    from app.extensions import db
    from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
    from tenants.models import Association, Membership, Role

    started = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    if database == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{OUT / 'load-sqlite.db'}{suffix}").unlink(missing_ok=True)
    else:
        create_database(database, pg_url, name)
    app = create_app(build_config(app_url, admin_url))
    rng = random.Random(20261123)
    manifest: dict = {"users": [], "associations": {}}
    with app.app_context():
        upgrade(revision="heads")
        load_demo_data()
        db.session.commit()
        password_hash = hash_password(PASSWORD)
        by_slug = {a.slug: a for a in db.session.scalars(select(Association))}
        number = 0

        def add_user(slug: str, role: Role) -> User:
            nonlocal number
            user = User(
                login=f"load{number:03d}@bench.xiehui.cn",
                name=f"压测{number:03d}",
                password_hash=password_hash,
            )
            number += 1
            db.session.add(user)
            db.session.flush()
            db.session.add(Membership(association_id=by_slug[slug].id, user_id=user.id, role=role))
            return user

        plan = []
        with UNSCOPED_BYPASS("load bench data set"):
            for slug in GRASSROOTS:
                staff = [add_user(slug, Role.SECRETARY)] + [
                    add_user(slug, Role.STAFF) for _ in range(2)
                ]
                members = [add_user(slug, Role.MEMBER) for _ in range(5)]
                plan.append((slug, staff, members))
            upper = [
                (add_user("nanqi", Role.SECRETARY), "nanqi"),
                (add_user("jinggang", Role.SECRETARY), "jinggang"),
                (add_user("shushan", Role.AUDITOR), "shushan"),
                (add_user("shushan", Role.AUDITOR), "shushan"),
            ]
            db.session.commit()
        serial = 900_000
        today = china_today()
        current = events_now()
        types = list(ActivityType)
        for slug, staff, members in plan:
            association = by_slug[slug]
            serial = insert_registers(
                rng,
                association.id,
                serial,
                members=MEMBERS_EACH,
                households=MEMBERS_EACH // 2,
                central=8,
                linked_per_central=8,
                member_user_ids=tuple(user.id for user in members),
            )
            with tenant_context(scope_for(association, writable=True)):
                activity_ids = [
                    record_activity(
                        ActivityInput(
                            held_on=today - timedelta(days=12 * index + 1),
                            title=f"{types[index % len(types)].value} 活动第{index + 1}期",
                            type=types[index % len(types)],
                            place="社区活动室",
                            organiser=association.name,
                            participant_count=20 + index,
                            description="宣传计生政策，发放资料",
                        ),
                        recorded_by_id=staff[0].id,
                        today=today,
                    ).id
                    for index in range(ACTIVITIES_EACH)
                ]
                event_ids = [
                    publish_event(
                        EventInput(
                            title=f"健康讲座第{index + 1}场",
                            starts_at=current + timedelta(days=7 * (index + 1)),
                            ends_at=current + timedelta(days=7 * (index + 1), hours=2),
                            capacity=200,
                            place="社区活动室",
                        ),
                        association=association,
                        created_by_id=staff[0].id,
                        now=current,
                    ).id
                    for index in range(EVENTS_EACH)
                ]
                db.session.commit()
            with UNSCOPED_BYPASS("load bench manifest"):
                member_ids = db.session.scalars(
                    db.text("SELECT id FROM members WHERE association_id = :a ORDER BY id"),
                    {"a": association.id},
                ).all()
                mine = dict(
                    db.session.execute(
                        db.text(
                            "SELECT user_id, id FROM members WHERE association_id = :a "
                            "AND user_id IS NOT NULL"
                        ),
                        {"a": association.id},
                    ).all()
                )
            manifest["associations"][slug] = {
                "members": member_ids[:: max(1, len(member_ids) // 60)],
                "activities": activity_ids,
                "events": event_ids,
            }
            for user in staff:
                manifest["users"].append({"login": user.login, "slug": slug, "kind": "staff"})
            for user in members:
                manifest["users"].append(
                    {
                        "login": user.login,
                        "slug": slug,
                        "kind": "member",
                        "member_id": mine[user.id],
                    }
                )
        for user, slug in upper:
            children = [s for s in GRASSROOTS if s.startswith(slug)] or list(GRASSROOTS)
            with UNSCOPED_BYPASS("load bench data set"):
                required = second_factor.is_required(user)
                if required:
                    second_factor.enable_with_known_secret(user, TOTP_SECRET)
                db.session.commit()
            manifest["users"].append(
                {
                    "login": user.login,
                    "slug": slug,
                    "kind": "upper",
                    "children": children,
                    "second_factor": required,
                }
            )
        db.session.remove()
        db.engine.dispose()
    manifest_file.write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    print(
        f"built the data set in {time.perf_counter() - started:.0f} s: "
        f"{len(GRASSROOTS)} associations × {MEMBERS_EACH} members, {ACTIVITIES_EACH} activities, "
        f"{EVENTS_EACH} events; {len(manifest['users'])} bench users",
        flush=True,
    )
    return manifest


def _upgrade(app_url: str, admin_url: str | None) -> None:
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db

    app = create_app(build_config(app_url, admin_url))
    with app.app_context():
        upgrade(revision="heads")
        db.session.remove()
        db.engine.dispose()


def _database_ready(database: str, app_url: str, admin_url: str | None) -> bool:
    from sqlalchemy import create_engine, text

    if database == "sqlite" and not (OUT / "load-sqlite.db").exists():
        return False
    try:
        engine = create_engine(admin_url or app_url)
        with engine.connect() as connection:
            found = connection.execute(
                text("SELECT count(*) FROM users WHERE login LIKE 'load%@bench.xiehui.cn'")
            ).scalar()
        engine.dispose()
    except Exception:  # noqa: BLE001 - any failure means: build it again
        return False
    return found == 100


# --- the server -------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    log: Path

    def worker_pids(self) -> list[int]:
        found = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False
        )
        return [int(pid) for pid in found.stdout.split()]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    database: str,
    pg_url: str,
    *,
    workers: int = 4,
    port: int = 8765,
    name: str = "xiehui_load",
    label: str = "",
    extra_env: dict | None = None,
) -> Server:
    """gunicorn in production mode on 127.0.0.1:port; returns once it answers."""
    app_url, admin_url = database_urls(database, pg_url, name)
    log = OUT / f"gunicorn-{database}{label}.log"
    env = {
        **os.environ,
        "XIEHUI_ENV": "production",
        "SECRET_KEY": SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": field_key(),
        "DATABASE_URL": app_url,
        "HUEY_URL": f"sqlite:///{OUT / f'load-jobs-{database}{label}.db'}",
        "NOTIFICATION_BACKEND": "console",
        # Plain HTTP on loopback: in production a TLS proxy sits in front and cookies are Secure.
        "SESSION_COOKIE_SECURE": "0",
        "UPLOAD_ROOT": str(OUT / f"load-uploads-{database}{label}"),
        **(extra_env or {}),
    }
    if admin_url:
        env["DATABASE_ADMIN_URL"] = admin_url
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--chdir",
        str(ROOT),
        "--timeout",
        "30",
        "--graceful-timeout",
        "10",
        "--error-logfile",
        "-",
        "--access-logfile",
        str(OUT / f"access-{database}{label}.log"),
        "--access-logformat",
        '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
        "bench.wsgi_bench:app",
    ]
    (OUT / f"access-{database}{label}.log").unlink(missing_ok=True)  # gunicorn appends
    handle = log.open("w")
    process = subprocess.Popen(  # noqa: S603 - fixed command
        command, env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT
    )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: see {log}\n{server.log_text()[-3000:]}")
        try:
            if requests.get(f"{server.url}/login", timeout=2).status_code == 200:
                # Every worker has imported the app once the master answered; warm a little.
                return server
        except requests.RequestException:
            pass
        time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"gunicorn did not answer within 60 s: see {log}")


# --- the simulated users ----------------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Record:
    started: float  # time.monotonic()
    ended: float
    label: str
    status: int | None  # None: no answer (connection refused, reset, timeout)
    ok: bool
    error: str = ""

    @property
    def ms(self) -> float:
        return (self.ended - self.started) * 1000


@dataclass
class Run:
    records: list[Record] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, record: Record) -> None:
        with self.lock:
            self.records.append(record)


class SimulatedUser:
    def __init__(self, base: str, user: dict, manifest: dict, run: Run, seed: int, think):
        self.base = base
        self.user = user
        self.manifest = manifest
        self.run = run
        self.rng = random.Random(seed)
        self.think = think
        self.http = requests.Session()
        self.csrf = ""

    def request(self, label, method, path, *, expect=(200,), data=None, files=None) -> str | None:
        started = time.monotonic()
        try:
            response = self.http.request(
                method,
                self.base + path,
                data=data,
                files=files,
                allow_redirects=False,
                timeout=30,
            )
        except requests.RequestException as error:
            failed = Record(started, time.monotonic(), label, None, False, type(error).__name__)
            self.run.add(failed)
            return None
        ended = time.monotonic()
        ok = response.status_code in expect
        self.run.add(
            Record(started, ended, label, response.status_code, ok, "" if ok else response.url)
        )
        return response.text if ok else None

    def sign_in(self) -> bool:
        page = self.request("login page", "GET", "/login")
        match = CSRF.search(page or "")
        if not match:
            return False
        data = {"csrf_token": match.group(1), "login": self.user["login"], "password": PASSWORD}
        if self.request("login", "POST", "/login", expect=(302,), data=data) is None:
            return False
        if self.user.get("second_factor"):
            page = self.request("second factor page", "GET", "/login/code")
            match = CSRF.search(page or "")
            code = {"csrf_token": match.group(1) if match else "", "code": totp_now()}
            if (
                self.request("second factor", "POST", "/login/code", expect=(302,), data=code)
                is None
            ):
                return False
        home = self.request("home", "GET", f"/a/{self.user['slug']}/")
        match = CSRF.search(home or "")
        self.csrf = match.group(1) if match else ""
        return home is not None

    def browse_once(self) -> None:
        kind = self.user["kind"]
        slug = self.user["slug"]
        pick = self.rng.random()
        a = f"/a/{slug}"
        if kind == "staff":
            ids = self.manifest["associations"][slug]
            if pick < 0.15:
                self.request("home", "GET", f"{a}/")
            elif pick < 0.35:
                self.request("member list", "GET", f"{a}/members/?page={self.rng.randint(1, 6)}")
            elif pick < 0.50:
                q = self.rng.choice(SEARCHES)
                self.request("member search", "GET", f"{a}/members/?q={q}")
            elif pick < 0.60:
                member = self.rng.choice(ids["members"])
                self.request("member page", "GET", f"{a}/members/{member}")
            elif pick < 0.75:
                year = self.rng.choice(("", "?year=2026", "?year=2025"))
                self.request("activity timeline", "GET", f"{a}/activities/{year}")
            elif pick < 0.82:
                activity = self.rng.choice(ids["activities"])
                self.request("activity page", "GET", f"{a}/activities/{activity}")
            elif pick < 0.92:
                self.request("events list", "GET", f"{a}/events/")
            elif pick < 0.98:
                self.request("households", "GET", f"{a}/households/")
            else:
                self.record_activity(a)
        elif kind == "member":
            events = self.manifest["associations"][slug]["events"]
            if pick < 0.2:
                self.request("home", "GET", f"{a}/")
            elif pick < 0.45:
                self.request("my member page", "GET", f"{a}/members/me")
            elif pick < 0.55:
                self.request("my dues", "GET", f"{a}/dues/my")
            elif pick < 0.8:
                self.request("events list", "GET", f"{a}/events/")
            elif pick < 0.9:
                self.request("event page", "GET", f"{a}/events/{self.rng.choice(events)}")
            else:
                self.toggle_sign_up(a, self.rng.choice(events))
        else:
            child = f"/a/{self.rng.choice(self.user['children'])}"
            if pick < 0.25:
                self.request("home", "GET", f"{a}/")
            elif pick < 0.45 and self.user["slug"] != "shushan":  # the county's are auditors
                self.request("children", "GET", f"{a}/children")
            elif pick < 0.65:
                self.request("dashboard", "GET", f"{a}/dashboard/")
            elif pick < 0.85:
                self.request("child home", "GET", f"{child}/")
            else:
                self.request("child activities", "GET", f"{child}/activities/")

    def toggle_sign_up(self, a: str, event_id: int) -> None:
        """Open the event, then sign up, or cancel the sign-up the page offers to cancel."""
        page = self.request("event page", "GET", f"{a}/events/{event_id}")
        if page is None:
            return
        data = {"csrf_token": self.csrf}
        if f"/events/{event_id}/cancel" in page:
            self.request(
                "event cancel", "POST", f"{a}/events/{event_id}/cancel", expect=(303,), data=data
            )
        else:
            self.request(
                "event sign-up", "POST", f"{a}/events/{event_id}/signup", expect=(303,), data=data
            )

    def record_activity(self, a: str) -> None:
        data = {
            "csrf_token": self.csrf,
            "title": "入户宣传",
            "held_on": china_today().isoformat(),
            "type": "publicity",
            "place": "社区广场",
            "organiser": "社区计生协",
            "participant_count": str(self.rng.randint(5, 60)),
            "description": "发放宣传资料",
        }
        self.request("record activity", "POST", f"{a}/activities/new", expect=(303,), data=data)

    def live(self, start_at: float, stop_at: float, stop: threading.Event) -> None:
        time.sleep(max(0.0, start_at - time.monotonic()))
        while not stop.is_set() and time.monotonic() < stop_at:
            if self.sign_in():
                break
            stop.wait(2)  # signing in failed (e.g. the server was down): try again
        while not stop.is_set() and time.monotonic() < stop_at:
            self.browse_once()
            stop.wait(self.think(self.rng))


def simulate(
    base: str,
    manifest: dict,
    *,
    users: int = 100,
    duration: float = 60.0,
    ramp: float = 60.0,
    think=lambda rng: rng.uniform(2.0, 10.0),
    seed: int = 1,
) -> tuple[Run, float, float]:
    """Run `users` simulated users for `duration` seconds after a ramp-up; returns the records
    and the monotonic times the ramp-up ended and the run ended."""
    run = Run()
    stop = threading.Event()
    people = manifest["users"]
    begin = time.monotonic()
    steady = begin + ramp
    end = steady + duration
    threads = []
    for index in range(users):
        user = SimulatedUser(base, people[index % len(people)], manifest, run, seed + index, think)
        thread = threading.Thread(
            target=user.live, args=(begin + ramp * index / users, end, stop), daemon=True
        )
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(timeout=max(0.0, end - time.monotonic()) + 40)
    stop.set()
    return run, steady, end


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def summarise(records: list[Record], seconds: float) -> dict:
    timings = [r.ms for r in records]
    errors = [r for r in records if not r.ok]
    return {
        "requests": len(records),
        "rate": len(records) / seconds if seconds else 0.0,
        "p50": statistics.median(timings) if timings else float("nan"),
        "p95": percentile(timings, 0.95),
        "p99": percentile(timings, 0.99),
        "max": max(timings, default=float("nan")),
        "errors": len(errors),
        "error_rate": len(errors) / len(records) if records else 0.0,
    }


def describe_errors(records: list[Record], limit: int = 8) -> list[str]:
    counts: dict[str, int] = {}
    for record in records:
        if not record.ok:
            key = f"{record.label}: {record.status or record.error}"
            counts[key] = counts.get(key, 0) + 1
    return [f"{n} × {key}" for key, n in sorted(counts.items(), key=lambda kv: -kv[1])[:limit]]


def server_log_findings(text: str) -> dict:
    return {
        "database is locked": len(re.findall(r"database is locked", text, re.IGNORECASE)),
        "tracebacks": text.count("Traceback (most recent call last)"),
        "worker timeouts": text.count("WORKER TIMEOUT"),
    }


def server_times(access_log: Path) -> list[float]:
    """Milliseconds each request spent in gunicorn (from the access log), client excluded."""
    if not access_log.exists():
        return []
    found = re.findall(r" (\d+)ms$", access_log.read_text(errors="replace"), re.MULTILINE)
    return [float(ms) for ms in found]


def report_lines(
    title: str,
    run: Run,
    steady: float,
    end: float,
    log_text: str,
    access_log: Path | None = None,
    load: tuple[float, float] | None = None,
) -> list[str]:
    steady_records = [r for r in run.records if r.started >= steady and r.started < end]
    logins = [r for r in run.records if r.label == "login"]
    everything = summarise(run.records, end - min((r.started for r in run.records), default=end))
    body = summarise(steady_records, end - steady)
    login = summarise(logins, 1)
    findings = server_log_findings(log_text)
    met = (
        body["p95"] < TARGETS["p95"]
        and body["p99"] < TARGETS["p99"]
        and everything["error_rate"] < TARGETS["errors"]
        and findings["database is locked"] == 0
    )
    lines = [
        title,
        f"  steady state: {body['requests']} requests in {end - steady:.0f} s "
        f"({body['rate']:.1f}/s): p50 {body['p50']:.0f} ms, p95 {body['p95']:.0f} ms, "
        f"p99 {body['p99']:.0f} ms, max {body['max']:.0f} ms",
        f"  sign-ins: {login['requests']} (argon2id): p50 {login['p50']:.0f} ms, "
        f"p95 {login['p95']:.0f} ms",
        f"  all requests (ramp-up included): {everything['requests']}, errors "
        f"{everything['errors']} ({everything['error_rate']:.3%})",
        f"  server log: 'database is locked' × {findings['database is locked']}, "
        f"tracebacks × {findings['tracebacks']}, worker timeouts × {findings['worker timeouts']}",
        f"  targets p95 < 300 ms, p99 < 1 s, errors < 0.1 %, no 'locked': "
        f"{'MET' if met else 'NOT MET'}",
    ]
    server = server_times(access_log) if access_log else []
    if server:
        lines.append(
            f"  time inside gunicorn (access log, all {len(server)} requests): p50 "
            f"{statistics.median(server):.0f} ms, p95 {percentile(server, 0.95):.0f} ms, "
            f"p99 {percentile(server, 0.99):.0f} ms"
        )
    if load:
        lines.append(
            f"  machine load average (2 cores, shared): {load[0]:.1f} before, {load[1]:.1f} after"
        )
    lines += [f"    {line}" for line in describe_errors(run.records)]
    by_label: dict[str, list[float]] = {}
    for record in steady_records:
        by_label.setdefault(record.label, []).append(record.ms)
    for label, timings in sorted(by_label.items()):
        lines.append(
            f"    {label:<18} n={len(timings):<5} p50 {statistics.median(timings):6.0f} ms"
            f"   p95 {percentile(timings, 0.95):6.0f} ms"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds after ramp-up")
    parser.add_argument("--ramp", type=float, default=60.0, help="seconds to sign everyone in")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--think-min", type=float, default=2.0)
    parser.add_argument("--think-max", type=float, default=10.0)
    parser.add_argument("--rebuild", action="store_true", help="build the data set afresh")
    args = parser.parse_args()

    manifest = build_data_set(args.database, args.pg_url, rebuild=args.rebuild)
    load_before = os.getloadavg()[0]
    server = start_server(args.database, args.pg_url, workers=args.workers, port=args.port)
    try:
        run, steady, end = simulate(
            server.url,
            manifest,
            users=args.users,
            duration=args.duration,
            ramp=args.ramp,
            think=lambda rng: rng.uniform(args.think_min, args.think_max),
        )
    finally:
        server.stop()
    title = (
        f"load · {args.database} · gunicorn -w {args.workers} · {args.users} users, think "
        f"{args.think_min:g}–{args.think_max:g} s, {args.duration:.0f} s after a "
        f"{args.ramp:.0f} s ramp-up"
    )
    lines = report_lines(
        title,
        run,
        steady,
        end,
        server.log_text(),
        OUT / f"access-{args.database}.log",
        (load_before, os.getloadavg()[0]),
    )
    print("\n".join(lines), flush=True)
    (OUT / f"load-{args.database}.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
