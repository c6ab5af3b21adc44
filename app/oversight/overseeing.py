"""Who oversees whom, and what waits for them: the roles that act for a higher level, the
associations strictly below one, and the 七有 items below waiting for review."""

from sqlalchemy import and_, select

from app.checklist.models import Checklist, ChecklistItem, ItemState
from app.core.pagination import Page, paginate_rows
from app.extensions import db
from tenants.access import Access
from tenants.context import UNSCOPED_BYPASS, subtree_reads
from tenants.models import OVERSIGHT_ROLES, WRITE_ROLES, Association, Membership
from tenants.tree import subtree_bounds


def oversees_below(access: Access) -> bool:
    """May act for a higher level here: a secretary, staff or auditor role in this association
    or oversight from above it (members never)."""
    return access.own_role in OVERSIGHT_ROLES or access.oversight_from is not None


def may_act_on(access: Access) -> bool:
    """app/checklist's review rule: oversight from above, and no working role in the target."""
    return access.oversight_from is not None and access.own_role not in WRITE_ROLES


def strictly_below(association: Association):
    low, high = subtree_bounds(association.path)
    return and_(Association.path >= low, Association.path < high, Association.id != association.id)


def _own_write_association_ids(user_id: int) -> list[int]:
    """Where the user holds a working role: they review nothing there (app/checklist's rule)."""
    with UNSCOPED_BYPASS("the signed-in user's own memberships"):
        return list(
            db.session.scalars(
                select(Membership.association_id).where(
                    Membership.user_id == user_id, Membership.role.in_(list(WRITE_ROLES))
                )
            )
        )


# --- the review queue -------------------------------------------------------------------------


def review_queue(association: Association, *, user_id: int, page: int, per_page: int = 20) -> Page:
    """七有 items below the association submitted and not yet reviewed, oldest first: rows of
    (item, year, association). Three queries whatever the page size."""
    excluded = _own_write_association_ids(user_id)
    query = (
        select(ChecklistItem, Checklist.year, Association)
        .join(
            Checklist,
            (Checklist.association_id == ChecklistItem.association_id)
            & (Checklist.id == ChecklistItem.checklist_id),
        )
        .join(Association, Association.id == ChecklistItem.association_id)
        .where(ChecklistItem.state == ItemState.SUBMITTED, strictly_below(association))
        .order_by(ChecklistItem.submitted_at, ChecklistItem.id)
    )
    if excluded:
        query = query.where(Association.id.not_in(excluded))
    with subtree_reads():
        return paginate_rows(query, page=page, per_page=per_page)
