"""After PostgreSQL restarts (or drops a connection), the next request gets a live connection
instead of an error: the pool checks each connection before handing it out (pool_pre_ping)."""

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
        assert other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    assert engine.pool.checkedin() == 2
    # Both pooled connections are handed out again, the dropped one included: it works.
    with engine.connect() as first, engine.connect() as second:
        pids = {c.execute(text("SELECT pg_backend_pid()")).scalar() for c in (first, second)}
    assert len(pids) == 2 and pid not in pids
