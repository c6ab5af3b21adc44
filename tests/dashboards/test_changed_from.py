"""A change recomputes only the periods it can count in: an activity held this year leaves last
year's figures (and its closed quarters) as they are, a back-dated one or a member whose join
date moves back recomputes from that date, and anything undated recomputes every year."""

import re
from datetime import date

from sqlalchemy import select

from app.activities.models import Activity
from app.core.clock import utcnow
from app.dashboards import periods, refresh
from app.dashboards.models import AssociationFigures, FiguresQueue
from app.extensions import db
from app.members import services as registers
from app.members.models import Member
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tests.dashboards.helpers import YEAR, computed_naively, in_quarter, rolled_up
from tests.factories import create_activity, create_member

THIS_YEAR = YEAR + 1


def queued(association) -> list:
    with UNSCOPED_BYPASS("test reads the queue"):
        return list(
            db.session.scalars(
                select(FiguresQueue.changed_from).where(
                    FiguresQueue.association_id == association.id
                )
            )
        )


def computed_at(association) -> dict:
    with UNSCOPED_BYPASS("test reads when the figures were computed"):
        return dict(
            db.session.execute(
                select(AssociationFigures.year, AssociationFigures.computed_at).where(
                    AssociationFigures.association_id == association.id
                )
            ).all()
        )


def no_worker(monkeypatch) -> None:
    monkeypatch.setattr(refresh, "drain_figures_queue_job", lambda: None)


def test_an_activity_held_this_year_leaves_last_years_figures_alone(figures, monkeypatch):
    world = figures
    no_worker(monkeypatch)
    held_on = date(THIS_YEAR, 1, 5)
    create_activity(world.village_b1, held_on=held_on)
    assert queued(world.village_b1) == [held_on]
    before = computed_at(world.village_b1)
    assert refresh.drain_batch() == 1
    after = computed_at(world.village_b1)
    assert after[YEAR] == before[YEAR]  # last year's row was not recomputed
    assert after[THIS_YEAR] > before[THIS_YEAR]
    with UNSCOPED_BYPASS("test reads this year's row"):
        row = db.session.scalar(
            select(AssociationFigures).where(
                AssociationFigures.association_id == world.village_b1.id,
                AssociationFigures.year == THIS_YEAR,
            )
        )
        assert row.activities_q1 == 1


def test_a_back_dated_activity_recomputes_its_year(figures, monkeypatch):
    world = figures
    no_worker(monkeypatch)
    create_activity(world.village_b1, held_on=in_quarter(2))
    assert queued(world.village_b1) == [in_quarter(2)]
    assert rolled_up(world.county) != computed_naively(world.county)  # not refreshed yet
    refresh.drain_batch()
    assert rolled_up(world.county) == computed_naively(world.county)
    assert sum(rolled_up(world.county)["quarters"]) == 6


def test_a_change_after_a_closed_quarter_does_not_recompute_it(figures, monkeypatch):
    world = figures
    periods.close_period(YEAR, 4)
    db.session.commit()
    recomputed = []
    original = periods.period_rows
    monkeypatch.setattr(
        periods,
        "period_rows",
        lambda year, ids, as_of: recomputed.append(as_of) or original(year, ids, as_of),
    )
    create_activity(world.village_b1, held_on=date(THIS_YEAR, 1, 5))
    assert recomputed == []
    create_activity(world.village_b1, held_on=in_quarter(4))  # back into the closed year
    assert recomputed == [date(YEAR, 12, 31)]


def test_a_join_date_moved_back_recomputes_from_the_earlier_date(figures, monkeypatch):
    world = figures
    member = create_member(world.village_b1, "新会员", joined_on=date(THIS_YEAR, 1, 2))
    assert rolled_up(world.village_b1)["members"] == 0  # joined after last year's end
    no_worker(monkeypatch)
    with tenant_context(scope_for(world.village_b1, writable=True)):
        loaded = db.session.get(Member, member.id)
        registers.update_member(
            loaded, registers.MemberInput(name="新会员", joined_on=date(YEAR, 6, 1))
        )
        db.session.commit()
    assert queued(world.village_b1) == [date(YEAR, 6, 1)]
    refresh.drain_batch()
    assert rolled_up(world.village_b1)["members"] == 1
    assert rolled_up(world.county) == computed_naively(world.county)


def test_undated_changes_and_unloaded_old_dates_recompute_every_year(figures, monkeypatch):
    world = figures
    no_worker(monkeypatch)
    create_member(world.village_b1, "无入会日期")  # no join date: counts in every year
    assert queued(world.village_b1) == [None]
    with UNSCOPED_BYPASS("test moves an activity without loading its date"):
        activity = db.session.scalar(
            select(Activity).where(Activity.association_id == world.village_a2.id)
        )
        db.session.expire(activity, ["held_on"])
        activity.held_on = date(THIS_YEAR, 1, 5)  # its old date (last year) is not known
        db.session.commit()
    assert queued(world.village_a2) == [None]
    refresh.drain_queue()
    assert rolled_up(world.county) == computed_naively(world.county)
    assert sum(rolled_up(world.village_a2)["quarters"]) == 0


def test_the_figure_groups_read_no_tenant_table_they_do_not_declare(figures):
    """A change to a table no group declares queues no refresh: if a group read one, its
    figures would go stale until the nightly run. So every statement of every group (and of a
    closed period's values entered by hand) is checked against the declared sources."""
    from sqlalchemy import event

    from app.dashboards.figures import compute_rows, source_models
    from tenants.models import TenantMixin

    tenant_tables = {
        mapper.class_.__tablename__
        for mapper in db.Model.registry.mappers
        if issubclass(mapper.class_, TenantMixin)
    }
    declared = {model.__tablename__ for model in (*source_models(), *refresh.FROZEN_SOURCES)}
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with UNSCOPED_BYPASS("test runs every figure group"):
            for year in (YEAR, THIS_YEAR):
                compute_rows(year, None)
                periods.period_rows(year, None, date(year, 3, 31))
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    read = {
        table
        for table in tenant_tables
        for statement in statements
        if re.search(rf"\b{table}\b", statement)
    }
    assert read, "no statement seen"
    assert read <= declared, read - declared


def test_a_members_deletion_recomputes_every_year(figures, monkeypatch):
    """Their volunteer hours leave every year's figures, whenever they joined."""
    world = figures
    member = create_member(world.village_b1, "志愿者", joined_on=date(THIS_YEAR, 1, 2))
    no_worker(monkeypatch)
    with UNSCOPED_BYPASS("test deletes a member"):
        db.session.get(Member, member.id).deleted_at = utcnow()
        db.session.commit()
    assert queued(world.village_b1) == [None]
