"""While the database restarts, requests get a translated 503 the browser may retry (rendered
without the database), and the same session works again once it is back."""

import pytest
from sqlalchemy.exc import OperationalError

from app.extensions import db

URL = "/a/village-a1/members/"


def _database_fails(monkeypatch, message: str) -> None:
    """Every statement fails as the driver reports it (wrapped by SQLAlchemy as usual)."""
    dialect = db.engine.dialect
    driver_error = dialect.loaded_dbapi.OperationalError

    def failing(*args, **kwargs):
        raise driver_error(message)

    monkeypatch.setattr(dialect, "do_execute", failing)
    monkeypatch.setattr(dialect, "do_execute_no_params", failing)


@pytest.mark.parametrize(
    "message",
    [
        "terminating connection due to administrator command",
        'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
        "FATAL:  the database system is shutting down",
    ],
)
def test_a_restarting_database_answers_503_and_the_session_survives(
    app, world, make_client, monkeypatch, message
):
    client = make_client(world.secretary_a1.login)
    assert client.get(URL).status_code == 200

    _database_fails(monkeypatch, message)
    response = client.get(URL)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    text = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in text and "数据库正在重启" in text

    monkeypatch.undo()
    assert client.get(URL).status_code == 200  # still signed in: nothing to redo


def test_other_database_errors_are_not_reported_as_a_restart(app, world, make_client, monkeypatch):
    client = make_client(world.secretary_a1.login)
    _database_fails(monkeypatch, "database is locked")
    with pytest.raises(OperationalError):  # the test app propagates it: a logged 500 live
        client.get(URL)
