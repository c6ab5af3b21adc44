"""Shared by the dashboards tests: the year they look at, small setters, and the two ways of
computing a subtree's figures (the stored sums, and naively from the raw tables)."""

from datetime import date

from app.core.clock import china_today
from app.dashboards import rollup
from app.extensions import db
from app.members.models import Household, MemberStatus
from tenants.context import UNSCOPED_BYPASS, scope_for, subtree_reads, tenant_context
from tenants.models import Association
from tests.factories import create_activity, create_checklist, create_household, create_member

YEAR = china_today().year - 1  # a finished year: every quarter is over


def set_population(association, population: int) -> None:
    with UNSCOPED_BYPASS("test fixture sets the population served"):
        db.session.get(Association, association.id).served_population = population
        db.session.commit()


def in_quarter(quarter: int, year: int = YEAR) -> date:
    return date(year, 3 * quarter - 1, 10)


def rolled_up(association):
    with tenant_context(scope_for(association, writable=False)), subtree_reads():
        return rollup.rollup(association, YEAR).comparable()


def computed_naively(association):
    with tenant_context(scope_for(association, writable=False)), subtree_reads():
        return rollup.naive_rollup(association, YEAR).comparable()


def fill_figures(world):
    """village_a1: 3 active members (+1 who left) of 30, an activity every quarter, 七有
    submitted, 3 of 4 households covered; village_a2: 1 of 10, Q1 only; village_b1: 0 of 20,
    no activity."""
    from app.members import households

    set_population(world.village_a1, 30)
    set_population(world.village_a2, 10)
    set_population(world.village_b1, 20)
    for name in ("甲", "乙", "丙"):
        create_member(world.village_a1, name)
    create_member(world.village_a1, "丁", status=MemberStatus.LEFT)
    create_member(world.village_a2, "戊")
    for quarter in range(1, 5):
        create_activity(world.village_a1, held_on=in_quarter(quarter))
    create_activity(world.village_a2, held_on=in_quarter(1))
    create_checklist(world.village_a1, year=YEAR, submitted=True)
    central = create_household(world.village_a1, "中心户1号", central=True)
    for address in ("联户2号", "联户3号"):
        linked = create_household(world.village_a1, address)
        with tenant_context(scope_for(world.village_a1, writable=True)):
            households.link_household(
                db.session.get(Household, linked.id), db.session.get(Household, central.id)
            )
            db.session.commit()
    create_household(world.village_a1, "散户4号")
    return world
