"""Two first uploads of the year at once (a double tap on a slow phone) both succeed: one
creates the year's checklist, the other takes it, and their versions follow each other."""

import io
import threading

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.checklist import services
from app.checklist.models import Checklist, ChecklistEvidence
from app.checklist.views import this_year
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tests.uploads import samples


def _file() -> FileStorage:
    return FileStorage(io.BytesIO(samples.jpeg()), filename="牌子.jpg", content_type="image/jpeg")


def _checklists_and_versions(association_id: int) -> tuple[int, list[int]]:
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        checklists = db.session.scalars(
            select(Checklist).where(Checklist.association_id == association_id)
        ).all()
        versions = db.session.scalars(
            select(ChecklistEvidence.version)
            .where(ChecklistEvidence.association_id == association_id)
            .order_by(ChecklistEvidence.version)
        ).all()
    return len(checklists), list(versions)


def test_a_checklist_created_meanwhile_is_taken_not_a_500(app, world, monkeypatch):
    """The losing request found no checklist, then another request committed one first."""
    year = this_year()
    with tenant_context(scope_for(world.village_a1, writable=True)):
        services.ensure_checklist(year)
        db.session.commit()
    real_load = services.load_checklist
    calls = []

    def not_yet_seen(year_):
        calls.append(year_)
        return None if len(calls) == 1 else real_load(year_)

    monkeypatch.setattr(services, "load_checklist", not_yet_seen)
    with tenant_context(scope_for(world.village_a1, writable=True)):
        evidence = services.add_evidence(
            year, 4, _file(), note="", association_id=world.village_a1.id, user_id=None
        )
        db.session.commit()
        assert evidence.version == 1
    assert _checklists_and_versions(world.village_a1.id) == (1, [1])


def test_two_first_uploads_at_once_both_succeed(app, world):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers are a PostgreSQL matter; SQLite serialises them")
    year, association_id = this_year(), world.village_a1.id
    barrier = threading.Barrier(2)
    errors = []

    def upload():
        try:
            with app.app_context():
                from tenants.models import Association

                association = db.session.get(Association, association_id)
                with tenant_context(scope_for(association, writable=True)):
                    barrier.wait(timeout=30)
                    services.add_evidence(
                        year, 4, _file(), note="", association_id=association_id, user_id=None
                    )
                    db.session.commit()
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=upload) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert _checklists_and_versions(association_id) == (1, [1, 2])
