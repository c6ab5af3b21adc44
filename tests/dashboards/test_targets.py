"""Targets each level sets for its subtree: defaults from the source documents, inherited and
tightened (never loosened) below, kept per year, and colouring every page."""

from fractions import Fraction

from app.dashboards.models import FigureTarget
from app.dashboards.targets import DEFAULT_TARGETS, targets_in_force
from app.extensions import db
from tenants.context import scope_for, tenant_context
from tests.dashboards.helpers import YEAR


def in_force(association, year=YEAR):
    with tenant_context(scope_for(association, writable=False)):
        return targets_in_force(association, year)


def form(**values) -> dict:
    defaults = {
        "member_ratio": "10",
        "activities_per_quarter": "1",
        "activities_per_year": "4",
        "collection_rate": "90",
        "linkage_coverage": "90",
        "satisfaction": "95",
        "self_governance": "100",
        "awareness": "95",
    }
    return {**defaults, **{key: str(value) for key, value in values.items()}}


def test_the_defaults_come_from_the_source_documents(world):
    targets = in_force(world.village_a1)
    assert targets == DEFAULT_TARGETS
    assert targets.member_ratio == Fraction(1, 10)
    assert (targets.activities_per_quarter, targets.activities_per_year) == (1, 4)
    assert targets.collection_rate == Fraction(9, 10)
    assert targets.satisfaction == Fraction(95, 100)
    assert targets.self_governance == 1
    assert targets.awareness == Fraction(95, 100)


def test_a_level_sets_targets_its_subtree_inherits_and_may_only_tighten(world, client_for):
    township = client_for(world.township_a_secretary.login)
    response = township.post(
        f"/a/{world.township_a.slug}/dashboard/targets?year={YEAR}",
        form(member_ratio="12.5", activities_per_year=6),
    )
    assert response.status_code == 303
    assert in_force(world.village_a1).member_ratio == Fraction(125, 1000)
    assert in_force(world.village_a2).activities_per_year == 6
    assert in_force(world.village_b1) == DEFAULT_TARGETS  # another township's branch

    village = client_for(world.secretary_a1.login)
    loosened = village.post(f"/a/village-a1/dashboard/targets?year={YEAR}", form(member_ratio="11"))
    assert loosened.status_code == 422
    assert "12.5%" in loosened.get_data(as_text=True)
    assert in_force(world.village_a1).member_ratio == Fraction(125, 1000)

    tightened = village.post(
        f"/a/village-a1/dashboard/targets?year={YEAR}",
        form(member_ratio="15", activities_per_year=6),
    )
    assert tightened.status_code == 303
    assert in_force(world.village_a1).member_ratio == Fraction(15, 100)
    assert in_force(world.village_a2).member_ratio == Fraction(125, 1000)
    page = village.get(f"/a/village-a1/dashboard/targets?year={YEAR}").get_data(as_text=True)
    assert "≥ 15%" in page and world.township_a.name in page


def test_targets_are_kept_per_year_and_hold_until_changed(world, client_for):
    township = client_for(world.township_a_secretary.login)
    township.post(
        f"/a/{world.township_a.slug}/dashboard/targets?year={YEAR}", form(member_ratio=12)
    )
    assert in_force(world.village_a1, YEAR - 1).member_ratio == Fraction(1, 10)
    assert in_force(world.village_a1, YEAR + 1).member_ratio == Fraction(12, 100)
    with tenant_context(scope_for(world.township_a, writable=False)):
        assert db.session.query(FigureTarget).count() == 8


def test_the_colours_follow_the_targets_in_force(figures, client_for):
    world = figures  # village_a1: 3 members of 30 served, 10 %
    auditor = client_for(world.county_auditor.login)

    def flag() -> str:
        page = auditor.get(f"/a/village-a1/dashboard/?year={YEAR}").get_data(as_text=True)
        return page.split('data-testid="flag-members" data-flag="')[1].split('"')[0]

    assert flag() == "green"
    client_for(world.township_a_secretary.login).post(
        f"/a/{world.township_a.slug}/dashboard/targets?year={YEAR}", form(member_ratio=12)
    )
    assert flag() == "amber"  # 10 % is at least 80 % of the 12 % target
    problems = auditor.get(
        f"/a/{world.township_a.slug}/dashboard/problems?year={YEAR}&target=members"
    ).get_data(as_text=True)
    assert 'data-slug="village-a1"' in problems and "≥ 12%" in problems


def test_a_level_adds_a_target_of_its_own_that_its_subtree_inherits(world, client_for):
    township = client_for(world.township_a_secretary.login)
    response = township.post(
        f"/a/{world.township_a.slug}/dashboard/targets/own?year={YEAR}",
        {"name": "新发展会员", "unit": "人", "value": "20", "figure": "new_members"},
    )
    assert response.status_code == 303
    (own,) = in_force(world.village_a1).own
    assert (own.name, own.unit, own.value, own.figure) == ("新发展会员", "人", 20, "new_members")
    village = client_for(world.secretary_a1.login)
    page = village.get(f"/a/village-a1/dashboard/targets?year={YEAR}").get_data(as_text=True)
    assert "新发展会员" in page
    field = own.key.replace(":", "_")
    refused = village.post(f"/a/village-a1/dashboard/targets?year={YEAR}", {**form(), field: "10"})
    assert refused.status_code == 422
    assert (
        village.post(
            f"/a/village-a1/dashboard/targets?year={YEAR}", {**form(), field: "25"}
        ).status_code
        == 303
    )
    assert in_force(world.village_a1).own[0].value == 25
    assert in_force(world.village_a2).own[0].value == 20


def test_only_the_levels_own_secretary_sets_its_targets(world, client_for):
    auditor = client_for(world.county_auditor.login)
    assert auditor.get(f"/a/{world.township_a.slug}/dashboard/targets").status_code == 200
    response = auditor.post(f"/a/{world.township_a.slug}/dashboard/targets", form())
    assert response.status_code == 403
