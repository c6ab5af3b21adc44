"""The association tree: subtree ranges, moves that keep it consistent, refused cycles."""

import pytest
from sqlalchemy import select

from app.extensions import db
from tenants.models import Association, AssociationKind
from tenants.tree import (
    TreeError,
    check_division_code,
    create_association,
    descendants,
    move_association,
)


def _paths() -> dict[str, str]:
    fresh = select(Association).execution_options(populate_existing=True)
    return {a.slug: a.path for a in db.session.scalars(fresh)}


def test_subtree_is_one_range_and_excludes_lookalike_ids(world):
    # Ids 1 and 10+ share a prefix as text; the trailing "/" keeps them apart.
    names = {a.slug for a in db.session.scalars(descendants(world.county))}
    assert names == {"township-a", "township-b", "village-a1", "village-a2", "village-b1"}


def test_moving_a_township_carries_its_villages_along(world):
    other_county = create_association(
        name="其他县", slug="other-county", kind=AssociationKind.COUNTY, parent=world.province
    )
    move_association(world.township_a, other_county)
    db.session.commit()
    paths = _paths()
    assert paths["township-a"] == f"{other_county.path}{world.township_a.id}/"
    assert paths["village-a1"].startswith(paths["township-a"])
    moved = db.session.get(Association, world.village_a1.id)
    assert moved.depth == 3 and db.session.get(Association, world.township_a.id).parent_id == (
        other_county.id
    )
    assert {a.slug for a in db.session.scalars(descendants(world.county))} == {
        "township-b",
        "village-b1",
    }


def test_a_move_under_ones_own_descendant_is_refused(world):
    with pytest.raises(TreeError):
        move_association(world.county, world.village_a1)
    with pytest.raises(TreeError):
        move_association(world.township_a, world.township_a)


def test_the_operator_is_told_why_a_cycle_is_refused(world, make_client):
    client = make_client(world.admin.login)
    response = client.post(
        f"/admin/associations/{world.county.id}/move", {"new_parent": world.township_a.slug}
    )
    assert response.status_code == 422
    assert "不能把协会移到它自身或其下级协会之下" in response.text
    assert _paths()["county"] == world.county.path


def test_the_operator_moves_an_association_from_the_console(world, make_client):
    client = make_client(world.admin.login)
    response = client.post(
        f"/admin/associations/{world.village_a2.id}/move",
        {"new_parent": world.township_b.slug, "confirm_name": world.village_a2.name},
    )
    assert response.status_code == 303
    assert _paths()["village-a2"].startswith(world.township_b.path)


def test_only_platform_operators_reach_the_console(world, make_client):
    assert make_client(world.county_auditor.login).get("/admin/").status_code == 403
    assert make_client().get("/admin/").status_code == 302


@pytest.mark.parametrize(
    ("code", "kind", "ok"),
    [
        ("340104001000", AssociationKind.TOWNSHIP, True),
        ("34010400100", AssociationKind.TOWNSHIP, False),  # 11 digits
        ("34010400100X", AssociationKind.TOWNSHIP, False),
        ("340104000000", AssociationKind.TOWNSHIP, False),  # a county's code
        ("340105001000", AssociationKind.TOWNSHIP, False),  # another county's township
        ("340104001001", AssociationKind.VILLAGE, True),
    ],
)
def test_division_codes_are_checked_for_shape_level_and_parent(world, code, kind, ok):
    assert (
        check_division_code(code, kind, world.county if kind.level == 4 else world.township_a)
        is None
    ) is ok
