"""Reads about one association and its place in the tree."""

from sqlalchemy import String, func, select

from app.accounts.models import Invitation, User
from app.core.audit import AuditLog
from app.core.pagination import Page, paginate_rows
from app.extensions import db
from tenants.access import Access
from tenants.models import Association, Membership
from tenants.tree import subtree_filter


def visible_ancestry(access: Access) -> list[Association]:
    """The breadcrumb: from the highest association the user reads down to this one.

    Ancestors above the user's own place in the tree are never shown."""
    association = access.association
    top = access.oversight_from or association
    ids = association.ancestor_ids
    ids = ids[ids.index(top.id) :]
    return list(
        db.session.scalars(
            select(Association).where(Association.id.in_(ids)).order_by(Association.depth)
        )
    )


def children_with_counts(association: Association) -> list[tuple[Association, int]]:
    """Direct children, each with how many associations lie below it (one query)."""
    child = db.aliased(Association)
    below = (
        select(func.count(Association.id))
        .where(
            Association.path > child.path,
            Association.path
            < func.substr(child.path, 1, func.length(child.path) - 1, type_=String) + "0",
        )
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(child, below).where(child.parent_id == association.id).order_by(child.name)
    ).all()
    return [(row[0], row[1]) for row in rows]


def subtree_size(association: Association) -> int:
    return db.session.scalar(
        select(func.count(Association.id)).where(subtree_filter(association.path))
    )


def people(association: Association) -> list[tuple[Membership, User]]:
    rows = db.session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .order_by(Membership.role, User.name)
    )
    return [(membership, user) for membership, user in rows]


def invitations() -> list[Invitation]:
    return list(db.session.scalars(select(Invitation).order_by(Invitation.created_at.desc())))


def audit_page(page: int, per_page: int = 50) -> Page:
    query = (
        select(AuditLog, User.name)
        .outerjoin(User, User.id == AuditLog.user_id)
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
    )
    return paginate_rows(query, page=page, per_page=per_page)
