"""Moving an association in the console: the division code and the level are checked, the
operator sees what changes hands, and types the name to confirm."""

from app.extensions import db
from tenants.models import Association
from tests.factories import create_member


def _parent_id(association) -> int:
    return db.session.get(Association, association.id, populate_existing=True).parent_id


def _move_url(association) -> str:
    return f"/admin/associations/{association.id}/move"


def test_the_move_shows_what_changes_hands_and_waits_for_the_typed_name(world, make_client):
    create_member(world.village_a2, "张一")
    admin = make_client(world.admin.login)
    url = _move_url(world.village_a2)
    response = admin.post(url, {"new_parent": world.township_b.slug})
    assert response.status_code == 200
    preview = response.text.split('data-testid="move-preview"')[1]
    assert "county计生协 › township-b计生协" in preview
    assert 'data-testid="move-members">1<' in preview
    assert _parent_id(world.village_a2) == world.township_a.id

    wrong = admin.post(url, {"new_parent": world.township_b.slug, "confirm_name": "village"})
    assert wrong.status_code == 422
    assert _parent_id(world.village_a2) == world.township_a.id

    done = admin.post(
        url, {"new_parent": world.township_b.slug, "confirm_name": world.village_a2.name}
    )
    assert done.status_code == 303
    assert _parent_id(world.village_a2) == world.township_b.id


def test_a_division_code_outside_the_new_parent_is_refused(world, make_client):
    admin = make_client(world.admin.login)
    response = admin.post(
        _move_url(world.village_a1),
        {"new_parent": world.township_b.slug, "confirm_name": world.village_a1.name},
    )
    assert response.status_code == 422
    assert "340104100" in response.text
    assert _parent_id(world.village_a1) == world.township_a.id


def test_a_new_parent_at_another_level_is_refused(world, make_client):
    admin = make_client(world.admin.login)
    response = admin.post(
        _move_url(world.village_a2),
        {"new_parent": world.county.slug, "confirm_name": world.village_a2.name},
    )
    assert response.status_code == 422
    assert _parent_id(world.village_a2) == world.township_a.id
