"""The stored subtree sums stay equal to the raw tables through the changes that touch them:
records changing (tests/dashboards/test_dashboards.py and the property test), the tree
changing (a move, a deletion), the year going on, a full rebuild, and, on PostgreSQL,
concurrent refreshes."""

import threading
from datetime import date

import pytest
from sqlalchemy import delete, select, update

from app.activities.models import Activity
from app.core.clock import china_today
from app.dashboards import refresh, rollup, totals
from app.dashboards.models import SubtreeFigures
from app.extensions import db
from app.members.models import Member, MemberStatus
from tenants.context import UNSCOPED_BYPASS, scope_for, subtree_reads, tenant_context
from tenants.models import Association
from tests.dashboards.helpers import YEAR, computed_naively, rolled_up
from tests.factories import create_activity, create_member


def assert_all_agree(*associations) -> None:
    for association in associations:
        association = db.session.get(Association, association.id)
        assert rolled_up(association) == computed_naively(association), association.slug


def test_moving_a_village_carries_its_figures_to_the_new_township(figures, client_for):
    world = figures
    # Its division code would tie it to township A (the console refuses such a move).
    db.session.execute(
        update(Association).where(Association.id == world.village_a1.id).values(division_code=None)
    )
    db.session.commit()
    before_a = rolled_up(world.township_a)
    before_b = rolled_up(world.township_b)
    response = client_for(world.admin.login).post(
        f"/admin/associations/{world.village_a1.id}/move",
        {"new_parent": world.township_b.slug, "confirm_name": world.village_a1.name},
    )
    assert response.status_code in (302, 303)
    db.session.expire_all()
    after_a = rolled_up(world.township_a)
    after_b = rolled_up(world.township_b)
    assert after_a["members"] == before_a["members"] - 3
    assert after_b["members"] == before_b["members"] + 3
    assert after_b["associations"] == before_b["associations"] + 1
    assert_all_agree(world.township_a, world.township_b, world.county, world.province)


def test_deleting_a_subtree_takes_its_figures_out_of_the_county(figures, client_for):
    world = figures
    assert rolled_up(world.county)["members"] == 4
    response = client_for(world.admin.login).post(
        f"/admin/associations/{world.township_a.id}/delete", {"confirm": "township-a"}
    )
    assert response.status_code == 303
    db.session.expire_all()
    after = rolled_up(world.county)
    assert after["members"] == 0
    assert after["associations"] == 3  # the county, township_b, village_b1
    assert_all_agree(world.county, world.province)


@pytest.mark.parametrize("month", [1, 4, 7, 10, 12])
def test_quarter_gaps_follow_the_year_as_it_goes_on(figures, month):
    """The sums keep gaps for every number of ended quarters: the same stored row is right in
    February (nothing ended) and in December (three ended)."""
    world = figures
    year = china_today().year
    create_activity(world.village_a2, held_on=date(year, 2, 1))
    create_activity(world.village_b1, held_on=date(year, 5, 1))
    today = date(year, month, 15)
    with tenant_context(scope_for(world.county, writable=False)), subtree_reads():
        stored = rollup.rollup(world.county, year, today=today)
        naive = rollup.naive_rollup(world.county, year, today=today)
    assert stored.comparable() == naive.comparable()
    assert stored.quarter_gaps == {1: 0, 4: 2, 7: 3, 10: 3, 12: 3}[month]


def test_the_nightly_rebuild_repairs_sums_changed_behind_its_back(figures):
    world = figures
    with UNSCOPED_BYPASS("test damages the stored sums"):
        db.session.execute(
            update(SubtreeFigures)
            .where(SubtreeFigures.association_id == world.county.id)
            .values(totals={"members": 999})
        )
        db.session.commit()
    assert rolled_up(world.county)["members"] == 999
    refresh.refresh_all_figures()
    db.session.commit()
    assert_all_agree(world.county, world.township_a, world.village_a1, world.province)


def test_a_change_updates_one_row_per_ancestor_and_nothing_else(figures):
    world = figures
    with UNSCOPED_BYPASS("test reads the stored sums"):
        before = dict(
            db.session.execute(
                select(SubtreeFigures.association_id, SubtreeFigures.totals).where(
                    SubtreeFigures.year == YEAR
                )
            ).all()
        )
    create_member(world.village_b1, "新会员")
    with UNSCOPED_BYPASS("test reads the stored sums"):
        after = dict(
            db.session.execute(
                select(SubtreeFigures.association_id, SubtreeFigures.totals).where(
                    SubtreeFigures.year == YEAR
                )
            ).all()
        )
    changed = {i for i in after if after[i] != before.get(i)}
    assert changed == set(totals.path_ids(world.village_b1.path))
    assert_all_agree(world.village_b1, world.township_b, world.county)


def test_concurrent_refreshes_lose_no_update(figures, app):
    """Two jobs refreshing villages under the same township at once, and two refreshing the
    same village: every ancestor's sum ends up equal to the raw tables (PostgreSQL row locks;
    SQLite serialises writers anyway)."""
    world = figures
    # Changes the after-commit refresh doesn't see (unscoped bulk SQL), so the figures rows are
    # stale and each refresh below has a difference to add.
    with UNSCOPED_BYPASS("test changes records behind the refresh's back"):
        db.session.execute(
            update(Member)
            .where(Member.association_id == world.village_a1.id)
            .values(status=MemberStatus.LEFT)
        )
        db.session.execute(delete(Activity).where(Activity.association_id == world.village_a2.id))
        db.session.commit()
    assert rolled_up(world.township_a) != computed_naively(world.township_a)
    errors = []
    barrier = threading.Barrier(4)

    def run(ids):
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                refresh.refresh_associations(ids)
                db.session.commit()
        except Exception as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [
        threading.Thread(target=run, args=(ids,))
        for ids in (
            [world.village_a1.id],
            [world.village_a2.id],
            [world.village_a2.id],
            [world.village_a1.id, world.village_a2.id],
        )
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert_all_agree(
        world.village_a1, world.village_a2, world.township_a, world.county, world.province
    )
