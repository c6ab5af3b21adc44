"""Fixtures: an app on a fresh database for each test, for SQLite and (when TEST_DATABASE_URL
is set) PostgreSQL as the row-level-security app role; clients that sign in and send CSRF tokens.

Databases are per xdist worker, so tests run in parallel without sharing state: SQLite restores
the worker's file from a migrated template before each test, PostgreSQL empties the worker's
database. Building an app costs a fifth of a second (mostly compiling the URL map), so each
worker builds one per database and settings and puts it back as new before every test: its
settings, extensions, outbox, rate-limit counters and job results.
"""

import copy
import logging
import os
import re
import secrets
import shutil
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path

import pytest
from flask import Flask
from flask.globals import _cv_app
from flask_migrate import upgrade
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import Engine, make_url

from app import create_app
from app.accounts import session_records
from app.accounts.models import User
from app.accounts.services import holds_staff_role
from app.accounts.session import RECORD_KEY
from app.core import jobs, notifications
from app.extensions import db, limiter
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Association
from tests import factories

TEST_SECRET = "test-secret-key-that-is-long-enough-for-tests"
PG_URL = os.environ.get("TEST_DATABASE_URL")
# A transaction pooler (PgBouncer) in front of PG_URL's server, e.g. postgresql://127.0.0.1:6439
# (.ci/run): the app role connects through it, the owner directly, as in deploy/xiehui.env.
POOLER_URL = os.environ.get("TEST_POOLER_URL")
APP_ROLE = "xiehui_app"
DATABASES = ["sqlite"] + (["postgresql"] if PG_URL else [])
ARTEFACTS = Path(__file__).resolve().parent.parent / "test-artefacts"


def base_config(database_url: str, **overrides) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "NOTIFICATION_BACKEND": "memory",
        "HUEY_IMMEDIATE": True,
        "RATELIMIT_LOGIN": "1000 per minute",
        "SMS_RATE_PER_SECOND": 0,  # no pacing (tests/test_sms.py tests the pacer itself)
        # On for the tests of the figures (tests/dashboards/conftest.py and a few modules).
        "DASHBOARD_LIVE_REFRESH": False,
    }
    config.update(overrides)
    return config


@event.listens_for(Engine, "connect")
def _sqlite_without_waiting_for_the_disk(dbapi_connection, connection_record) -> None:
    # Test databases are thrown away after each test: a commit need not wait for fsync.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.execute("PRAGMA synchronous=OFF")


@pytest.fixture(scope="session")
def worker_name(worker_id: str) -> str:
    return re.sub(r"\W", "_", worker_id)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    app = create_app(base_config(f"sqlite:///{path}"))
    with app.app_context():
        upgrade(revision="heads")
        db.engine.dispose()
    return path


@pytest.fixture(scope="session")
def sqlite_path(tmp_path_factory) -> Path:
    """The worker's database file, restored from the template before each test."""
    return tmp_path_factory.mktemp("database") / "test.db"


def _restore_sqlite(template: Path, path: Path) -> None:
    # The apps' pools are empty here (each test disposes its engine). Unlinking rather than
    # overwriting leaves a connection a failed test may still hold on the old file, not ours.
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    shutil.copyfile(template, path)


def _pg_url_for(database: str, *, user: str | None = None) -> str:
    url = make_url(PG_URL).set(database=database, drivername="postgresql+psycopg")
    if user:
        url = url.set(username=user, password=None)
        if POOLER_URL:
            pooler = make_url(POOLER_URL)
            url = url.set(host=pooler.host, port=pooler.port)
    return url.render_as_string(hide_password=False)


@dataclass
class PgDatabase:
    admin: Engine
    app_url: str
    tables: list[str]
    empty_statement: str


@pytest.fixture(scope="session")
def pg_database(worker_name):
    """A migrated database for this worker, with the statement that empties it."""
    # The pid keeps concurrent test runs on one machine (several checkouts) apart.
    name = f"xiehui_test_{worker_name}_{os.getpid()}"
    server = create_engine(_pg_url_for(make_url(PG_URL).database), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        # A throwaway database need not wait for the disk at every commit.
        connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    admin_url = _pg_url_for(name)
    app = create_app(base_config(_pg_url_for(name, user=APP_ROLE), DATABASE_ADMIN_URL=admin_url))
    with app.app_context():
        upgrade(revision="heads")
        db.engine.dispose()
    admin = create_engine(admin_url)
    with admin.connect() as connection:
        tables = list(
            connection.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version' ORDER BY tablename"
                )
            ).scalars()
        )
    yield PgDatabase(admin, _pg_url_for(name, user=APP_ROLE), tables, _empty_statement(tables))
    admin.dispose()
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


def _empty_statement(tables: list[str]) -> str:
    """One round trip that leaves every table empty and every sequence at its start, as
    `TRUNCATE … RESTART IDENTITY` would: DELETE is far cheaper than TRUNCATE on near-empty
    tables, and as the owner in replica mode it skips the foreign-key triggers, so order
    does not matter."""
    deletes = "".join(f'DELETE FROM "{table}"; ' for table in tables)
    return (
        "DO $$ BEGIN "
        "PERFORM set_config('session_replication_role', 'replica', true); "
        f"{deletes}"
        "PERFORM setval(format('%I.%I', schemaname, sequencename), start_value, false) "
        "FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL; "
        "END $$"
    )


def _empty_pg(database: PgDatabase) -> None:
    with database.admin.begin() as connection:
        connection.execute(text(database.empty_statement))


@pytest.fixture(params=DATABASES)
def database_url(request) -> str:
    if request.param == "sqlite":
        path = request.getfixturevalue("sqlite_path")
        _restore_sqlite(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    database = request.getfixturevalue("pg_database")
    _empty_pg(database)
    return database.app_url


@pytest.fixture
def app_config() -> dict:
    """Override in a test module to change settings for its app."""
    return {}


# Settings the app reads each time it uses them, and that tests set to a value of their own
# (a folder under tmp_path, the fake Stripe's address): an app is reused across these. Any
# other setting a module overrides gets an app of its own, built once per worker.
PER_TEST_SETTINGS = frozenset(
    {
        "UPLOAD_ROOT",
        "MEMBER_IMPORT_DIR",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "STRIPE_API_BASE",
    }
)


@dataclass
class ReusableApp:
    app: Flask
    config: dict
    extensions: dict
    snapshots: dict[str, "DatabaseSnapshot"] = field(default_factory=dict)

    def reset(self, settings: dict) -> Flask:
        """The app as it was built, with this test's settings: what tests change is undone."""
        app = self.app
        app.config.clear()
        app.config.update(copy.deepcopy(self.config))
        app.config.update(settings)
        app.extensions.clear()
        app.extensions.update(self.extensions)  # drops cached storage, field keys …
        notifications.init_app(app)  # an empty outbox
        jobs.init_app(app)  # another test may have built an app that queues jobs
        jobs.huey.flush()  # results of the previous test's jobs (in memory: immediate mode)
        limiter.reset()  # rate-limit counters (in memory)
        return app


_reusable_apps: dict[tuple[str, str], ReusableApp] = {}


def _reusable_app(database_url: str, settings: dict) -> Flask:
    fixed = {k: v for k, v in settings.items() if k not in PER_TEST_SETTINGS}
    key = (database_url, repr(sorted(fixed.items(), key=lambda item: item[0])))
    if key not in _reusable_apps:
        app = create_app(base_config(database_url, **fixed))
        _reusable_apps[key] = ReusableApp(
            app, copy.deepcopy(dict(app.config)), dict(app.extensions)
        )
    return _reusable_apps[key].reset(base_config(database_url, **settings))


@pytest.fixture
def app(request, database_url, app_config, tmp_path):
    """A new app, or this worker's app for these settings put back as new (faster).

    A test that changes the app's set-up (adds a URL rule) is marked `own_app`."""
    if database_url.startswith("postgresql"):
        # Migrations, backups and maintenance run as the owner; the app itself as the app role.
        app_config = {
            "DATABASE_ADMIN_URL": _pg_url_for(make_url(database_url).database),
            **app_config,
        }
    app_config = {"UPLOAD_ROOT": str(tmp_path / "uploads"), **app_config}
    if request.node.get_closest_marker("own_app"):
        app = create_app(base_config(database_url, **app_config))
    else:
        app = _reusable_app(database_url, app_config)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def outbox(app):
    return app.extensions["notifications"].outbox


@pytest.fixture
def sms_notices(app):
    """A reader of the SMS outbox: [(phone, text)] in order. Notices by SMS wait there for the
    outbox job (app/core/notifications.py: notify_person), whatever the time of day."""
    from sqlalchemy import select

    from app.core import crypto
    from app.core.sms_outbox.models import SmsMessage

    def read() -> list[tuple[str, str]]:
        # Columns, not rows, and no commit or rollback: the test's own objects stay loaded.
        rows = db.session.execute(
            select(SmsMessage.phone_encrypted, SmsMessage.text).order_by(SmsMessage.id)
        )
        return [(crypto.decrypt(phone), text) for phone, text in rows]

    return read


def csrf_token_for(client) -> str:
    """The token Flask-WTF would render into a form for this client's session."""
    with client.session_transaction() as session:
        raw = session.setdefault("csrf_token", secrets.token_hex(20))
    app = client.application
    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(raw)


class Client:
    """A thin wrapper over Flask's test client that posts forms with a valid CSRF token.

    Each request runs in an application context of its own, as in production, even though the
    test itself holds one open: otherwise `g` (the signed-in user, the locale, the tenant) and
    the database session would leak from one request, or one client, into the next.
    """

    def __init__(self, flask_client):
        self.raw = flask_client

    def _isolated(self, call, *args, **kwargs):
        token = _cv_app.set(None)
        try:
            return call(*args, **kwargs)
        finally:
            _cv_app.reset(token)

    def get(self, url, **kwargs):
        return self._isolated(self.raw.get, url, **kwargs)

    def post(self, url, data=None, *, csrf: bool = True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", csrf_token_for(self.raw))
        return self._isolated(self.raw.post, url, data=data, **kwargs)

    def login(self, login: str, password: str = factories.PASSWORD, *, next: str | None = None):
        """Sign in through the forms: the password, then (where the user has a second factor)
        the next unused code of factories.TOTP_SECRET."""
        url = f"/login?next={next}" if next else "/login"
        response = self.post(url, {"login": login, "password": password})
        if response.status_code == 302 and response.location.startswith("/login/code"):
            response = self.post("/login/code", {"code": factories.next_code(login)})
        assert response.status_code == 302, f"login as {login} failed: {response.status_code}"
        return response


@pytest.fixture
def client(app) -> Client:
    return Client(app.test_client())


@pytest.fixture
def make_client(app):
    """A client already signed in as `login`.

    The session is written the way a real sign-in leaves it (a session record, its id and the
    user id in the server-side session), skipping the deliberately slow argon2 check: the
    sign-in form itself is tested in tests/accounts/. `make_client()` with no login is
    anonymous.
    """

    def make(login: str | None = None) -> Client:
        client = Client(app.test_client())
        if login:
            sign_in_directly(client, login)
        return client

    return make


@pytest.fixture
def client_for(make_client):
    """Like make_client, with the client switched to English so assertions can quote msgids."""

    def make(login: str | None = None) -> Client:
        client = make_client(login)
        client.post("/locale", {"locale": "en", "next": "/"})
        return client

    return make


def sign_in_directly(client: Client, login: str) -> None:
    with UNSCOPED_BYPASS("test sign-in reads the user's own roles"):
        user = db.session.scalar(
            select(User).where(User.login == login).execution_options(populate_existing=True)
        )
        assert user is not None, f"no user {login}"
        record = session_records.open_record(
            user, staff=holds_staff_role(user.id), ip="127.0.0.1", user_agent="werkzeug test"
        )
        record_id, user_id = record.id, str(user.id)
        # Without expiring the test's objects: reloaded later outside any tenant scope, they
        # would come back empty on PostgreSQL (row-level security), not as the test left them.
        own_session = db.session()
        own_session.expire_on_commit = False
        try:
            own_session.commit()
        finally:
            own_session.expire_on_commit = True
    with client.raw.session_transaction() as session:
        session.update({"_user_id": user_id, "_fresh": True, RECORD_KEY: record_id})


@pytest.fixture
def world(request, app) -> factories.World:
    """tests/factories.build_world(), built once per worker and app, then restored from a copy
    of its rows: building it through the factories costs a sixth of a second per test."""
    if not _database_is_empty():  # a fixture before this one wrote something: keep it
        return factories.build_world()
    return built_once(request, app, "world", factories.build_world, on_empty_database=True)


def built_once(request, app, name: str, build, *, on_empty_database: bool = False):
    """What `build()` returns (a dataclass of ORM objects) and writes, built on the first call
    per worker and app, and on later calls restored from a copy of the database taken then.

    For fixtures that always start from the same database (the empty one, or the world) and
    whose builder has no effect outside the database. Each test gets its own copy."""
    reusable = next((r for r in _reusable_apps.values() if r.app is app), None)
    if reusable is None:  # an `own_app` test
        return build()
    pg = _pg_database_of(request)
    snapshot = reusable.snapshots.get(name)
    if snapshot is None:
        built = build()
        reusable.snapshots[name] = DatabaseSnapshot.take(built, pg)
        return built
    return snapshot.restore(pg, empty_first=not on_empty_database)


def _pg_database_of(request) -> "PgDatabase | None":
    if db.engine.dialect.name != "postgresql":
        return None
    return request.getfixturevalue("pg_database")


def _database_is_empty() -> bool:
    with UNSCOPED_BYPASS("test fixture checks nothing was written before the world"):
        empty = all(
            db.session.scalar(select(model.id).limit(1)) is None for model in (Association, User)
        )
        db.session.commit()
    return empty


@dataclass
class DatabaseSnapshot:
    """A copy of the database's rows and sequences, and the ids of the built objects."""

    kind: type
    ids: dict[str, tuple[type, int]]
    rows: dict[str, bytes] | Path
    sequences: list[tuple[str, int]]

    @classmethod
    def take(cls, built, pg: PgDatabase | None) -> "DatabaseSnapshot":
        ids = {
            member.name: (type(getattr(built, member.name)), getattr(built, member.name).id)
            for member in fields(built)
        }
        db.session.remove()
        if db.engine.dialect.name == "sqlite":
            db.engine.dispose()
            database = Path(db.engine.url.database)
            copy_path = database.with_name(f"snapshot-{secrets.token_hex(4)}.db")
            source, target = sqlite3.connect(database), sqlite3.connect(copy_path)
            source.backup(target)
            source.close()
            target.close()
            return cls(type(built), ids, copy_path, [])
        rows: dict[str, bytes] = {}
        with pg.admin.connect() as connection:
            cursor = connection.connection.dbapi_connection.cursor()
            for table in pg.tables:
                with cursor.copy(f'COPY "{table}" TO STDOUT') as copy:
                    data = b"".join(bytes(chunk) for chunk in copy)
                if data:
                    rows[table] = data
            sequences = cursor.execute(
                "SELECT format('%I.%I', schemaname, sequencename), last_value FROM pg_sequences "
                "WHERE schemaname = 'public' AND last_value IS NOT NULL"
            ).fetchall()
        return cls(type(built), ids, rows, sequences)

    def restore(self, pg: PgDatabase | None, *, empty_first: bool):
        db.session.remove()
        if isinstance(self.rows, Path):
            db.engine.dispose()
            _restore_sqlite(self.rows, Path(db.engine.url.database))
        else:
            with pg.admin.begin() as connection:
                if empty_first:
                    connection.execute(text(pg.empty_statement))
                cursor = connection.connection.dbapi_connection.cursor()
                cursor.execute("SELECT set_config('session_replication_role', 'replica', true)")
                for table, data in self.rows.items():
                    with cursor.copy(f'COPY "{table}" FROM STDIN') as copy:
                        copy.write(data)
                for sequence, value in self.sequences:
                    cursor.execute("SELECT setval(%s, %s)", (sequence, value))
        # Loaded, then expired by the commit: the state the factories leave their objects in.
        with UNSCOPED_BYPASS("test fixture loads the restored objects"):
            objects = {name: db.session.get(model, id_) for name, (model, id_) in self.ids.items()}
            db.session.commit()
        return self.kind(**objects)


@pytest.fixture
def count_queries(app):
    """Counts SQL statements run inside the `with` block (the N+1 guard)."""

    @contextmanager
    def counter():
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            # Entering the tenant scope (tenants/rls.py) is not one of the page's queries, nor
            # the once-a-minute touch of the session record (session_records.TOUCH_INTERVAL),
            # which a slow machine adds between two requests whatever the page.
            skipped = (
                "SELECT SET_CONFIG",
                "SELECT XIEHUI_ENTER_SCOPE",
                "PRAGMA",
                "UPDATE USER_SESSIONS SET LAST_SEEN_AT",
            )
            if not statement.lstrip().upper().startswith(skipped):
                statements.append(statement)

        engine = db.engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return counter


# After the whole run, every log line written by the app is searched for full ID numbers and
# mobile numbers (SECURITY.md: none may ever reach a log). Each xdist worker writes its own file.
LOG_DIR = ARTEFACTS / "logs"
PERSONAL_DATA_PATTERNS = {
    "ID number": re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)"),
    "mobile number": re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"),
}


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "own_app: the test changes the app's set-up, so it gets a new app of its own"
    )
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    worker = getattr(config, "workerinput", {}).get("workerid", "main")
    if worker == "main":
        for old in LOG_DIR.glob("*.log"):
            old.unlink()
    handler = logging.FileHandler(LOG_DIR / f"{worker}.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(min(root.level or logging.INFO, logging.INFO))


def pytest_sessionfinish(session, exitstatus):
    if hasattr(session.config, "workerinput"):
        return
    leaks = []
    for path in sorted(LOG_DIR.glob("*.log")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for what, pattern in PERSONAL_DATA_PATTERNS.items():
                if pattern.search(line):
                    leaks.append(f"{path.name}:{number}: {what}: {line[:200]}")
    if leaks:
        session.config.get_terminal_writer().line(
            "Personal data found in the logs:\n" + "\n".join(leaks[:20]), red=True
        )
        session.exitstatus = 1
