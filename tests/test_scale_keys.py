"""64-bit keys (revision 0026_scale_keys): the tables that grow with members, activities,
payments and logs count past 2^31, and the migration widens a populated database in place."""

import importlib.util

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from tests.conftest import APP_ROLE, PG_URL, base_config
from tests.factories import create_household, create_member

PAST_32_BITS = 2**31 + 7


@pytest.fixture
def pg(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's INTEGER PRIMARY KEY is 64-bit already")


def _admin(app):
    return create_engine(app.config["DATABASE_ADMIN_URL"])


def test_a_member_past_two_to_the_31_is_registered_listed_and_shown(pg, app, world, make_client):
    admin = _admin(app)
    with admin.begin() as connection:
        for table in ("households", "members"):
            connection.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {PAST_32_BITS})")
            )
    admin.dispose()
    household_id = create_household(world.village_a1, "长寿路8号").id
    member_id = create_member(world.village_a1, "钱多多", household_id=household_id).id
    assert member_id > 2**31 and household_id > 2**31

    client = make_client(world.secretary_a1.login)
    listed = client.get(f"/a/{world.village_a1.slug}/members/")
    assert "钱多多" in listed.text
    shown = client.get(f"/a/{world.village_a1.slug}/members/{member_id}")
    assert shown.status_code == 200
    assert "长寿路8号" in shown.text


def test_the_key_migration_widens_a_populated_database(pg):
    name = "xiehui_test_keys_migration"
    server = create_engine(
        make_url(PG_URL).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin_url = make_url(PG_URL).set(database=name, drivername="postgresql+psycopg")
    admin_url = admin_url.render_as_string(hide_password=False)
    app_url = make_url(admin_url).set(username=APP_ROLE, password=None)
    migrating = create_app(
        base_config(app_url.render_as_string(hide_password=False), DATABASE_ADMIN_URL=admin_url)
    )
    admin = create_engine(admin_url)
    try:
        with migrating.app_context():
            upgrade(revision="0026_scale_rls")
            with admin.begin() as connection:
                connection.execute(
                    text(
                        "INSERT INTO associations (id, name, slug, kind, path, depth, created_at) "
                        "VALUES (1, '幸福村', 'xingfu', 'village', '/1/', 0, now());"
                        "INSERT INTO households (id, association_id, address, is_central, "
                        "created_at) VALUES (5, 1, '幸福路1号', false, now());"
                        "INSERT INTO members (id, association_id, household_id, name, "
                        "name_initials, status, tags_text, created_at) "
                        "VALUES (9, 1, 5, '张三', 'zs', 'active', '', now());"
                        "SELECT setval(pg_get_serial_sequence('members', 'id'), 9)"
                    )
                )
            upgrade(revision="heads")
            with admin.begin() as connection:
                types = dict(
                    connection.execute(
                        text(
                            "SELECT table_name || '.' || column_name, data_type "
                            "FROM information_schema.columns WHERE (table_name, column_name) IN "
                            "(('members', 'id'), ('members', 'household_id'), "
                            "('dues_payment_allocations', 'charge_id'), "
                            "('audit_log', 'target_id'), ('members', 'association_id'))"
                        )
                    ).all()
                )
                kept = connection.execute(text("SELECT id, household_id, name FROM members")).all()
                connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('members', 'id'), {PAST_32_BITS})")
                )
                next_id = connection.execute(
                    text(
                        "INSERT INTO members (association_id, household_id, name, name_initials, "
                        "status, tags_text, created_at) "
                        "VALUES (1, 5, '李四', 'ls', 'active', '', now()) RETURNING id"
                    )
                ).scalar()
            assert types == {
                "members.id": "bigint",
                "members.household_id": "bigint",
                "dues_payment_allocations.charge_id": "bigint",
                "audit_log.target_id": "bigint",
                "members.association_id": "integer",  # associations stay 32-bit
            }
            assert [tuple(row) for row in kept] == [(9, 5, "张三")]
            assert next_id == PAST_32_BITS + 1
            with admin.begin() as connection:  # a downgrade needs the ids to fit again
                connection.execute(text("DELETE FROM members WHERE id > 2147483647"))
                connection.execute(
                    text("SELECT setval(pg_get_serial_sequence('members', 'id'), 9)")
                )
            downgrade(revision="0026_scale_rls")
            with admin.begin() as connection:
                assert (
                    connection.execute(
                        text(
                            "SELECT data_type FROM information_schema.columns "
                            "WHERE table_name = 'members' AND column_name = 'id'"
                        )
                    ).scalar()
                    == "integer"
                )
            db.engine.dispose()
    finally:
        admin.dispose()
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def test_every_column_referring_to_a_growing_table_is_64_bit(pg, app):
    """A new table's migration that refers to members, activities, payments… with a plain
    Integer column would stop at 2^31 there: use BigId in the model and sa.BigInteger in the
    migration."""
    from app import MIGRATIONS_DIR

    spec = importlib.util.spec_from_file_location(
        "scale_keys", MIGRATIONS_DIR / "versions" / "0026_scale_keys.py"
    )
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)
    growing = revision.GROWING_TABLES
    admin = _admin(app)
    with admin.connect() as connection:
        narrow = (
            connection.execute(
                text(
                    "SELECT c.relname || '.' || a.attname FROM pg_constraint k "
                    "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid "
                    "JOIN LATERAL unnest(k.conkey, k.confkey) AS u(own, referred) ON true "
                    "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.own "
                    "JOIN pg_attribute ra ON ra.attrelid = k.confrelid AND ra.attnum = u.referred "
                    "WHERE k.contype = 'f' AND r.relname = ANY(:growing) AND ra.attname = 'id' "
                    "AND a.atttypid <> 'bigint'::regtype ORDER BY 1"
                ),
                {"growing": list(growing)},
            )
            .scalars()
            .all()
        )
    admin.dispose()
    assert narrow == []
