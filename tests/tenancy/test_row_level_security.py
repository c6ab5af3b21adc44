"""PostgreSQL row-level security, the wall under the ORM: raw SQL as the app role sees nothing
of a tenant table unless the transaction's tenant settings allow it."""

import pytest
from sqlalchemy import text

from app.extensions import db
from tenants.context import scope_for, tenant_context
from tenants.rls import sync_settings


@pytest.fixture
def pg(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row-level security exists on PostgreSQL only")


def test_the_app_role_owns_no_tables_and_cannot_bypass_rls(pg, world):
    role = db.session.execute(
        text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    ).one()
    assert tuple(role) == (False, False)
    owned = db.session.scalar(
        text(
            "SELECT count(*) FROM pg_tables "
            "WHERE schemaname = 'public' AND tableowner = current_user"
        )
    )
    assert owned == 0


def test_every_tenant_table_forces_row_level_security(pg, world):
    from tenants.models import TenantMixin

    tenant_tables = {
        mapper.local_table.name
        for mapper in db.Model.registry.mappers
        if issubclass(mapper.class_, TenantMixin)
    }
    forced = set(
        db.session.scalars(
            text("SELECT relname FROM pg_class WHERE relrowsecurity AND relforcerowsecurity")
        )
    )
    assert tenant_tables <= forced, tenant_tables - forced


def test_raw_sql_with_no_tenant_set_returns_no_rows(pg, world):
    db.session.rollback()
    assert db.session.scalar(text("SELECT count(*) FROM memberships")) == 0


def test_raw_sql_sees_only_the_current_subtree(pg, world):
    db.session.rollback()
    with tenant_context(scope_for(world.township_a, writable=False)):
        sync_settings(db.session)
        seen = set(db.session.scalars(text("SELECT DISTINCT association_id FROM memberships")))
    assert seen == {world.township_a.id, world.village_a1.id, world.village_a2.id}


def test_raw_insert_into_another_association_is_refused(pg, world):
    db.session.rollback()
    with tenant_context(scope_for(world.village_a1, writable=True)):
        sync_settings(db.session)
        with pytest.raises(Exception, match="row-level security"):
            db.session.execute(
                text(
                    "INSERT INTO memberships (association_id, user_id, role, created_at) "
                    "VALUES (:a, :u, 'member', now())"
                ),
                {"a": world.village_b1.id, "u": world.secretary_a1.id},
            )
    db.session.rollback()


def test_the_audit_log_cannot_be_rewritten_by_the_app(pg, world):
    db.session.rollback()
    with pytest.raises(Exception, match="permission denied"):
        db.session.execute(text("DELETE FROM audit_log"))
    db.session.rollback()


def test_two_databases_migrated_at_once_both_get_the_app_role(pg, app):
    """The app role belongs to the server: while one migration's CREATE ROLE is uncommitted,
    another's (a second test worker, a bench) waits for it and must then go on, not fail."""
    import threading

    from sqlalchemy import create_engine

    from tenants.rls import create_app_role_sql

    role = "xiehui_race_check"
    admin = create_engine(app.config["DATABASE_ADMIN_URL"], isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as first, admin.connect() as second:
            first.execute(text(f"DROP ROLE IF EXISTS {role}"))
            first.execute(text("BEGIN"))
            first.execute(text(create_app_role_sql(role)))
            waiter = second.scalar(text("SELECT pg_backend_pid()"))
            failures = []

            def migrate_beside():
                try:
                    second.execute(text(create_app_role_sql(role)))
                except Exception as error:  # noqa: BLE001 - reported below
                    failures.append(error)

            beside = threading.Thread(target=migrate_beside)
            beside.start()
            for _ in range(100):  # until the second CREATE waits on the first's row
                waiting = first.scalar(
                    text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :p"),
                    {"p": waiter},
                )
                if waiting:
                    break
                threading.Event().wait(0.05)
            assert waiting, "the second migration never waited on the first"
            first.execute(text("COMMIT"))
            beside.join(timeout=10)
            assert failures == []
            assert (
                first.scalar(text("SELECT count(*) FROM pg_roles WHERE rolname = :r"), {"r": role})
                == 1
            )
            first.execute(text(f"DROP ROLE {role}"))
    finally:
        admin.dispose()
