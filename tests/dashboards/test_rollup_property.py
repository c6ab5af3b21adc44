"""Property: on randomised trees and records, the roll-up read from the figures table (kept up
to date by the job after every commit) equals the figures computed from the raw tables, for the
county and each of its children, before and after records change."""

import itertools
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from app.activities.models import Activity, ActivityType
from app.core.clock import china_today
from app.dashboards import rollup
from app.extensions import db
from app.members.models import Household, Member, MemberStatus
from tenants.context import UNSCOPED_BYPASS, scope_for, subtree_reads, tenant_context
from tenants.models import Association, AssociationKind
from tests.factories import create_tree_node

YEAR = china_today().year - 1
COUNTER = itertools.count()

grassroots = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["community", "village", "enterprise", "migrant"]),
        "population": st.one_of(st.none(), st.integers(1, 200)),
        "members": st.lists(st.sampled_from(list(MemberStatus)), max_size=6),
        "quarters": st.lists(st.integers(1, 4), max_size=6),
        "households": st.integers(0, 5),
        "linked": st.integers(0, 4),
    }
)
trees = st.lists(st.lists(grassroots, max_size=3), min_size=1, max_size=3)


def fill(association, spec) -> None:
    with tenant_context(scope_for(association, writable=True)):
        households = [Household(address=f"路{n}号") for n in range(spec["households"])]
        db.session.add_all(households)
        db.session.flush()
        if households:
            households[0].is_central = True
            db.session.flush()
            for household in households[1 : 1 + spec["linked"]]:
                household.central_household_id = households[0].id
                household.central_link = True
        for number, status in enumerate(spec["members"]):
            db.session.add(Member(name=f"会员{number}", status=status, tags_text=""))
        for quarter in spec["quarters"]:
            db.session.add(
                Activity(
                    held_on=date(YEAR, 3 * quarter - 1, 5),
                    title="活动",
                    type=ActivityType.OTHER,
                )
            )
        db.session.commit()


def compare(association) -> None:
    with tenant_context(scope_for(association, writable=False)), subtree_reads():
        fast = rollup.rollup(association, YEAR).comparable()
        slow = rollup.naive_rollup(association, YEAR).comparable()
        children = rollup.children_rollup(association, YEAR)
        for row in children:
            assert (
                row.figures.comparable() == rollup.naive_rollup(row.association, YEAR).comparable()
            )
    assert fast == slow


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tree=trees, drop_every=st.integers(2, 4))
def test_roll_up_equals_the_raw_tables_on_random_trees(world, tree, drop_every):
    number = next(COUNTER)
    county = create_tree_node(f"pc{number}", AssociationKind.COUNTY, world.province)
    leaves = []
    for t, villages in enumerate(tree):
        township = create_tree_node(f"pt{number}-{t}", AssociationKind.TOWNSHIP, county)
        for v, spec in enumerate(villages):
            leaf = create_tree_node(
                f"pv{number}-{t}-{v}",
                AssociationKind(spec["kind"]),
                township,
                served_population=spec["population"],
            )
            fill(leaf, spec)
            leaves.append(leaf)
    compare(county)
    # Records change: some activities and members go, a population changes.
    for index, leaf in enumerate(leaves):
        if index % drop_every:
            continue
        with tenant_context(scope_for(leaf, writable=True)):
            db.session.execute(delete(Activity).where(Activity.held_on < date(YEAR, 7, 1)))
            member = db.session.scalar(select(Member).limit(1))
            if member is not None:
                member.status = MemberStatus.LEFT
            db.session.commit()
        with UNSCOPED_BYPASS("test changes the population served"):
            db.session.get(Association, leaf.id).served_population = 50 + index
            db.session.commit()
    compare(county)
