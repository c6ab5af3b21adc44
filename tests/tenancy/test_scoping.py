"""The ORM wall: every query on a tenant table is scoped, fails closed, and writes are guarded."""

import pytest
from sqlalchemy import func, select, update

from app.accounts.models import Invitation
from app.extensions import db
from tenants.context import (
    UNSCOPED_BYPASS,
    TenantContextMissing,
    TenantWriteDenied,
    scope_for,
    subtree_reads,
    tenant_context,
)
from tenants.models import Membership, Role


def _count_memberships() -> int:
    return db.session.scalar(select(func.count()).select_from(Membership))


def test_a_query_on_a_tenant_table_without_a_tenant_context_raises(world):
    with pytest.raises(TenantContextMissing):
        db.session.scalars(select(Membership)).all()


def test_queries_see_only_the_current_association(world):
    with tenant_context(scope_for(world.village_a1, writable=False)):
        rows = db.session.scalars(select(Membership)).all()
    assert {m.association_id for m in rows} == {world.village_a1.id}
    assert len(rows) == 3  # secretary, staff, member


def test_get_by_id_of_another_associations_row_finds_nothing(world):
    with UNSCOPED_BYPASS("test looks up an id in another association"):
        foreign_id = db.session.scalar(
            select(Membership.id).where(Membership.association_id == world.village_b1.id)
        )
    scope = scope_for(world.village_a1, writable=True)
    db.session.expunge_all()  # nothing cached: the lookup must go to the database
    with tenant_context(scope):
        assert db.session.get(Membership, foreign_id) is None


def test_bulk_update_cannot_touch_another_association(world):
    with tenant_context(scope_for(world.village_a1, writable=True)):
        db.session.execute(update(Membership).values(role=Role.STAFF))
        db.session.commit()
    with UNSCOPED_BYPASS("test checks the other association"):
        roles = db.session.scalars(
            select(Membership.role).where(Membership.association_id == world.village_b1.id)
        ).all()
    assert roles == [Role.SECRETARY]


def test_subtree_reads_cover_descendants_but_never_siblings_or_ancestors(world):
    with tenant_context(scope_for(world.township_a, writable=False)), subtree_reads():
        seen = set(db.session.scalars(select(Membership.association_id)))
    assert seen == {world.township_a.id, world.village_a1.id, world.village_a2.id}


def test_a_read_only_scope_cannot_write(world):
    with tenant_context(scope_for(world.village_a1, writable=False)):
        membership = db.session.scalars(select(Membership)).first()
        membership.role = Role.SECRETARY
        with pytest.raises(TenantWriteDenied):
            db.session.flush()
        db.session.rollback()


def test_new_rows_are_stamped_with_the_current_association_and_cannot_go_elsewhere(world):
    with tenant_context(scope_for(world.village_a1, writable=True)):
        membership = Membership(user_id=world.secretary_b1.id, role=Role.MEMBER)
        db.session.add(membership)
        db.session.flush()
        assert membership.association_id == world.village_a1.id
        db.session.add(
            Membership(
                association_id=world.village_b1.id, user_id=world.secretary_a1.id, role=Role.MEMBER
            )
        )
        with pytest.raises(TenantWriteDenied):
            db.session.flush()
        db.session.rollback()


def test_an_insert_without_a_tenant_context_is_refused(world):
    db.session.add(
        Invitation(
            login="x@test.cn",
            name="x",
            role=Role.MEMBER,
            token_hash="t",
            expires_at=world.village_a1.created_at,
        )
    )
    with pytest.raises(TenantContextMissing):
        db.session.flush()
    db.session.rollback()


def _user_ids_holding_a_role(statement) -> set[int]:
    return set(db.session.scalars(statement))


def test_a_tenant_table_only_joined_or_in_a_subquery_is_scoped_too(world):
    """The selected entity (users) is not a tenant table; the memberships it is filtered by
    are, and must be scoped all the same — in a join and in a subquery."""
    from app.accounts.models import User

    in_village = {world.secretary_a1.id, world.staff_a1.id, world.member_a1.id}
    joined = select(User.id).join(Membership, Membership.user_id == User.id)
    subquery = select(User.id).where(User.id.in_(select(Membership.user_id)))
    with tenant_context(scope_for(world.village_a1, writable=False)):
        assert _user_ids_holding_a_role(joined) == in_village
        assert _user_ids_holding_a_role(subquery) == in_village
    with pytest.raises(TenantContextMissing):
        db.session.scalars(joined).all()
