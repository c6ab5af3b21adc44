"""Migrations build the schema from nothing, and it matches the models exactly."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect

from app import create_app
from app.extensions import db
from tests.conftest import base_config


def test_upgrade_from_empty_to_head_builds_every_table(app):
    engine = create_engine(app.config.get("DATABASE_ADMIN_URL") or db.engine.url)
    tables = set(inspect(engine).get_table_names())
    assert set(db.metadata.tables) <= tables
    engine.dispose()


def test_the_migrated_schema_matches_the_models(app):
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    # Type-affinity noise aside, no table, column, index or constraint may be missing.
    structural = [d for d in differences if not (isinstance(d, list) or d[0] == "modify_type")]
    assert structural == []


def test_sqlite_upgrade_runs_on_an_empty_file(tmp_path):
    path = tmp_path / "fresh.db"
    app = create_app(base_config(f"sqlite:///{path}"))
    with app.app_context():
        upgrade(revision="heads")
        assert "associations" in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_the_migrations_have_a_single_head():
    """Parallel branches must be merged, so `flask db upgrade` alone reaches every table."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from app import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1
