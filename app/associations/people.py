"""People and roles inside one association: changing roles, removing access, disabling a
login (its sessions end at once), and who oversees the association from above."""

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.accounts.models import User
from app.accounts.services import end_all_sessions
from app.accounts.session_records import EndReason
from app.core.audit import record
from app.core.clock import utcnow
from app.core.problems import Problem
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tenants.models import OVERSIGHT_ROLES, Association, Membership, Role
from tenants.tree import subtree_filter


class PeopleError(Problem):
    """A refused change to someone's access; the message is shown to the user."""


def roles_for(association: Association) -> list[Role]:
    """Roles that can be held here: auditors audit what lies below, so not at grassroots."""
    if association.kind.is_grassroots:
        return [Role.SECRETARY, Role.STAFF, Role.MEMBER]
    return [Role.SECRETARY, Role.STAFF, Role.AUDITOR, Role.MEMBER]


def _secretary_count() -> int:
    return db.session.scalar(
        select(func.count(Membership.id)).where(Membership.role == Role.SECRETARY)
    )


def _refuse_own_or_last_secretary(membership: Membership, actor: User) -> None:
    if membership.user_id == actor.id:
        raise PeopleError(_("You cannot change your own access; ask another secretary."))
    if membership.role == Role.SECRETARY and _secretary_count() <= 1:
        raise PeopleError(_("The association must keep at least one secretary."))


def change_role(membership: Membership, role: Role, actor: User) -> None:
    if role not in roles_for(membership.association):
        raise PeopleError(_("This role cannot be held in this association."))
    if role == membership.role:
        return
    _refuse_own_or_last_secretary(membership, actor)
    user = db.session.get(User, membership.user_id)
    membership.role = role
    # The stricter session rules of staff roles apply from the next sign-in: start afresh.
    end_all_sessions(user)
    db.session.flush()


def remove_access(membership: Membership, actor: User) -> None:
    _refuse_own_or_last_secretary(membership, actor)
    user = db.session.get(User, membership.user_id)
    db.session.delete(membership)
    end_all_sessions(user)
    db.session.flush()


def _roles_elsewhere(user_id: int, association: Association) -> int:
    """How many of the user's roles lie outside this association's subtree."""
    with UNSCOPED_BYPASS("a login is disabled only if all its roles are within the subtree"):
        return db.session.scalar(
            select(func.count(Membership.id))
            .join(Association, Association.id == Membership.association_id)
            .where(Membership.user_id == user_id, ~subtree_filter(association.path))
        )


def disable_login(membership: Membership, actor: User) -> User:
    """Disable the person's login altogether: every session of theirs ends on its next request.

    Only for someone whose roles all lie within this association's subtree: a person who also
    works elsewhere keeps their login, and is removed from this association instead."""
    user = db.session.get(User, membership.user_id)
    if user.id == actor.id:
        raise PeopleError(_("You cannot change your own access; ask another secretary."))
    if user.is_platform_admin or _roles_elsewhere(user.id, membership.association):
        raise PeopleError(
            _(
                "%(name)s also has access to other associations. Remove them from this one "
                "instead.",
                name=user.name,
            )
        )
    if membership.role == Role.SECRETARY and _secretary_count() <= 1:
        raise PeopleError(_("The association must keep at least one secretary."))
    if user.disabled_at is None:
        user.disabled_at = utcnow()
        end_all_sessions(user, reason=EndReason.DISABLED)
        record(
            "disable_user",
            association_id=membership.association_id,
            target=user,
            user_id=actor.id,
        )
    db.session.flush()
    return user


def enable_login(membership: Membership, actor: User) -> User:
    user = db.session.get(User, membership.user_id)
    if user.disabled_at is not None:
        if _roles_elsewhere(user.id, membership.association):
            raise PeopleError(_("%(name)s also has access to other associations.", name=user.name))
        user.disabled_at = None
        record(
            "enable_user", association_id=membership.association_id, target=user, user_id=actor.id
        )
    db.session.flush()
    return user


@dataclass(frozen=True)
class Overseer:
    name: str
    role: Role
    association: Association


def overseers_from_above(association: Association) -> list[Overseer]:
    """Who reads this association through a role higher up the tree (one query)."""
    above = association.ancestor_ids[:-1]
    if not above:
        return []
    with UNSCOPED_BYPASS("list who oversees this association from the associations above"):
        rows = db.session.execute(
            select(User.name, Membership.role, Association)
            .join(Membership, Membership.user_id == User.id)
            .join(Association, Association.id == Membership.association_id)
            .where(
                Membership.association_id.in_(above),
                Membership.role.in_(OVERSIGHT_ROLES),
                User.disabled_at.is_(None),
            )
            .order_by(Association.depth.desc(), Membership.role, User.name)
        ).all()
    return [Overseer(name, role, overseeing) for name, role, overseeing in rows]
