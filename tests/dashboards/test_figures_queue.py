"""The queue the figures refresh drains in batches, and the nightly rebuild that streams: the
stored sums stay equal to the raw tables when several workers share the queue while changes go
on, and the nightly rebuild, a chunk per transaction, gives the sums along every path."""

import threading
from collections import defaultdict

import pytest
from sqlalchemy import delete, func, select, update

from app.activities.models import Activity
from app.core.clock import utcnow
from app.dashboards import refresh, totals
from app.dashboards.models import AssociationFigures, FiguresQueue, SubtreeFigures
from app.dashboards.rollup import add_into, contribution
from app.extensions import db
from app.members.models import Member, MemberStatus
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Association
from tests.dashboards.helpers import YEAR, computed_naively, rolled_up
from tests.factories import create_activity, create_member


def assert_all_agree(*associations) -> None:
    for association in associations:
        association = db.session.get(Association, association.id)
        assert rolled_up(association) == computed_naively(association), association.slug


def queued() -> int:
    with UNSCOPED_BYPASS("test counts the queue"):
        return db.session.scalar(select(func.count(FiguresQueue.id)))


def change_behind_the_refreshs_back(world) -> None:
    """Changes the after-commit refresh doesn't see (unscoped bulk SQL): the figures rows go
    stale until the associations are queued."""
    with UNSCOPED_BYPASS("test changes records behind the refresh's back"):
        db.session.execute(
            update(Member)
            .where(Member.association_id == world.village_a1.id)
            .values(status=MemberStatus.LEFT)
        )
        db.session.execute(delete(Activity).where(Activity.association_id == world.village_a2.id))
        db.session.commit()


def test_a_change_is_drained_from_the_queue_within_its_commit_in_inline_mode(figures):
    world = figures
    create_member(world.village_b1, "新会员")
    assert queued() == 0
    assert rolled_up(world.county)["members"] == 5
    assert_all_agree(world.village_b1, world.township_b, world.county)


def test_a_change_and_its_association_in_the_queue_commit_together(figures, monkeypatch):
    world = figures
    monkeypatch.setattr(refresh, "drain_figures_queue_job", lambda: None)  # no worker running
    create_member(world.village_b1, "新会员")
    with UNSCOPED_BYPASS("test reads the queue"):
        assert list(db.session.scalars(select(FiguresQueue.association_id))) == [
            world.village_b1.id
        ]
    assert rolled_up(world.county)["members"] == 4  # not refreshed yet
    with UNSCOPED_BYPASS("test adds a member and changes its mind"):
        db.session.add(Member(association_id=world.village_a2.id, name="未提交", tags_text=""))
        db.session.flush()
        db.session.rollback()
    assert queued() == 1
    assert refresh.drain_queue() == 1
    assert rolled_up(world.county)["members"] == 5
    assert_all_agree(world.village_b1, world.township_b, world.county)


def test_an_association_queued_many_times_is_recomputed_once_per_batch(figures):
    world = figures
    change_behind_the_refreshs_back(world)
    assert rolled_up(world.township_a) != computed_naively(world.township_a)
    ids = [world.village_a1.id, world.village_a2.id] * 3
    refresh.queue_associations(ids[:3])
    refresh.queue_associations(ids[3:])
    db.session.commit()
    assert queued() == 4  # coalesced within a call, not across calls
    assert refresh.drain_batch() == 4
    assert queued() == 0
    assert_all_agree(world.village_a1, world.village_a2, world.township_a, world.province)


def test_a_drain_takes_the_queue_in_batches_and_stops_when_it_is_empty(figures):
    world = figures
    change_behind_the_refreshs_back(world)
    refresh.queue_associations([world.village_a1.id])
    refresh.queue_associations([world.village_a2.id])
    refresh.queue_associations([world.village_b1.id])
    db.session.commit()
    assert refresh.drain_queue(limit=2) == 3
    assert refresh.drain_batch() == 0
    assert_all_agree(world.township_a, world.county, world.province)


def test_a_refresh_that_started_earlier_leaves_a_newer_row_alone(figures, monkeypatch):
    """A worker whose computation started before another's wrote must not put its older
    figures back (they may miss a change the other one saw)."""
    world = figures
    earlier = utcnow()
    change_behind_the_refreshs_back(world)
    refresh.refresh_associations([world.village_a1.id, world.village_a2.id])
    db.session.commit()
    stale = {world.village_a1.id: {"members": 99}}
    monkeypatch.setattr(refresh, "compute_rows", lambda year, ids: stale)
    with UNSCOPED_BYPASS("test replays a slow worker"):
        written = refresh._refresh_batch([YEAR], [world.village_a1.id], earlier)
    db.session.commit()
    assert written == {YEAR: set()}
    assert_all_agree(world.village_a1, world.township_a, world.province)


def test_workers_sharing_the_queue_while_changes_go_on_lose_no_update(figures, app):
    """Two threads make changes (each commit queues and, inline, drains), two more drain the
    queue in batches of two: every stored sum ends up equal to the raw tables (on PostgreSQL
    SKIP LOCKED claims and advisory locks; SQLite serialises writers anyway)."""
    world = figures
    change_behind_the_refreshs_back(world)
    villages = [world.village_a1, world.village_a2, world.village_b1]
    ids = [village.id for village in villages]  # each thread loads them in its own session
    errors = []
    barrier = threading.Barrier(4)

    def make_changes(offset):
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                for number in range(6):
                    refresh.queue_associations(ids)
                    db.session.commit()
                    village = db.session.get(Association, ids[(offset + number) % len(ids)])
                    create_member(village, f"会员{offset}-{number}")
        except Exception as error:  # reported below, in the test's thread
            errors.append(error)

    def drain():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                for _ in range(20):
                    refresh.drain_batch(limit=2)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=make_changes, args=(n,)) for n in (0, 1)]
    threads += [threading.Thread(target=drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    refresh.drain_queue()
    assert queued() == 0
    assert_all_agree(*villages, world.township_a, world.township_b, world.county, world.province)


def sums_along_every_path(year: int) -> tuple[dict[int, dict], dict]:
    """Every figures row's contribution added to each association on its path, in Python (the
    rebuild as it was before it streamed), and the oldest figures row under each."""
    sums: dict[int, dict] = defaultdict(dict)
    oldest: dict = {}
    columns = [getattr(AssociationFigures, key) for key in totals.FIGURE_COLUMNS]
    with UNSCOPED_BYPASS("test sums every figures row"):
        rows = db.session.execute(
            select(Association.path, Association.kind, AssociationFigures.computed_at, *columns)
            .join(AssociationFigures, AssociationFigures.association_id == Association.id)
            .where(AssociationFigures.year == year)
        ).all()
    for path, kind, computed_at, *values in rows:
        vector = contribution(kind, dict(zip(totals.FIGURE_COLUMNS, values, strict=True)))
        for association_id in totals.path_ids(path):
            add_into(sums[association_id], vector)
            if association_id not in oldest or computed_at < oldest[association_id]:
                oldest[association_id] = computed_at
    return sums, oldest


@pytest.mark.parametrize("chunk", [1, 1_000])
def test_the_streaming_rebuild_equals_the_sums_along_every_path(figures, monkeypatch, chunk):
    world = figures
    create_activity(world.village_b1)
    monkeypatch.setattr(refresh, "CHUNK", chunk)
    monkeypatch.setattr(totals, "REBUILD_CHUNK", chunk)
    with UNSCOPED_BYPASS("test damages the stored sums"):
        db.session.execute(
            update(SubtreeFigures)
            .where(SubtreeFigures.association_id == world.county.id)
            .values(totals={"members": 999})
        )
        db.session.execute(
            delete(SubtreeFigures).where(SubtreeFigures.association_id == world.township_a.id)
        )
        db.session.commit()
    refresh.refresh_all_figures()
    db.session.commit()
    for year in refresh.years_to_refresh():
        expected, oldest = sums_along_every_path(year)
        with UNSCOPED_BYPASS("test reads the stored sums"):
            stored = {
                association_id: (sums, computed_at)
                for association_id, sums, computed_at in db.session.execute(
                    select(
                        SubtreeFigures.association_id,
                        SubtreeFigures.totals,
                        SubtreeFigures.oldest_computed_at,
                    ).where(SubtreeFigures.year == year)
                )
            }
            every = set(db.session.scalars(select(Association.id)))
        for association_id in every:
            sums, computed_at = stored.get(association_id, ({}, None))
            assert sums == expected.get(association_id, {}), (year, association_id)
            if sums:
                assert computed_at == oldest[association_id]
    assert_all_agree(world.county, world.township_a, world.village_a1, world.province)
