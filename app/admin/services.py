"""The platform operator's figures and actions across tenants: usage, suspension."""

from dataclasses import dataclass

from sqlalchemy import String, func, select, update
from sqlalchemy.orm import aliased

from app.core.models import utcnow
from app.core.uploads import StoredFile
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Association, Membership, Role
from tenants.tree import subtree_filter


@dataclass(frozen=True)
class Usage:
    associations: int = 0
    users: int = 0
    members: int = 0
    storage_bytes: int = 0


def usage_of(roots: list[Association]) -> dict[int, Usage]:
    """Figures for each root's whole subtree, in three queries whatever the number of roots."""
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
        people = {
            root_id: (users, members)
            for root_id, users, members in db.session.execute(
                select(
                    root.id,
                    func.count(func.distinct(Membership.user_id)),
                    func.count(Membership.id).filter(Membership.role == Role.MEMBER),
                )
                .join(node, inside)
                .join(Membership, Membership.association_id == node.id)
                .where(root.id.in_(ids))
                .group_by(root.id)
            )
        }
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
            users=people.get(root_id, (0, 0))[0],
            members=people.get(root_id, (0, 0))[1],
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
