"""Background jobs (Huey): SQLite-backed by default, Redis in production, inline in tests.

`@job` turns a function into a task that runs inside an application context, so it can use
the database the same way a request does. `flask jobs worker` runs the consumer.
"""

import functools
import logging
import os
from pathlib import Path

from flask import Flask, current_app, has_app_context
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer

from app.extensions import db


def _make_huey(url: str) -> Huey:
    if url.startswith("redis://"):
        return RedisHuey("xiehui", url=url)
    filename = url.removeprefix("sqlite:///")
    Path(filename).parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("xiehui", filename=filename)


def _default_url() -> str:
    instance = Path(__file__).resolve().parents[2] / "instance"
    return os.environ.get("HUEY_URL", f"sqlite:///{instance / 'jobs.db'}")


huey = _make_huey(_default_url())
_worker_app: Flask | None = None


def job(fn):
    """A background task that runs with an application context (the worker makes its own)."""

    @huey.task(name=fn.__name__)
    @functools.wraps(fn)
    def run(*args, **kwargs):
        if has_app_context():
            return fn(*args, **kwargs)
        with _app_for_worker().app_context():
            return fn(*args, **kwargs)

    return run


# Scheduled jobs by name, so `flask jobs run NAME` (and tests) can run one now.
PERIODIC: dict = {}


def periodic(**schedule):
    """A job the worker runs on a schedule (crontab fields, e.g. minute="0", hour="8").

    The function itself stays directly callable; `flask jobs run NAME` runs it on demand.
    """

    def decorate(fn):
        @huey.periodic_task(crontab(**schedule), name=fn.__name__)
        def scheduled():
            with _app_for_worker().app_context():
                result = fn()
                db.session.commit()  # one commit per job, at the edge, as `flask jobs run`
                return result

        PERIODIC[fn.__name__] = fn
        return fn

    return decorate


def _app_for_worker() -> Flask:
    global _worker_app
    if _worker_app is None:
        from app import create_app  # the worker process builds the app on first use

        _worker_app = create_app()
    return _worker_app


def init_app(app: Flask) -> None:
    # Inline execution in tests and in the local demo, where no worker process runs.
    huey.immediate = bool(app.config["HUEY_IMMEDIATE"])


def run_worker(workers: int = 2) -> None:
    global _worker_app
    _worker_app = current_app._get_current_object()
    huey.immediate = False
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    Consumer(huey, workers=workers, worker_type="thread").run()
