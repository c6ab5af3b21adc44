"""Reads that can wait go to the replica (app/core/replica.py); the access check, every write
and a user's reads right after their own write stay on the primary.

The "replica" here is the test database itself behind a second engine whose transactions are
READ ONLY, as a hot standby's are: a write that strayed there would fail.
"""

from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy import event, select

from app import create_app
from app.core import replica
from app.core.audit import AuditLog
from app.extensions import db, reading_replica
from tenants.context import UNSCOPED_BYPASS
from tests.conftest import base_config
from tests.dashboards.helpers import YEAR, fill_figures


@pytest.fixture
def app_config(database_url) -> dict:
    if not database_url.startswith("postgresql"):
        pytest.skip("a replica is a PostgreSQL hot standby")
    return {"DATABASE_REPLICA_URL": database_url, "DASHBOARD_LIVE_REFRESH": True}


@pytest.fixture
def figures(app, world):
    fill_figures(world)
    return world


@pytest.fixture(autouse=True)
def _replica_reachable(monkeypatch):
    monkeypatch.setattr(replica, "_unreachable_until", 0.0)


@contextmanager
def statements_by_engine():
    """The statements each engine ran inside the block: {"primary": [...], "replica": [...]}."""
    seen = {"primary": [], "replica": []}
    engines = {"primary": db.engines[None], "replica": db.engines[replica.REPLICA_BIND]}
    listeners = {}
    for name, engine in engines.items():

        def record(conn, cursor, statement, parameters, context, executemany, name=name):
            seen[name].append(statement.lower())

        listeners[name] = record
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for name, engine in engines.items():
            event.remove(engine, "before_cursor_execute", listeners[name])


def dashboard(world) -> str:
    return f"/a/{world.county.slug}/dashboard/?year={YEAR}"


def test_the_dashboard_reads_the_replica_after_the_access_check_on_the_primary(figures, client_for):
    client = client_for(figures.county_auditor.login)
    with statements_by_engine() as seen:
        page = client.get(dashboard(figures)).get_data(as_text=True)
    assert 'data-testid="replica-note"' in page and "Read from a replica, up to date." in page
    assert "Figures as of" in page
    # Who may read the county was decided on the primary (the user's memberships) ...
    assert any("from memberships" in s for s in seen["primary"])
    assert not any("from memberships" in s for s in seen["replica"])
    # ... and the figures were read on the replica, under the county's scope.
    assert any("subtree_figures" in s or "association_figures" in s for s in seen["replica"])
    assert not any("subtree_figures" in s for s in seen["primary"])
    assert any("xiehui_enter_scope" in s for s in seen["replica"])


def test_an_export_reads_the_replica_and_writes_its_audit_row_on_the_primary(figures, client_for):
    client = client_for(figures.county_auditor.login)
    with statements_by_engine() as seen:
        response = client.get(f"/a/{figures.county.slug}/dashboard/export.xlsx?year={YEAR}")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    assert any(s.startswith("insert into audit_log") for s in seen["primary"])
    assert not any(s.startswith("insert") for s in seen["replica"])
    with UNSCOPED_BYPASS("test reads the audit log"):
        actions = db.session.scalars(
            select(AuditLog.action).where(AuditLog.association_id == figures.county.id)
        ).all()
    assert "export" in actions


def test_after_their_own_write_a_user_reads_the_primary(figures, client_for):
    client = client_for(figures.county_auditor.login)
    refreshed = client.post(f"/a/{figures.county.slug}/dashboard/refresh?year={YEAR}")
    assert refreshed.status_code == 303
    with statements_by_engine() as seen:
        page = client.get(dashboard(figures)).get_data(as_text=True)
    assert "Figures as of" in page and 'data-testid="replica-note"' not in page
    assert seen["replica"] == []
    # Another user, who wrote nothing, still reads the replica.
    other = client_for(figures.township_b_auditor.login)
    township = f"/a/{figures.township_b.slug}/dashboard/?year={YEAR}"
    assert 'data-testid="replica-note"' in other.get(township).get_data(as_text=True)


def test_a_replica_too_far_behind_is_not_read(figures, client_for, monkeypatch):
    monkeypatch.setattr(replica, "LAG_SQL", sa.text("SELECT 120"))
    client = client_for(figures.county_auditor.login)
    with statements_by_engine() as seen:
        page = client.get(dashboard(figures)).get_data(as_text=True)
    assert "Figures as of" in page and 'data-testid="replica-note"' not in page
    assert seen["replica"] == ["select 120"]  # the lag, and nothing else


def test_the_page_says_how_far_behind_the_replica_is(figures, client_for, monkeypatch):
    monkeypatch.setattr(replica, "LAG_SQL", sa.text("SELECT 7.4"))
    client = client_for(figures.county_auditor.login)
    page = client.get(dashboard(figures)).get_data(as_text=True)
    assert "Read from a replica, 7 s behind." in page


def test_an_unreachable_replica_is_skipped_for_a_while(figures, client_for, monkeypatch):
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(1)
        raise sa.exc.OperationalError("connect", {}, OSError("connection refused"))

    monkeypatch.setattr(db.engines[replica.REPLICA_BIND], "connect", refuse)
    client = client_for(figures.county_auditor.login)
    for _ in range(3):
        response = client.get(dashboard(figures))
        assert response.status_code == 200
        assert 'data-testid="replica-note"' not in response.get_data(as_text=True)
    assert attempts == [1]  # one failed connect, then the primary without trying again


def test_replica_transactions_are_read_only(app, figures):
    with db.engines[replica.REPLICA_BIND].connect() as connection:
        assert connection.execute(sa.text("SHOW transaction_read_only")).scalar_one() == "on"


def test_a_replica_must_be_postgresql(tmp_path):
    with pytest.raises(RuntimeError, match="PostgreSQL"):
        create_app(
            base_config(
                f"sqlite:///{tmp_path / 'x.db'}",
                DATABASE_REPLICA_URL=f"sqlite:///{tmp_path / 'x.db'}",
            )
        )


def test_a_view_that_changes_scope_reads_each_scope_on_the_replica(app, figures):
    """A read-only transaction enters one scope (tenants/rls.py): a second one starts another
    read-only transaction, and each read sees its own scope's rows, no more."""
    from app.members.models import Member
    from tenants.context import scope_for, subtree_reads, tenant_context

    def members_seen(association) -> int:
        with tenant_context(scope_for(association, writable=False)), subtree_reads():
            return db.session.scalar(select(sa.func.count()).select_from(Member))

    token = reading_replica.set(True)
    try:
        with statements_by_engine() as seen:
            county, township_b, county_again = (
                members_seen(figures.county),
                members_seen(figures.township_b),
                members_seen(figures.county),
            )
    finally:
        reading_replica.reset(token)
    assert seen["primary"] == [] and len(seen["replica"]) >= 3
    assert county == county_again > township_b == 0
