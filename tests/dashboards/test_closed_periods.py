"""Closed periods stay closed: figures as of the period's end (the tree as it was, members by
their dates, activities by their date), frozen when the period closes, and a later change
touching it shown as an amendment beside the frozen figure."""

import io
from datetime import date

import openpyxl
from sqlalchemy import select

from app.core.clock import utcnow
from app.dashboards import periods, rollup, totals
from app.dashboards.models import PeriodFigures
from app.extensions import db
from app.members.models import Member, MemberStatus
from tenants import tree
from tenants.context import UNSCOPED_BYPASS, scope_for, subtree_reads, tenant_context
from tenants.models import Association, AssociationKind
from tests.dashboards.helpers import YEAR, in_quarter, rolled_up
from tests.factories import create_activity, create_tree_node


def url(association, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"year": YEAR, **params}.items())
    return f"/a/{association.slug}/dashboard/?{query}"


def close(year: int = YEAR, quarter: int = 4) -> int:
    written = periods.close_period(year, quarter)
    db.session.commit()
    return written


def closed_total(association, quarter: int = 4):
    with tenant_context(scope_for(association, writable=False)), subtree_reads():
        return periods.read_period(association, YEAR, quarter)


def test_an_association_created_after_the_year_does_not_count_in_it(figures):
    world = figures
    before = rolled_up(world.county)
    create_tree_node("new-village", AssociationKind.VILLAGE, world.township_b, created_at=utcnow())
    from app.dashboards.refresh import refresh_figures

    refresh_figures(YEAR)
    db.session.commit()
    assert rolled_up(world.county)["grassroots"] == before["grassroots"] == 3


def test_a_member_who_left_this_year_counted_at_last_years_end(figures):
    world = figures  # village_a1: 3 active members
    with UNSCOPED_BYPASS("test: a member leaves this year"):
        member = db.session.scalar(select(Member).where(Member.name == "甲"))
        member.status = MemberStatus.LEFT
        member.status_on = date(YEAR + 1, 1, 15)
        db.session.commit()
    from app.dashboards.refresh import refresh_figures

    refresh_figures(YEAR)
    db.session.commit()
    assert rolled_up(world.village_a1)["members"] == 3


def test_closing_freezes_and_a_later_change_shows_as_an_amendment(figures, client_for):
    world = figures  # the county: 5 activities in YEAR (village_b1 none)
    assert close() > 0
    assert close() == 0  # closing twice changes nothing
    frozen = closed_total(world.county)
    assert frozen.dashboard.total.activities == 5 and frozen.amended is None

    # A back-dated activity in the closed year: the frozen figure stays, the amendment shows.
    create_activity(world.village_b1, held_on=in_quarter(3))
    after = closed_total(world.county)
    assert after.dashboard.total.activities == 5
    assert after.amended.activities == 6
    page = client_for(world.county_auditor.login).get(url(world.county)).get_data(as_text=True)
    assert 'data-testid="closed-period"' in page
    assert 'data-testid="amendment"' in page and "5" in page and "6" in page
    # The export of the closed year is the frozen one too.
    export = client_for(world.county_auditor.login).get(
        f"/a/{world.county.slug}/dashboard/export.xlsx?year={YEAR}"
    )
    workbook = openpyxl.load_workbook(io.BytesIO(export.data))
    assert workbook["活动"].cell(2, 7).value == 5
    rows = {row[2]: row for row in workbook["基层协会"].iter_rows(min_row=2, values_only=True)}
    assert rows[world.village_b1.name][14] == 0  # activities in the year, frozen
    # The live figures (quarter=0) have the change.
    live = client_for(world.county_auditor.login).get(url(world.county, quarter=0))
    assert 'data-testid="closed-period"' not in live.get_data(as_text=True)


def test_a_moved_association_counts_where_it_stood_when_the_period_closed(figures):
    world = figures
    close()
    township_a = closed_total(world.township_a).dashboard.total
    assert township_a.grassroots == 2
    with UNSCOPED_BYPASS("test: move village_a2 under township_b"):
        village = db.session.get(Association, world.village_a2.id)
        new_parent = db.session.get(Association, world.township_b.id)
        with totals.carried(village):
            tree.move_association(village, new_parent)
        db.session.commit()
    assert closed_total(world.township_a).dashboard.total.grassroots == 2
    assert closed_total(world.township_b).dashboard.total.grassroots == 1
    assert rolled_up(world.township_b)["grassroots"] == 2  # the live year follows the move


def test_a_quarter_is_frozen_as_of_its_last_day(figures):
    world = figures  # village_a1: an activity every quarter; village_a2: Q1 only
    close(quarter=2)
    q2 = closed_total(world.county, quarter=2).dashboard.total
    assert q2.quarters == [2, 1, 0, 0]
    with UNSCOPED_BYPASS("test: read the frozen rows"):
        rows = db.session.scalars(
            select(PeriodFigures).where(PeriodFigures.year == YEAR, PeriodFigures.quarter == 2)
        ).all()
    assert {row.association_id for row in rows} >= {world.village_a1.id, world.village_a2.id}


def test_the_frozen_sums_equal_the_naive_computation_as_of_the_end(figures):
    world = figures
    close()
    frozen = closed_total(world.county).dashboard.total.comparable()
    with tenant_context(scope_for(world.county, writable=False)), subtree_reads():
        naive = rollup.naive_rollup(world.county, YEAR, today=date(YEAR + 1, 1, 1)).comparable()
    for key in ("members", "quarters", "grassroots", "population", "checklist", "households"):
        assert frozen[key] == naive[key], key


def test_the_nightly_job_closes_the_ended_quarters(world):
    assert periods.periods_to_close(date(YEAR + 1, 4, 2)) == [
        (YEAR, 1),
        (YEAR, 2),
        (YEAR, 3),
        (YEAR, 4),
        (YEAR + 1, 1),
    ]
