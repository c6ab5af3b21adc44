"""Pooled PostgreSQL connections are checked before use without a round trip.

SQLAlchemy's `pool_pre_ping` sends `SELECT 1` at every checkout: a round trip on every request,
0.6 ms of the member list's 4.9 ms of worker CPU (bench/README.md). A connection the server has
dropped (a restart, `pg_terminate_backend`, an idle timeout) has something to read: the
server's FATAL message, then the end of the stream. So a pooled connection with anything to read
is discarded and the pool opens another (a checkout listener raising DisconnectionError), and
one with nothing to read is used as it is. Behind PgBouncer the app's connections go to the
pooler, which outlives the database's restarts. What this cannot see (a peer gone without
closing, a host powered off) fails the request's first statement, which invalidates the pool,
so the next request connects afresh.
"""

import select

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine


def install(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        event.listen(engine, "checkout", _discard_if_dropped)


def _discard_if_dropped(dbapi_connection, connection_record, connection_proxy) -> None:
    if dbapi_connection.closed:
        raise exc.DisconnectionError("the connection is closed")
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except (OSError, ValueError) as error:
        raise exc.DisconnectionError(str(error)) from error
    if readable:  # an idle connection is told nothing, except that it is being dropped
        raise exc.DisconnectionError("the server dropped the connection")
