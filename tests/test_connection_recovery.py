"""After PostgreSQL restarts (or drops a connection), the next request gets a live connection
instead of an error: the pool discards a connection the server has dropped before handing it out
(app/core/pool_check.py), without a round trip per checkout."""

import os

import pytest
from sqlalchemy import text

from app.extensions import db


def test_a_pooled_connection_the_server_dropped_is_replaced_before_use(app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server to drop connections")
    if os.environ.get("TEST_POOLER_URL"):
        pytest.skip("behind PgBouncer a client connection has no backend of its own to drop")
    engine = db.engine
    with engine.connect() as other:
        with engine.connect() as doomed:
            pid = doomed.execute(text("SELECT pg_backend_pid()")).scalar()
        # `doomed` is back in the pool; the server now drops it, as a restart drops them all.
        # (waiting up to 5 s for the backend to have gone, as after a restart)
        terminated = other.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        assert terminated.scalar()
    assert engine.pool.checkedin() == 2
    # Both pooled connections are handed out again, the dropped one included: it works.
    with engine.connect() as first, engine.connect() as second:
        pids = {c.execute(text("SELECT pg_backend_pid()")).scalar() for c in (first, second)}
    assert len(pids) == 2 and pid not in pids
