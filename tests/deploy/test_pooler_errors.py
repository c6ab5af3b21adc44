"""When the server behind PgBouncer dies (a Patroni failover), PgBouncer reports it in its own
words; the app answers with its translated 503 as for a restarting PostgreSQL, not a 500
(bench/topology_drill.py saw a 500 for "server conn crashed?" before this)."""

import pytest

from app.extensions import db

PGBOUNCER_MESSAGES = [
    "server conn crashed?",
    "pgbouncer cannot connect to server",
    "server login has been failing, try again later (server_login_retry)",
    "query_wait_timeout",
]


@pytest.mark.parametrize("message", PGBOUNCER_MESSAGES)
def test_pgbouncer_losing_its_server_answers_the_translated_503(app, world, monkeypatch, message):
    dialect = db.engine.dialect
    driver_error = dialect.loaded_dbapi.OperationalError

    def failing(*args, **kwargs):
        raise driver_error(message)

    monkeypatch.setattr(dialect, "do_execute", failing)
    monkeypatch.setattr(dialect, "do_execute_no_params", failing)
    # Anonymous: the tenant resolver's first query fails.
    response = app.test_client().get("/a/village-a1/members/")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "数据库正在重启" in response.get_data(as_text=True)
