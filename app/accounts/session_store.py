"""Where Flask's session lives: server-side (Flask-Session), the cookie holding only a random id.

SESSION_TYPE="sqlalchemy" (the default) keeps sessions in our database, in the `flask_sessions`
table that migration 0016 creates; SESSION_TYPE="redis" keeps them in Redis at
SESSION_REDIS_URL (production, several workers), with Flask-Session's own Redis backend.

For the database we use Flask-Session's base interface with a storage of our own rather than its
SqlAlchemySessionInterface, which in 0.8 creates its table at start-up (the app role on
PostgreSQL may not, and SQLite would get the table before the migration that makes it), declares
its model anew for every app built in one process (the second fails), and commits the request's
database session in the middle of a request when the session id is renewed at sign-in.
"""

from datetime import timedelta

from flask import Flask, session
from flask_session.base import ServerSideSession, ServerSideSessionInterface
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import OperationalError

from app.accounts.models import StoredSession
from app.core.clock import utcnow
from app.core.errors import REDIS_FAILURES
from app.extensions import db

KEY_PREFIX = "session:"


class DatabaseSession(ServerSideSession):
    """A server-side session that remembers the ids it was stored under before a renewal."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.replaced_sids: list[str] = []


class AnswersWhenUnreadable:
    """For both stores: when the store cannot be read as the session opens (the database is
    restarting, Redis is down), the request answers the translated 503 and the stored session
    is left as it was, so the person is still signed in once the store is back."""

    unreadable_errors: tuple = (OperationalError, *REDIS_FAILURES)

    def open_session(self, app: Flask, request) -> ServerSideSession:
        try:
            return super().open_session(app, request)
        except self.unreadable_errors as error:
            unreadable = self.session_class(sid=request.cookies.get(self.get_cookie_name(app)))
            unreadable.unavailable = error
            return unreadable

    def save_session(self, app: Flask, session: ServerSideSession, response) -> None:
        if getattr(session, "unavailable", None) is not None:
            return  # nothing was read, so nothing may be written over what is stored
        super().save_session(app, session, response)


class AnonymousSessionsExpireSooner:
    """For both stores: a session nobody signed in to (a visitor of the login page or a public
    page, which stores only a CSRF token or a language) is kept ANONYMOUS_SESSION_HOURS, not
    the signed-in limit, so anonymous traffic does not pile up rows for half a day."""

    anonymous_lifetime = timedelta(hours=2)

    def _upsert_session(
        self, session_lifetime: timedelta, session: ServerSideSession, store_id: str
    ) -> None:
        if "_user_id" not in session:
            session_lifetime = min(session_lifetime, self.anonymous_lifetime)
        super()._upsert_session(session_lifetime, session, store_id)


class DatabaseSessionStore(ServerSideSessionInterface):
    """Flask-Session over our `flask_sessions` table, in transactions of its own.

    The store is not part of the request's unit of work: it neither commits nor expires what
    the request (or a test) holds in `db.session`. Nothing is written during the request: a
    renewed id's old row is deleted, and the session saved, in `save_session`, which Flask calls
    after the request's own commit or rollback — on SQLite a write from a second connection
    while the request holds the write lock would wait for it."""

    session_class = DatabaseSession
    ttl = False  # rows past `expires_at` are ignored, and deleted by the nightly job

    def _register_cleanup_app_command(self) -> None:
        """Flask-Session's `session_cleanup` command is replaced by the nightly job
        `delete_expired_sessions` (app/accounts/session_records.py), which also ends the
        expired session records."""

    def regenerate(self, session: DatabaseSession) -> None:
        session.replaced_sids.append(session.sid)
        session.sid = self._generate_sid(self.sid_length)
        session.modified = True

    def save_session(self, app: Flask, session: DatabaseSession, response) -> None:
        for sid in session.replaced_sids:
            self._delete_session(self._get_store_id(sid))
        session.replaced_sids = []
        super().save_session(app, session, response)

    def _retrieve_session_data(self, store_id: str) -> dict | None:
        with db.engine.connect() as connection:
            row = connection.execute(
                select(StoredSession.data).where(
                    StoredSession.session_id == store_id, StoredSession.expires_at > utcnow()
                )
            ).first()
        return self.serializer.decode(row.data) if row is not None else None

    def _delete_session(self, store_id: str) -> None:
        with db.engine.begin() as connection:
            connection.execute(delete(StoredSession).where(StoredSession.session_id == store_id))

    def _upsert_session(
        self, session_lifetime: timedelta, session: DatabaseSession, store_id: str
    ) -> None:
        values = {
            "data": self.serializer.encode(session),
            "expires_at": utcnow() + session_lifetime,
        }
        with db.engine.begin() as connection:
            updated = connection.execute(
                update(StoredSession).where(StoredSession.session_id == store_id).values(values)
            )
            if updated.rowcount == 0:
                connection.execute(insert(StoredSession).values(session_id=store_id, **values))

    def _delete_expired_sessions(self) -> None:
        delete_expired_rows()


class DatabaseSessionInterface(
    AnswersWhenUnreadable, AnonymousSessionsExpireSooner, DatabaseSessionStore
):
    """The database store with the rules both stores share (the mixins come first)."""


def delete_expired_rows() -> int:
    """Delete the stored sessions past their expiry, in the caller's transaction; returns how
    many (the Redis backend expires its keys by itself)."""
    result = db.session.execute(
        delete(StoredSession).where(StoredSession.expires_at <= utcnow()),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


def _redis_sessions(app: Flask, url: str, common: dict) -> ServerSideSessionInterface:
    """Flask-Session's Redis backend (the optional `redis` package: pip install .[redis])."""
    from flask_session.redis import RedisSessionInterface
    from redis import Redis

    class RedisSessions(
        AnswersWhenUnreadable, AnonymousSessionsExpireSooner, RedisSessionInterface
    ):
        def regenerate(self, session: ServerSideSession) -> None:
            # Flask-Session's own skips an emptied session, and a message flashed after logout
            # would then be stored under the old id.
            self._delete_session(self._get_store_id(session.sid))
            session.sid = self._generate_sid(self.sid_length)
            session.modified = True

    return RedisSessions(app, client=Redis.from_url(url), **common)


def _answer_when_the_store_is_unreadable() -> None:
    """Raised here, inside the request, the error reaches the error handlers (the translated
    503 page); raised while Flask opens the session, it would not."""
    unavailable = getattr(session, "unavailable", None)
    if unavailable is not None:
        raise unavailable


def init_app(app: Flask) -> None:
    config = app.config
    # First of all the before-request hooks: the others read the session.
    app.before_request_funcs.setdefault(None, []).insert(0, _answer_when_the_store_is_unreadable)
    # Stored sessions live at most as long as a signed-in session may (the absolute limit).
    config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=config["ABSOLUTE_SESSION_HOURS"])
    common = {
        "key_prefix": KEY_PREFIX,
        "use_signer": False,  # the id is 32 random bytes; signing it adds nothing
        "permanent": config["SESSION_PERMANENT"],
        "sid_length": 32,
        "serialization_format": "msgpack",
    }
    session_type = config["SESSION_TYPE"].lower()
    if session_type == "redis":
        app.session_interface = _redis_sessions(app, config["SESSION_REDIS_URL"], common)
    elif session_type == "sqlalchemy":
        app.session_interface = DatabaseSessionInterface(app, **common)
    else:
        raise RuntimeError(f"SESSION_TYPE must be 'sqlalchemy' or 'redis', not {session_type!r}")
    app.session_interface.anonymous_lifetime = timedelta(hours=config["ANONYMOUS_SESSION_HOURS"])
