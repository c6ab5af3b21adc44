"""Who reads what: a higher association reads its whole subtree, read-only; nobody sees siblings
or ancestors. Includes a property-based check over generated trees."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.accounts.models import User
from app.extensions import db
from tenants.access import access_for
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Association, AssociationKind, Membership, Role
from tenants.tree import create_association


def test_township_auditor_reads_every_association_below_and_is_refused_at_a_sibling(
    world, make_client
):
    client = make_client(world.township_b_auditor.login)
    assert client.get(f"/a/{world.township_b.slug}/").status_code == 200
    assert client.get(f"/a/{world.village_b1.slug}/").status_code == 200
    for elsewhere in (world.township_a, world.village_a1, world.county, world.province):
        assert client.get(f"/a/{elsewhere.slug}/").status_code == 404


def test_county_auditor_reads_the_whole_county_and_sees_the_children(world, make_client):
    client = make_client(world.county_auditor.login)
    page = client.get(f"/a/{world.county.slug}/")
    assert world.township_a.name in page.text and world.township_b.name in page.text
    for below in (world.township_a, world.township_b, world.village_a1, world.village_b1):
        assert client.get(f"/a/{below.slug}/").status_code == 200
    assert client.get(f"/a/{world.province.slug}/").status_code == 404


def test_an_auditor_cannot_write_below(world, make_client):
    client = make_client(world.county_auditor.login)
    response = client.post(
        f"/a/{world.village_a1.slug}/people/invite",
        {"name": "越权", "login": "sneaky@test.cn", "role": "secretary"},
    )
    assert response.status_code == 403
    assert "您没有权限" in response.text


def test_a_secretary_cannot_reach_up_to_the_parent(world, make_client):
    client = make_client(world.secretary_a1.login)
    assert client.get(f"/a/{world.township_a.slug}/").status_code == 404


def _build_tree(parents: list[int]) -> list[Association]:
    """parents[i] is the index of node i+1's parent (node 0 is the root)."""
    kinds = [
        AssociationKind.PROVINCE,
        AssociationKind.CITY,
        AssociationKind.COUNTY,
        AssociationKind.TOWNSHIP,
        AssociationKind.VILLAGE,
    ]
    nodes = [create_association(name="root", slug="root", kind=kinds[0], parent=None)]
    for index, parent_index in enumerate(parents, start=1):
        parent = nodes[parent_index]
        nodes.append(
            create_association(
                name=f"n{index}", slug=f"n{index}", kind=kinds[parent.depth + 1], parent=parent
            )
        )
    return nodes


@st.composite
def trees_and_roles(draw):
    size = draw(st.integers(min_value=1, max_value=14))
    parents, depths = [], [0]
    for node in range(1, size):
        candidates = [i for i in range(node) if depths[i] < 4]
        parent = draw(st.sampled_from(candidates))
        parents.append(parent)
        depths.append(depths[parent] + 1)
    holder = draw(st.integers(min_value=0, max_value=size - 1))
    role = draw(st.sampled_from(list(Role)))
    return parents, holder, role


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=trees_and_roles())
def test_what_a_user_reads_is_exactly_their_subtree(app, case):
    parents, holder_index, role = case
    with UNSCOPED_BYPASS("property test builds its own trees"):
        nodes = _build_tree(parents)
        user = User(login="p@test.cn", name="p", password_hash="x")
        db.session.add(user)
        db.session.flush()
        db.session.add(
            Membership(association_id=nodes[holder_index].id, user_id=user.id, role=role)
        )
        db.session.flush()

        def below(node_index: int) -> bool:
            while node_index != holder_index:
                if node_index == 0:
                    return False
                node_index = parents[node_index - 1]
            return True

        for index, node in enumerate(nodes):
            access = access_for(user.id, node)
            if index == holder_index:
                expected = True
            elif role == Role.MEMBER:
                expected = False  # members have no oversight of anything below
            else:
                expected = below(index)
            assert access.can_read is expected, (parents, holder_index, role, index)
            assert access.can_write is (
                index == holder_index and role in (Role.SECRETARY, Role.STAFF)
            )
    db.session.rollback()
