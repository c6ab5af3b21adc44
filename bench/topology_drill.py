"""Topology drill: the production stack of deploy/ on loopback, broken on purpose under load.

    .venv/bin/python bench/topology_drill.py          # as root; about 5 minutes

Brings up etcd, two Patroni-managed PostgreSQL 15 nodes (synchronous_mode, the timings of
deploy/patroni/), HAProxy (writes to the leader by Patroni's REST check), PgBouncer (transaction
mode), gunicorn (deploy/gunicorn.conf.py) and nginx (deploy/nginx/xiehui.conf itself, TLS), all on
loopback ports under /tmp/xiehui-topology, over the data set of load_bench.py. Simulated staff
then record activities through nginx over TLS, each with a unique title, and the drill notes
every one the app acknowledged (303). The app is given the replica (PgBouncer's pool on
HAProxy's read port) for the pages that can wait. Then:

0. replica reads: auditors reload their dashboards for 20 s; how many pages say they were read
   from the replica, and how many transactions the standby ran meanwhile;
1. failover (with the auditors reloading beside the writers): `kill -9` of the leader's
   Patroni and PostgreSQL mid-load; measured: time until the standby is promoted, until the
   first write succeeds again, the requests that failed meanwhile (status) and after; every
   acknowledged write must be on the new leader;
2. rejoin: the old leader's Patroni is started again and must come back as a replica;
3. PgBouncer killed (`kill -9`) and restarted mid-load: failures and lost writes;
4. Redis (sessions, login limiter, job queue) killed (`kill -9`) and restarted 5 s later:
   what the writers see meanwhile and after (signed out or not), lost writes.

Everything it started is stopped at the end (also on failure) and the folder removed. The
machine's own PostgreSQL (5432) and Redis (6379) are never touched. Output: bench/out/.
"""

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import requests
import urllib3

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from acknowledged import SignedInLoop, Writers, describe, titles_in  # noqa: E402
from load_bench import OUT, SimulatedUser, build_data_set, field_key  # noqa: E402

from tests.deploy.nginx_site import start_site, wait_for_port  # noqa: E402

BASE = Path("/tmp/xiehui-topology")
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PORTS = {
    "etcd": 23790,
    "etcd_peer": 23800,
    "pg1": 15432,
    "pg2": 15433,
    "rest_pg1": 18008,
    "rest_pg2": 18009,
    "write": 15000,
    "read": 15001,
    "pgbouncer": 16432,
    "gunicorn": 18000,
    "redis": 16379,
}
SECRET_KEY = "load-bench-secret-key-0123456789abcdefghijklmnop"  # load_bench.py's
DATABASE = "xiehui_load"
urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)


def say(lines: list[str], line: str) -> None:
    print(line, flush=True)
    lines.append(line)


# --- the processes ----------------------------------------------------------------------------


@dataclass
class Stack:
    processes: dict = field(default_factory=dict)  # name → Popen
    site: object = None

    def start(self, name: str, command: list[str], *, as_postgres: bool = False, env=None):
        log = (BASE / f"{name}.log").open("a")
        if as_postgres:  # setpriv execs (no fork): the Popen pid is Patroni's own
            command = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"] + command
        self.processes[name] = subprocess.Popen(  # noqa: S603 - fixed commands
            command, stdout=log, stderr=subprocess.STDOUT, cwd=BASE, env=env or os.environ
        )
        return self.processes[name]

    def stop_all(self) -> None:
        if self.site:
            self.site.stop()
        for name, process in reversed(list(self.processes.items())):
            if process.poll() is None:
                process.send_signal(signal.SIGINT if name.startswith("pg") else signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for node in ("pg1", "pg2"):  # a postmaster orphaned by kill -9 of its Patroni
            pid = postmaster_pid(node)
            if pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def postmaster_pid(node: str) -> int | None:
    path = BASE / node / "data" / "postmaster.pid"
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def rest(node: str, path: str) -> int:
    try:
        url = f"http://127.0.0.1:{PORTS['rest_' + node]}{path}"
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def answers(port: int) -> bool:
    done = subprocess.run(
        [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d",
         "postgres", "-Atc", "SELECT 1"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return done.stdout.strip() == "1"


def wait_until(check, timeout: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(0.2)
    raise TimeoutError(f"{what}: not within {timeout:.0f} s (logs in {BASE})")


def patroni_config(node: str) -> dict:
    """deploy/patroni/pg1.yml's settings, on loopback ports and trust authentication."""
    return {
        "scope": "xiehui-drill",
        "name": node,
        "restapi": {
            "listen": f"127.0.0.1:{PORTS['rest_' + node]}",
            "connect_address": f"127.0.0.1:{PORTS['rest_' + node]}",
        },
        "etcd3": {"hosts": f"127.0.0.1:{PORTS['etcd']}"},
        "bootstrap": {
            "dcs": {
                "ttl": 20,
                "loop_wait": 5,
                "retry_timeout": 5,
                "maximum_lag_on_failover": 1048576,
                "synchronous_mode": True,
                "synchronous_mode_strict": False,
                "postgresql": {
                    "use_pg_rewind": True,
                    "use_slots": True,
                    "parameters": {
                        "wal_level": "replica",
                        "hot_standby": "on",
                        "wal_log_hints": "on",
                        "synchronous_commit": "on",
                        "max_connections": 100,
                        "max_wal_senders": 10,
                        "max_replication_slots": 10,
                        "shared_buffers": "128MB",
                        "autovacuum": "on",
                    },
                },
            },
            "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}],
            "pg_hba": [
                "local all all trust",
                "host replication replicator 127.0.0.1/32 trust",
                "host all all 127.0.0.1/32 trust",
            ],
        },
        "postgresql": {
            "listen": f"127.0.0.1:{PORTS[node]}",
            "connect_address": f"127.0.0.1:{PORTS[node]}",
            "data_dir": str(BASE / node / "data"),
            "bin_dir": str(PG_BIN),
            "pgpass": str(BASE / node / "pgpass"),
            "parameters": {"unix_socket_directories": str(BASE / node)},
            "authentication": {
                "superuser": {"username": "postgres", "password": "drill"},
                "replication": {"username": "replicator", "password": "drill"},
                "rewind": {"username": "postgres", "password": "drill"},
            },
        },
        "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False},
    }


def haproxy_config() -> str:
    """deploy/haproxy/haproxy.cfg with loopback addresses."""
    text = (ROOT / "deploy" / "haproxy" / "haproxy.cfg").read_text()
    text = re.sub(r"^    log /dev/log local0\n", "", text, flags=re.MULTILINE)
    text = text.replace("127.0.0.1:5000", f"127.0.0.1:{PORTS['write']}")
    text = text.replace("127.0.0.1:5001", f"127.0.0.1:{PORTS['read']}")
    text = text.replace("127.0.0.1:7000", "127.0.0.1:17000")
    for node, address in (("pg1", "10.0.0.11"), ("pg2", "10.0.0.12")):
        text = text.replace(
            f"server {node} {address}:5432 maxconn 100 check port 8008",
            f"server {node} 127.0.0.1:{PORTS[node]} maxconn 100 check port {PORTS['rest_' + node]}",
        )
    assert "10.0.0." not in text
    return text


def pgbouncer_config() -> str:
    return (
        "[databases]\n"
        f"* = host=127.0.0.1 port={PORTS['write']}\n"
        f"{DATABASE}_replica = host=127.0.0.1 port={PORTS['read']} dbname={DATABASE}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {PORTS['pgbouncer']}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {BASE / 'userlist.txt'}\n"
        "pool_mode = transaction\ndefault_pool_size = 20\nmax_client_conn = 500\n"
        "server_reset_query =\nserver_connect_timeout = 5\nserver_login_retry = 1\n"
        "query_wait_timeout = 30\nignore_startup_parameters = extra_float_digits,options\n"
        f"logfile = {BASE / 'pgbouncer-own.log'}\npidfile = {BASE / 'pgbouncer.pid'}\n"
    )


def start_pgbouncer(stack: Stack) -> None:
    stack.start(
        "pgbouncer", ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups",
                      "/usr/sbin/pgbouncer", str(BASE / "pgbouncer.ini")],
    )  # fmt: skip
    wait_for_port(PORTS["pgbouncer"])


def start_redis(stack: Stack) -> None:
    """Append-only file, fsync every second (deploy/redis/xiehui.conf): a crash loses at most
    the last second of sessions and queued jobs."""
    stack.start(
        "redis",
        ["redis-server", "--port", str(PORTS["redis"]), "--bind", "127.0.0.1", "--dir", str(BASE),
         "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""],
        as_postgres=True,
    )  # fmt: skip
    wait_for_port(PORTS["redis"])


def bring_up(stack: Stack, lines: list[str]) -> dict:
    if BASE.exists():
        shutil.rmtree(BASE)
    BASE.mkdir(parents=True)
    for node in ("pg1", "pg2"):
        (BASE / node).mkdir()
        (BASE / f"{node}.yml").write_text(json.dumps(patroni_config(node), indent=1))  # YAML ⊃ JSON
    (BASE / "haproxy.cfg").write_text(haproxy_config())
    (BASE / "userlist.txt").write_text('"postgres" ""\n"xiehui_app" ""\n')
    (BASE / "pgbouncer.ini").write_text(pgbouncer_config())
    subprocess.run(["chown", "-R", "postgres:postgres", str(BASE)], check=True)
    BASE.chmod(0o755)

    started = time.monotonic()
    stack.start(
        "etcd",
        ["etcd", "--name", "drill", "--data-dir", str(BASE / "etcd"),
         "--listen-client-urls", f"http://127.0.0.1:{PORTS['etcd']}",
         "--advertise-client-urls", f"http://127.0.0.1:{PORTS['etcd']}",
         "--listen-peer-urls", f"http://127.0.0.1:{PORTS['etcd_peer']}",
         "--initial-advertise-peer-urls", f"http://127.0.0.1:{PORTS['etcd_peer']}",
         "--initial-cluster", f"drill=http://127.0.0.1:{PORTS['etcd_peer']}"],
        as_postgres=True,
    )  # fmt: skip
    wait_for_port(PORTS["etcd"])
    stack.start("pg1", ["/usr/bin/patroni", str(BASE / "pg1.yml")], as_postgres=True)
    wait_until(lambda: rest("pg1", "/primary") == 200, 90, "pg1 bootstrapped as leader")
    stack.start("pg2", ["/usr/bin/patroni", str(BASE / "pg2.yml")], as_postgres=True)
    wait_until(lambda: rest("pg2", "/sync") == 200, 120, "pg2 is the synchronous standby")
    stack.start("haproxy", ["/usr/sbin/haproxy", "-db", "-f", str(BASE / "haproxy.cfg")])
    # Listening is not enough: HAProxy routes once its check has seen the leader up twice.
    wait_until(lambda: answers(PORTS["write"]), 30, "HAProxy routes to the leader")
    start_pgbouncer(stack)
    start_redis(stack)
    say(lines, f"- stack up in {time.monotonic() - started:.0f} s: etcd, pg1 (leader), "
               "pg2 (synchronous standby), HAProxy, PgBouncer, Redis")  # fmt: skip

    write_url = f"postgresql://postgres@127.0.0.1:{PORTS['write']}/postgres"
    manifest = build_data_set("postgresql", write_url, rebuild=True, name=DATABASE,
                              label="-topology")  # fmt: skip
    env = {
        **os.environ,
        "XIEHUI_ENV": "production",
        "SECRET_KEY": SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": field_key(),
        "DATABASE_URL": f"postgresql+psycopg://xiehui_app@127.0.0.1:{PORTS['pgbouncer']}/{DATABASE}",
        "DATABASE_ADMIN_URL": f"postgresql+psycopg://postgres@127.0.0.1:{PORTS['write']}/{DATABASE}",
        # Dashboards and exports read the replica: PgBouncer's pool on HAProxy's read port.
        "DATABASE_REPLICA_URL": (
            f"postgresql+psycopg://xiehui_app@127.0.0.1:{PORTS['pgbouncer']}/{DATABASE}_replica"
        ),
        "DATABASE_TRANSACTION_POOLER": "1",
        "PROXY_FIX_HOPS": "1",
        # Redis for sessions, the login limiter and the job queue, as deploy/xiehui.env.
        "SESSION_REDIS_URL": f"redis://127.0.0.1:{PORTS['redis']}/1",
        "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{PORTS['redis']}/2",
        "HUEY_URL": f"redis://127.0.0.1:{PORTS['redis']}/0",
        "NOTIFICATION_BACKEND": "console",
        "UPLOAD_ROOT": str(BASE / "uploads"),
        "GUNICORN_BIND": f"127.0.0.1:{PORTS['gunicorn']}",
        "GUNICORN_WORKERS": "4",
    }
    stack.start(
        "gunicorn",
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
         "--chdir", str(ROOT), "wsgi:app"],
        env=env,
    )  # fmt: skip
    wait_for_port(PORTS["gunicorn"], timeout=60)
    stack.site = start_site(BASE / "nginx", f"127.0.0.1:{PORTS['gunicorn']}")
    say(lines, f"- gunicorn (4 sync workers) and nginx (TLS on :{stack.site.https_port}) up")
    return manifest


# --- the load ---------------------------------------------------------------------------------


class Readers(SignedInLoop):
    """Auditors of the higher associations who reload their dashboard back to back; each page
    is read from the replica when it says so. Outcomes: (sent, status, from the replica)."""

    kind = "upper"
    first_seed = 100

    def _once(self, index: int, number: int, user: SimulatedUser) -> tuple:
        at = time.monotonic()
        try:
            response = user.http.get(f"{user.base}/a/{user.user['slug']}/dashboard/", timeout=30)
        except requests.RequestException:
            return (at, None, False)
        return (at, response.status_code, 'data-testid="replica-note"' in response.text)

    def describe(self, start: float = 0.0, end: float = float("inf")) -> str:
        with self.lock:
            shown = [o for o in self.outcomes if start <= o[0] < end]
        ok = [o for o in shown if o[1] == 200]
        failed: dict[str, int] = {}
        for _at, status, _replica in shown:
            if status != 200:
                failed[str(status)] = failed.get(str(status), 0) + 1
        kinds = ", ".join(f"{n}× {k}" for k, n in sorted(failed.items())) or "none"
        from_replica = sum(1 for o in ok if o[2])
        return (
            f"{len(shown)} dashboard loads, {len(ok)} answered ({from_replica} from the replica, "
            f"{len(ok) - from_replica} from the primary), {len(shown) - len(ok)} failed ({kinds})"
        )


def replica_transactions(node: str) -> int:
    """Transactions the node has run (on a hot standby: only the reads sent to it)."""
    found = subprocess.run(
        [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(PORTS[node]), "-U", "postgres", "-d",
         DATABASE, "-Atc",
         f"SELECT xact_commit FROM pg_stat_database WHERE datname = '{DATABASE}'"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(found.stdout.strip() or 0)


def replica_reads(base: str, manifest: dict, lines: list[str]) -> None:
    """Dashboards through nginx, with the writers quiet: does the replica serve them?"""
    standby = "pg2" if rest("pg1", "/primary") == 200 else "pg1"
    before = replica_transactions(standby)
    readers = Readers(base, manifest, 4)
    readers.start()
    time.sleep(20)
    readers.finish()
    after = replica_transactions(standby)
    say(lines, f"- {readers.describe()}; transactions run on the standby {standby} meanwhile: "
               f"{after - before}")  # fmt: skip


def titles_on(port: int, prefix: str) -> set[str]:
    """The drill's titles stored on the node at `port` (acknowledged.titles_in, as the owner)."""
    return titles_in(f"postgresql+psycopg://postgres@127.0.0.1:{port}/{DATABASE}", prefix)


# --- the drills -------------------------------------------------------------------------------


def failover(stack: Stack, writers: Writers, lines: list[str]) -> None:
    time.sleep(15)
    leader = "pg1" if rest("pg1", "/primary") == 200 else "pg2"
    standby = "pg2" if leader == "pg1" else "pg1"
    postmaster = postmaster_pid(leader)
    killed_at = time.monotonic()
    os.kill(stack.processes[leader].pid, signal.SIGKILL)
    if postmaster:
        os.kill(postmaster, signal.SIGKILL)
    say(lines, f"- kill -9 of {leader} (Patroni pid {stack.processes[leader].pid}, "
               f"PostgreSQL pid {postmaster}) under load")  # fmt: skip
    promoted = wait_until(lambda: rest(standby, "/primary") == 200, 90, f"{standby} promoted")
    say(lines, f"- {standby} promoted {promoted:.1f} s after the kill (Patroni ttl 20 s)")

    def first_write_sent_after_the_kill() -> float | None:
        done = [o.done for o in writers.between(killed_at, time.monotonic()) if o.acknowledged]
        return min(done) - killed_at if done else None

    wait_until(lambda: first_write_sent_after_the_kill() is not None, 60, "a write after it")
    recovered = first_write_sent_after_the_kill()
    time.sleep(20)
    now = time.monotonic()
    say(lines, f"- first acknowledged write after the kill: {recovered:.1f} s (failover time)")
    say(lines, f"  before the kill (15 s): {describe(writers.between(killed_at - 15, killed_at))}")
    say(lines, f"  kill → recovery: {describe(writers.between(killed_at, killed_at + recovered))}")
    say(lines, f"  after recovery (20 s): {describe(writers.between(killed_at + recovered, now))}")

    writers.finish()
    acknowledged = {o.title for o in writers.outcomes if o.acknowledged}
    on_new_leader = titles_on(PORTS[standby], writers.prefix)
    lost = acknowledged - on_new_leader
    kept = len(acknowledged & on_new_leader)
    say(lines, f"- acknowledged writes: {len(acknowledged)}; on the new leader {standby}: "
               f"{kept}; lost: {len(lost)} {sorted(lost)[:5]}")  # fmt: skip
    unacknowledged_but_there = len(on_new_leader - acknowledged)
    say(lines, f"  (written but not acknowledged — the client saw an error: "
               f"{unacknowledged_but_there})")  # fmt: skip

    restarted = time.monotonic()
    stack.start(leader, ["/usr/bin/patroni", str(BASE / f"{leader}.yml")], as_postgres=True)
    rejoined = wait_until(lambda: rest(leader, "/replica") == 200, 180, f"{leader} rejoined")
    synchronous = wait_until(lambda: rest(leader, "/sync") == 200, 120, f"{leader} sync again")
    say(lines, f"- old leader {leader} restarted: a replica again after {rejoined:.1f} s, the "
               f"synchronous standby after {rejoined + synchronous:.1f} s "
               f"({time.monotonic() - restarted:.0f} s in all)")  # fmt: skip


def pgbouncer_restart(stack: Stack, writers: Writers, lines: list[str]) -> None:
    time.sleep(10)
    killed_at = time.monotonic()
    stack.processes["pgbouncer"].kill()
    stack.processes["pgbouncer"].wait()
    (BASE / "pgbouncer.pid").unlink(missing_ok=True)
    time.sleep(2)
    start_pgbouncer(stack)
    say(lines, f"- PgBouncer killed with kill -9, restarted after "
               f"{time.monotonic() - killed_at:.1f} s")  # fmt: skip
    time.sleep(20)
    now = time.monotonic()
    ok_after = [o.done for o in writers.between(killed_at, now) if o.acknowledged]
    first = (min(ok_after) - killed_at) if ok_after else float("nan")
    say(lines, f"  first acknowledged write after the kill: {first:.1f} s; "
               f"{describe(writers.between(killed_at, now))}")  # fmt: skip
    writers.finish()
    leader = "pg1" if rest("pg1", "/primary") == 200 else "pg2"
    acknowledged = {o.title for o in writers.outcomes if o.acknowledged}
    on_leader = titles_on(PORTS[leader], writers.prefix)
    lost = acknowledged - on_leader
    say(lines, f"- acknowledged writes: {len(acknowledged)}; lost: {len(lost)}; written but the "
               f"client saw an error: {len(on_leader - acknowledged)}")  # fmt: skip


def redis_crash(stack: Stack, writers: Writers, lines: list[str]) -> None:
    time.sleep(10)
    killed_at = time.monotonic()
    stack.processes["redis"].kill()
    stack.processes["redis"].wait()
    time.sleep(5)
    start_redis(stack)
    back_at = time.monotonic()
    say(lines, f"- Redis killed with kill -9, restarted after {back_at - killed_at:.1f} s "
               "(append-only file, fsync every second)")  # fmt: skip
    time.sleep(20)
    now = time.monotonic()
    say(lines, f"  while down: {describe(writers.between(killed_at, back_at))}")
    say(lines, f"  after the restart (20 s): {describe(writers.between(back_at, now))}")
    writers.finish()
    leader = "pg1" if rest("pg1", "/primary") == 200 else "pg2"
    acknowledged = {o.title for o in writers.outcomes if o.acknowledged}
    on_leader = titles_on(PORTS[leader], writers.prefix)
    lost = acknowledged - on_leader
    say(lines, f"- acknowledged writes: {len(acknowledged)}; lost: {len(lost)}; written but the "
               f"client saw an error: {len(on_leader - acknowledged)}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=8, help="simulated staff writing")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: Patroni and PgBouncer run as the postgres user")
    OUT.mkdir(parents=True, exist_ok=True)
    lines: list[str] = [f"# topology drill, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"]
    stack = Stack()
    try:
        manifest = bring_up(stack, lines)
        base = f"https://127.0.0.1:{stack.site.https_port}"
        say(lines, "## 0. dashboards read from the replica (4 auditors, 20 s)")
        replica_reads(base, manifest, lines)
        say(lines, f"## 1. failover ({args.writers} staff recording activities through nginx)")
        writers = Writers(base, manifest, args.writers, prefix="failover")
        writers.start()
        readers = Readers(base, manifest, 4)
        readers.start()
        failover(stack, writers, lines)
        readers.finish()
        say(lines, f"- auditors reloading their dashboard meanwhile: {readers.describe()}")
        say(lines, "## 2. PgBouncer killed and restarted")
        writers = Writers(base, manifest, args.writers, prefix="pgbouncer")
        writers.start()
        pgbouncer_restart(stack, writers, lines)
        say(lines, "## 3. Redis (sessions, login limiter, job queue) killed and restarted")
        writers = Writers(base, manifest, args.writers, prefix="redis")
        writers.start()
        redis_crash(stack, writers, lines)
    finally:
        stack.stop_all()
        (OUT / "topology-drill.txt").write_text("\n".join(lines) + "\n")
        logs = OUT / "topology-logs"
        shutil.rmtree(logs, ignore_errors=True)
        logs.mkdir()
        for log in [*BASE.glob("*.log"), *BASE.glob("nginx/*.log")]:
            shutil.copy(log, logs / log.name)
        shutil.rmtree(BASE, ignore_errors=True)
        print(f"report: {OUT / 'topology-drill.txt'}; logs: {logs}", flush=True)


if __name__ == "__main__":
    main()
