"""The database's last wall is not the app's to lower (SECURITY.md): a connection of the app
role that sets every setting it can still reads and writes no row of any tenant; only the app,
holding its key, enters a scope, and cross-tenant work goes through that same keyed door."""

import psycopg
import pytest
from flask import current_app
from sqlalchemy import create_engine, func, pool, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app.admin.offboarding import delete_subtree, remaining_rows
from app.admin.services import usage_of
from app.dashboards.definitions import dashboard_years
from app.dashboards.models import AssociationFigures
from app.dashboards.refresh import refresh_figures
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS, Bypass, scope_for, tenant_context
from tenants.models import Association, Membership, TenantMixin
from tenants.rls import scope_key, sync_settings
from tenants.tree import subtree_bounds
from tests.conftest import APP_ROLE, PG_URL
from tests.factories import create_member


@pytest.fixture
def pg(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row-level security exists on PostgreSQL only")


def tenant_tables() -> list[str]:
    return sorted(
        {
            mapper.local_table.name
            for mapper in db.Model.registry.mappers
            if issubclass(mapper.class_, TenantMixin)
        }
    )


def app_role_url() -> str:
    """Straight to the server as the app role (not through a transaction pooler, which would
    hand session-level settings on and change backends between transactions)."""
    database = db.engine.url.database
    url = make_url(PG_URL).set(drivername="postgresql", username=APP_ROLE, password=None)
    return url.set(database=database).render_as_string(hide_password=False)


@pytest.fixture
def attacker(pg, world):
    """A raw connection as the app role, as one SQL injection or a leaked password gives."""
    db.session.commit()
    with psycopg.connect(app_role_url(), autocommit=True) as connection:
        yield connection


def signed_scope(scope) -> tuple[str, str]:
    """A scope the app entered, with its signature, as current_setting() shows them."""
    with tenant_context(scope):
        sync_settings(db.session)
        values = db.session.connection().execute(
            text("SELECT current_setting('app.scope'), current_setting('app.scope_signature')")
        )
        return tuple(values.one())


def counts(connection) -> dict[str, int]:
    return {
        table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in tenant_tables()
    }


def refused(connection, statement: str, params=(), match: str = "") -> None:
    with pytest.raises(psycopg.Error, match=match):
        connection.execute(statement, params)


def test_the_app_role_reads_and_writes_no_tenant_row_whatever_it_sets(attacker, world):
    bypass_claim, bypass_signature = signed_scope(Bypass("captured by the test"))
    db.session.rollback()
    other = world.village_b1.id
    for setting, value in {
        "app.bypass": "on",
        "app.scope_low": "",
        "app.scope_high": "~",
        "app.write_association": str(other),
        "app.scope": bypass_claim,
        "app.scope_signature": bypass_signature,
    }.items():
        attacker.execute("SELECT set_config(%s, %s, false)", (setting, value))

    assert set(counts(attacker).values()) == {0}
    refused(
        attacker,
        "INSERT INTO memberships (association_id, user_id, role, created_at) "
        "VALUES (%s, %s, 'secretary', now())",
        (other, world.secretary_a1.id),
        match="row-level security",
    )
    assert attacker.execute("UPDATE memberships SET role = 'secretary'").rowcount == 0
    assert attacker.execute("DELETE FROM memberships").rowcount == 0

    attacker.execute("SET row_security = off")  # for a role under RLS: an error, not a way out
    refused(attacker, "SELECT count(*) FROM memberships", match="row-level security")
    attacker.execute("RESET row_security")

    owner = attacker.execute(
        "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
    ).fetchone()[0]
    for role in {owner, "postgres"}:
        refused(attacker, f'SET ROLE "{role}"', match="permission denied")
    refused(attacker, "SELECT xiehui_enter_scope('guessed', true, NULL, NULL, NULL)", match="key")
    refused(attacker, "SELECT * FROM xiehui_private.scope_secret", match="permission denied")
    refused(attacker, "SELECT * FROM xiehui_private.app_keys", match="permission denied")
    refused(attacker, "SELECT xiehui_private.scope_signature('on|||')", match="permission denied")
    refused(attacker, "ALTER TABLE memberships NO FORCE ROW LEVEL SECURITY", match="owner")
    refused(attacker, "DROP POLICY tenant_read ON memberships", match="owner")
    refused(
        attacker,
        "CREATE OR REPLACE FUNCTION public.xiehui_scope_bypass() RETURNS boolean "
        "LANGUAGE sql AS 'SELECT true'",
        match="owner|permission denied",
    )
    with UNSCOPED_BYPASS("the test counts what the attacker could not see"):
        assert db.session.scalar(select(func.count()).select_from(Membership)) > 0


def test_a_signature_read_in_one_transaction_opens_nothing_in_the_next(pg, world):
    """Replay on the very connection that entered the scope (same backend, later transaction)."""
    key = str(scope_key(current_app.config))
    with psycopg.connect(app_role_url()) as connection:
        with connection.transaction():
            connection.execute("SELECT xiehui_enter_scope(%s, true, NULL, NULL, NULL)", (key,))
            assert connection.execute("SELECT count(*) FROM memberships").fetchone()[0] > 0
            captured = connection.execute(
                "SELECT current_setting('app.scope'), current_setting('app.scope_signature')"
            ).fetchone()
        with connection.transaction():
            connection.execute(
                "SELECT set_config('app.scope', %s, true), "
                "set_config('app.scope_signature', %s, true)",
                captured,
            )
            assert connection.execute("SELECT count(*) FROM memberships").fetchone()[0] == 0


def test_a_scope_widened_by_hand_inside_the_apps_transaction_reads_nothing(pg, world):
    """An injected statement in a village's request rewrites the scope it was given."""
    db.session.rollback()
    claim, _ = signed_scope(scope_for(world.village_a1, writable=True))
    assert claim.split("|")[0] == "off"
    connection = db.session.connection()
    seen = connection.execute(text("SELECT DISTINCT association_id FROM memberships")).scalars()
    assert set(seen) == {world.village_a1.id}
    connection.execute(text("SELECT set_config('app.scope', :c, true)"), {"c": "on|||"})
    assert connection.execute(text("SELECT count(*) FROM memberships")).scalar() == 0
    db.session.rollback()


def test_the_apps_key_never_appears_in_what_other_connections_see(attacker, world):
    """The key travels as a bound parameter: pg_stat_activity shows `$1`, not its value."""
    db.session.rollback()
    signed_scope(scope_for(world.village_a1, writable=False))
    pid = db.session.connection().execute(text("SELECT pg_backend_pid()")).scalar()
    shown = attacker.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", (pid,))
    everything = " ".join(row[0] for row in shown)
    assert scope_key(current_app.config) not in everything
    db.session.rollback()


def test_cross_tenant_work_still_runs_as_the_app_role(pg, world):
    """The figures job, the platform console's usage figures and offboarding go through the
    app's keyed bypass, in the caller's own transaction."""
    create_member(world.village_a1, "成员甲")
    create_member(world.village_b1, "成员乙")
    db.session.commit()

    refresh_figures(dashboard_years()[-1])
    db.session.commit()
    with UNSCOPED_BYPASS("the test reads every association's figures"):
        figured = set(db.session.scalars(select(AssociationFigures.association_id)))
        associations = set(db.session.scalars(select(Association.id)))
    assert figured == associations

    usage = usage_of([world.province])[world.province.id]
    assert usage.associations == len(associations)
    assert usage.users > 1

    township_b_ids = [world.township_b.id, world.village_b1.id]
    delete_subtree(world.township_b)
    db.session.commit()
    assert set(remaining_rows(township_b_ids).values()) == {0}
    with UNSCOPED_BYPASS("the rest of the tree is untouched"):
        assert db.session.get(Association, world.village_a1.id) is not None


def test_a_new_key_enters_no_scope_until_the_owner_installs_it(pg, app, world):
    village = scope_for(world.village_a1, writable=False)
    app.config["RLS_SCOPE_KEY"] = "a-rotated-key-nobody-installed-yet-0123456789"
    db.session.rollback()
    try:
        with tenant_context(village):
            with pytest.raises(DBAPIError, match="row-level security key") as refusal:
                db.session.scalars(select(Membership)).all()
            assert app.config["RLS_SCOPE_KEY"] not in str(refusal.value)  # errors are logged
            db.session.rollback()

            result = app.test_cli_runner().invoke(args=["rls", "install-key"])
            assert result.exit_code == 0, result.output
            assert "2 key(s)" in result.output
            assert db.session.scalars(select(Membership)).all()
    finally:
        db.session.rollback()
        admin = create_engine(app.config["DATABASE_ADMIN_URL"], poolclass=pool.NullPool)
        with admin.begin() as connection:
            connection.execute(
                text("DELETE FROM xiehui_private.app_keys WHERE key_hash = sha256(:k)"),
                {"k": app.config["RLS_SCOPE_KEY"].encode()},
            )
        admin.dispose()


def test_rolling_back_to_a_savepoint_does_not_bring_a_bypass_back(pg, world):
    """An injected ROLLBACK TO SAVEPOINT after the app narrowed a bypass to a village."""
    key = str(scope_key(current_app.config))
    village = subtree_bounds(world.village_a1.path)
    with psycopg.connect(app_role_url()) as connection, connection.transaction():
        connection.execute("SELECT xiehui_enter_scope(%s, true, NULL, NULL, NULL)", (key,))
        connection.execute("SAVEPOINT before_the_village")
        connection.execute("SELECT xiehui_enter_scope(%s, false, %s, %s, NULL)", (key, *village))
        connection.execute("ROLLBACK TO SAVEPOINT before_the_village")
        assert connection.execute("SELECT count(*) FROM memberships").fetchone()[0] == 0


def test_the_app_reads_on_after_rolling_back_a_savepoint_of_its_own(pg, world):
    db.session.rollback()
    with tenant_context(scope_for(world.village_a1, writable=True)):
        before = db.session.scalars(select(Membership.id)).all()
        savepoint = db.session.begin_nested()
        with UNSCOPED_BYPASS("the test widens the scope inside the savepoint"):
            assert len(db.session.scalars(select(Membership.id)).all()) > len(before)
        savepoint.rollback()
        assert db.session.scalars(select(Membership.id)).all() == before
    db.session.rollback()


def test_a_read_only_transaction_enters_a_scope_and_reads_its_subtree_only(pg, world):
    """What a hot standby allows: no write at all, not even nextval(). A replica can then serve
    the app's reads behind the same wall."""
    key = str(scope_key(current_app.config))
    village = subtree_bounds(world.village_a1.path)
    read_only = "-c default_transaction_read_only=on"
    with psycopg.connect(app_role_url(), options=read_only) as reader, reader.transaction():
        assert reader.execute("SHOW transaction_read_only").fetchone()[0] == "on"
        reader.execute("SELECT xiehui_enter_scope(%s, false, %s, %s, NULL)", (key, *village))
        reader.execute("SELECT xiehui_enter_scope(%s, false, %s, %s, NULL)", (key, *village))
        seen = reader.execute("SELECT DISTINCT association_id FROM memberships").fetchall()
        assert seen == [(world.village_a1.id,)]


def test_a_read_only_transaction_enters_no_second_scope(pg, world):
    """Without a serial, a wider scope left earlier in the transaction could come back (by
    ROLLBACK TO SAVEPOINT, or replayed from a copy): a read-only transaction has none."""
    key = str(scope_key(current_app.config))
    village = subtree_bounds(world.village_a1.path)
    read_only = "-c default_transaction_read_only=on"
    with (
        psycopg.connect(app_role_url(), options=read_only) as reader,
        reader.transaction(force_rollback=True),
    ):
        reader.execute("SELECT xiehui_enter_scope(%s, true, NULL, NULL, NULL)", (key,))
        assert reader.execute("SELECT count(*) FROM memberships").fetchone()[0] > 1
        refused(
            reader,
            "SELECT xiehui_enter_scope(%s, false, %s, %s, NULL)",
            (key, *village),
            match="enters one scope",
        )


def test_a_read_only_claim_opens_nothing_once_the_transaction_writes(pg, world):
    """A claim made without a serial, copied into a read-write transaction, reads nothing."""
    key = str(scope_key(current_app.config))
    with psycopg.connect(app_role_url()) as connection:
        with connection.transaction():
            connection.execute("SET TRANSACTION READ ONLY")
            connection.execute("SELECT xiehui_enter_scope(%s, true, NULL, NULL, NULL)", (key,))
            claim = connection.execute("SELECT current_setting('app.scope')").fetchone()[0]
            assert claim.endswith("|read-only")
        with connection.transaction():
            connection.execute("SELECT xiehui_enter_scope(%s, false, NULL, NULL, NULL)", (key,))
            connection.execute("SELECT set_config('app.scope', %s, true)", (claim,))
            assert connection.execute("SELECT count(*) FROM memberships").fetchone()[0] == 0


def test_a_subtree_scope_reads_every_level_below_and_nothing_beside(pg, world):
    """The policy's two ways in: the scope's own association without a lookup, every other
    row through its association's path (the township reads its villages, not village B's)."""
    key = str(scope_key(current_app.config))
    township = subtree_bounds(world.township_a.path)
    with psycopg.connect(app_role_url()) as connection, connection.transaction():
        connection.execute("SELECT xiehui_enter_scope(%s, false, %s, %s, NULL)", (key, *township))
        seen = {
            row[0] for row in connection.execute("SELECT DISTINCT association_id FROM memberships")
        }
    with UNSCOPED_BYPASS("the test lists what the township should see"):
        expected = set(
            db.session.scalars(
                select(Membership.association_id)
                .join(Association)
                .where(Association.path.startswith(world.township_a.path))
            )
        )
    assert world.township_a.id in expected and world.village_a1.id in expected
    assert world.village_b1.id not in expected
    assert seen == expected


def test_the_policy_reads_the_tenant_rows_association_id(pg):
    """READ_RULE names `association_id` inside a subquery on `associations`: if that table
    ever had such a column, the name would bind to it and the policy would compare the wrong
    thing."""
    columns = db.session.scalars(
        text(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'associations' AND table_schema = current_schema()"
        )
    ).all()
    assert "path" in columns and "association_id" not in columns
