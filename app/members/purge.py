"""The nightly purge: members and households deleted by a secretary more than 30 days ago are
erased for good (until then "Recently deleted" can restore them)."""

from sqlalchemy import select, union

from app.core.clock import utcnow
from app.core.jobs import periodic
from app.core.soft_delete import INCLUDE_DELETED, RESTORABLE_FOR
from app.extensions import db
from app.members import services
from app.members.models import Household, Member
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tenants.models import Association


@periodic(minute="50", hour="3")
def purge_deleted_registers() -> tuple[int, int]:
    """Erase what was deleted more than 30 days ago, association by association; returns how
    many members and households went."""
    now = utcnow()
    cutoff = now - RESTORABLE_FOR
    with UNSCOPED_BYPASS("the purge job finds the associations with expired deletions"):
        association_ids = list(
            db.session.scalars(
                union(
                    select(Member.association_id).where(Member.deleted_at < cutoff),
                    select(Household.association_id).where(Household.deleted_at < cutoff),
                ),
                execution_options=INCLUDE_DELETED,
            )
        )
    members = households = 0
    for association in db.session.scalars(
        select(Association).where(Association.id.in_(association_ids))
    ):
        with tenant_context(scope_for(association, writable=True)):
            purged_members, purged_households = services.purge_deleted(now)
        members += purged_members
        households += purged_households
    return members, households
