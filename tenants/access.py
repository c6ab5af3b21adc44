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


# (user, association, its path and creation time, the user's roles stamp) → (own role, id of
# the association giving oversight). The stamp is renewed by every commit that changes the
# user's roles (app/accounts/roles_stamp.py) and read with her session record, the path names
# every ancestor, and the creation time tells a new association from a deleted one whose id
# SQLite gave again (its memberships went by the database's cascade, which renews no stamp):
# a changed role, a moved or a new association is a new key, so an entry is never stale.
# Kept per worker: the request then enters its tenant scope once, for the page, instead of
# entering the bypass for this lookup first.
_known: dict[tuple, tuple[Role | None, int | None]] = {}
MAX_KNOWN = 20_000


def access_for(
    user_id: int | None, association: Association, roles_stamp: str | None = None
) -> Access:
    """The user's access, from this worker's memory when her roles stamp has not moved (the
    association giving oversight is loaded by its id: no scope needed), else from one indexed
    query of her memberships on the association's path from the root."""
    if user_id is None:
        return Access(association, None, None)
    key = (user_id, association.id, association.path, association.created_at, roles_stamp)
    known = _known.get(key) if roles_stamp is not None else None
    if known is not None:
        own_role, oversight_id = known
        oversight_from = (
            db.session.get(Association, oversight_id) if oversight_id is not None else None
        )
        return Access(association, own_role, oversight_from)
    access = _read_access(user_id, association)
    if roles_stamp is not None:
        if len(_known) >= MAX_KNOWN:
            _known.pop(next(iter(_known), None), None)
        oversight_id = access.oversight_from.id if access.oversight_from is not None else None
        _known[key] = (access.own_role, oversight_id)
    return access


def _read_access(user_id: int, association: Association) -> Access:
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
