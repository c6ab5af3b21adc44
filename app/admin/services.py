"""The platform operator's figures and actions across tenants: usage, suspension."""

from dataclasses import dataclass

from sqlalchemy import String, func, select, update
from sqlalchemy.orm import aliased

from app.core.clock import utcnow
from app.core.uploads import StoredFile
from app.extensions import db
from app.members.models import Member, MemberStatus
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Association, Membership
from tenants.tree import subtree_filter


@dataclass(frozen=True)
class Usage:
    associations: int = 0
    users: int = 0
    members: int = 0
    storage_bytes: int = 0


def usage_of(roots: list[Association]) -> dict[int, Usage]:
    """Figures for each root's whole subtree, in four queries whatever the number of roots:
    users are logins with any role; members are the active members of the registers."""
    if not roots:
        return {}
    root = aliased(Association)
    node = aliased(Association)
    upper = func.substr(root.path, 1, func.length(root.path) - 1, type_=String) + "0"
    inside = (node.path >= root.path) & (node.path < upper)
    ids = [association.id for association in roots]
    associations = dict(
        db.session.execute(
            select(root.id, func.count(node.id))
            .join(node, inside)
            .where(root.id.in_(ids))
            .group_by(root.id)
        ).all()
    )
    with UNSCOPED_BYPASS("platform console: usage figures of every tenant subtree"):
        users = dict(
            db.session.execute(
                select(root.id, func.count(func.distinct(Membership.user_id)))
                .join(node, inside)
                .join(Membership, Membership.association_id == node.id)
                .where(root.id.in_(ids))
                .group_by(root.id)
            ).all()
        )
        members = dict(
            db.session.execute(
                select(root.id, func.count(Member.id))
                .join(node, inside)
                .join(Member, Member.association_id == node.id)
                .where(root.id.in_(ids), Member.status == MemberStatus.ACTIVE)
                .group_by(root.id)
            ).all()
        )
        storage = dict(
            db.session.execute(
                select(root.id, func.coalesce(func.sum(StoredFile.size), 0))
                .join(node, inside)
                .join(StoredFile, StoredFile.association_id == node.id)
                .where(root.id.in_(ids))
                .group_by(root.id)
            ).all()
        )
    return {
        root_id: Usage(
            associations=associations.get(root_id, 0),
            users=users.get(root_id, 0),
            members=members.get(root_id, 0),
            storage_bytes=int(storage.get(root_id, 0)),
        )
        for root_id in ids
    }


def suspend_subtree(association: Association) -> int:
    """Suspend an association and everything below it: read-only with a notice, nothing is
    deleted. Returns how many associations were suspended."""
    result = db.session.execute(
        update(Association)
        .where(subtree_filter(association.path), Association.suspended_at.is_(None))
        .values(suspended_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    return result.rowcount


def unsuspend_subtree(association: Association) -> int:
    result = db.session.execute(
        update(Association)
        .where(subtree_filter(association.path), Association.suspended_at.is_not(None))
        .values(suspended_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    return result.rowcount
