"""What a user may do in an association: their own role there, or oversight from above."""

from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tenants.models import OVERSIGHT_ROLES, WRITE_ROLES, Association, Membership, Role


@dataclass(frozen=True)
class Access:
    association: Association
    own_role: Role | None  # the role held in this very association
    oversight_from: Association | None  # the nearest higher association giving read access

    @property
    def can_read(self) -> bool:
        return self.own_role is not None or self.oversight_from is not None

    @property
    def can_write(self) -> bool:
        return self.own_role in WRITE_ROLES

    @property
    def is_secretary(self) -> bool:
        return self.own_role == Role.SECRETARY

    @property
    def is_auditing(self) -> bool:
        """Reads with a higher level's eyes: protected personal fields stay masked."""
        return self.own_role not in (Role.SECRETARY, Role.STAFF, Role.MEMBER)

    @property
    def can_read_registers(self) -> bool:
        """Staff-level reads (registers, logs): everyone with access except plain members."""
        return self.can_read and self.own_role != Role.MEMBER

    @property
    def effective_role(self) -> Role | None:
        if self.own_role is not None:
            return self.own_role
        return Role.AUDITOR if self.oversight_from is not None else None


def access_for(user_id: int | None, association: Association) -> Access:
    """One indexed query: the user's memberships on the association's path from the root."""
    if user_id is None:
        return Access(association, None, None)
    with UNSCOPED_BYPASS("resolve the signed-in user's own roles on the path to the root"):
        memberships = db.session.scalars(
            select(Membership).where(
                Membership.user_id == user_id,
                Membership.association_id.in_(association.ancestor_ids),
            )
        ).all()
    own_role = None
    oversight_from = None
    for membership in memberships:
        if membership.association_id == association.id:
            own_role = membership.role
        elif membership.role in OVERSIGHT_ROLES and (
            oversight_from is None or membership.association.depth > oversight_from.depth
        ):
            oversight_from = membership.association
    return Access(association, own_role, oversight_from)


def memberships_of(user_id: int) -> list[Membership]:
    """Every role the user holds, for the association switcher."""
    with UNSCOPED_BYPASS("list the signed-in user's own memberships"):
        return list(
            db.session.scalars(
                select(Membership)
                .where(Membership.user_id == user_id)
                .order_by(Membership.association_id)
            )
        )
