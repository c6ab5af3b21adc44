"""The restore drill: back up, lose data, restore, and find everything again."""

import shutil

import pytest
from sqlalchemy import func, select

from app.extensions import db
from tenants.models import Association


def _count() -> int:
    return db.session.scalar(select(func.count(Association.id)))


def test_backup_then_restore_brings_back_what_was_lost(app, world, tmp_path):
    if db.engine.dialect.name == "postgresql" and not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")
    before = _count()
    runner = app.test_cli_runner()
    target = tmp_path / "xiehui.backup"
    result = runner.invoke(args=["backup", "create", str(target)])
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0

    with_loss, lost_name = world.village_b1.id, world.village_b1.name
    db.session.execute(Association.__table__.delete().where(Association.id == with_loss))
    db.session.commit()
    assert _count() == before - 1

    db.session.remove()
    result = runner.invoke(args=["backup", "restore", "--yes", str(target)])
    assert result.exit_code == 0, result.output
    assert _count() == before
    assert db.session.get(Association, with_loss).name == lost_name


def test_restoring_a_missing_file_says_so(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["backup", "restore", "--yes", str(tmp_path / "x")])
    assert result.exit_code != 0 and "no backup" in result.output
