"""Staff who record activities back to back during a drill, and the check that every write the
app acknowledged is stored: used by topology_drill.py and fault_drills.py.

Each activity has a unique title (`drill-<prefix>-<writer>-<number>`); a 303 is an acknowledged
write. After the fault, `lost(...)` looks each acknowledged title up in the database.
"""

import threading
import time
from dataclasses import dataclass

import requests
from load_bench import Run, SimulatedUser
from sqlalchemy import create_engine, text


@dataclass
class Outcome:
    at: float  # sent
    done: float  # answered (or failed)
    status: int | None
    title: str
    acknowledged: bool
    error: str = ""


class SignedInLoop:
    """Simulated users of one kind in the manifest who sign in (through nginx in the topology
    drill) and then repeat `_once` back to back, think time 0.2–0.5 s, each in a thread."""

    kind = "staff"
    first_seed = 0

    def __init__(self, base: str, manifest: dict, count: int):
        chosen = [u for u in manifest["users"] if u["kind"] == self.kind][:count]
        self.run = Run()
        self.users = [
            SimulatedUser(base, user, manifest, self.run, self.first_seed + index, lambda rng: 0.3)
            for index, user in enumerate(chosen)
        ]
        for user in self.users:
            user.http.verify = False  # the drill's self-signed certificate…
            user.http.trust_env = False  # …which REQUESTS_CA_BUNDLE would otherwise override
            # As a browser does: Flask-WTF checks the Referer of HTTPS form posts.
            user.http.headers["Referer"] = f"{base}/"
        self.outcomes: list = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for index, user in enumerate(self.users):
            if not user.sign_in():
                last = [(r.label, r.status, r.error) for r in self.run.records[-3:]]
                raise RuntimeError(f"{user.user['login']} could not sign in: {last}")
            thread = threading.Thread(target=self._loop, args=(index, user), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _loop(self, index: int, user: SimulatedUser) -> None:
        number = 0
        while not self.stop.is_set():
            number += 1
            outcome = self._once(index, number, user)
            with self.lock:
                self.outcomes.append(outcome)
            time.sleep(user.rng.uniform(0.2, 0.5))

    def _once(self, index: int, number: int, user: SimulatedUser):
        raise NotImplementedError

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=40)


class Writers(SignedInLoop):
    """Staff who record activities back to back, each with a unique title; a 303 is an
    acknowledged write."""

    def __init__(self, base: str, manifest: dict, count: int, prefix: str):
        super().__init__(base, manifest, count)
        self.prefix = prefix

    def _once(self, index: int, number: int, user: SimulatedUser) -> Outcome:
        from app.core.clock import china_today

        title = f"drill-{self.prefix}-{index}-{number}"
        data = {
            "csrf_token": user.csrf,
            "title": title,
            "held_on": china_today().isoformat(),
            "type": "publicity",
            "place": "社区广场",
            "organiser": "社区计生协",
            "participant_count": "12",
            "description": "drill",
        }
        at = time.monotonic()
        try:
            response = user.http.post(
                f"{user.base}/a/{user.user['slug']}/activities/new",
                data=data, allow_redirects=False, timeout=30,
            )  # fmt: skip
        except requests.RequestException as error:
            return Outcome(at, time.monotonic(), None, title, False, type(error).__name__)
        status = response.status_code
        return Outcome(at, time.monotonic(), status, title, status == 303)

    def between(self, start: float, end: float) -> list[Outcome]:
        with self.lock:
            return [o for o in self.outcomes if start <= o.at < end]


def titles_in(database_url: str, prefix: str) -> set[str]:
    """The drill's titles stored in the database (connect as the owner: no tenant scope)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return set(
                connection.scalars(
                    text("SELECT title FROM activities WHERE title LIKE :pattern"),
                    {"pattern": f"drill-{prefix}-%"},
                )
            )
    finally:
        engine.dispose()


def describe(outcomes: list[Outcome]) -> str:
    failed = [o for o in outcomes if not o.acknowledged]
    kinds: dict[str, int] = {}
    for outcome in failed:
        key = str(outcome.status) if outcome.status else outcome.error
        kinds[key] = kinds.get(key, 0) + 1
    shown = ", ".join(f"{count}× {kind}" for kind, count in sorted(kinds.items())) or "none"
    return f"{len(outcomes)} writes, {len(failed)} failed ({shown})"
