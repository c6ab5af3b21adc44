"""Notices to account holders: who holds a role in an association (or in those below it), and
one notice per user, written in her language, by her channel (`notify_person`) or to her login,
and kept in her notification centre."""

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from app.accounts.models import User
from app.core import inbox
from app.core.notifications import Person, notify_after_commit, notify_person
from app.extensions import db
from tenants.context import scope_for, subtree_reads, tenant_context
from tenants.models import Association, AssociationKind, Membership, Role


def secretaries_of(association: Association) -> list[User]:
    """The association's secretaries with an active login, in id order."""
    return holders_of(association, (Role.SECRETARY,))


def holders_of(association: Association, roles) -> list[User]:
    """The association's holders of any of `roles` with an active login, in id order."""
    # Memberships first, on their own: the tenant scope applies to the entities a query
    # selects, so `select(User).join(Membership)` would find every association's holders.
    with tenant_context(scope_for(association, writable=False)):
        user_ids = list(
            db.session.scalars(select(Membership.user_id).where(Membership.role.in_(roles)))
        )
    return list(
        db.session.scalars(
            select(User).where(User.id.in_(user_ids), User.disabled_at.is_(None)).order_by(User.id)
        )
    )


def holders_below(
    association: Association,
    roles,
    *,
    children_only: bool = False,
    kind: AssociationKind | None = None,
) -> list[tuple[User, int]]:
    """(user, association id) for the holders of `roles` with an active login in the
    associations below `association` — its whole subtree, or only its direct children, and
    only the associations of `kind` if given — each user once (at the first association she
    holds a role in), in user id order. Read inside the association's own subtree scope, so
    nothing outside it can be found."""
    with tenant_context(scope_for(association, writable=False)), subtree_reads():
        query = select(Membership.user_id, Membership.association_id).where(
            Membership.role.in_(roles), Membership.association_id != association.id
        )
        if children_only:
            query = query.where(
                Membership.association_id.in_(
                    select(Association.id).where(Association.parent_id == association.id)
                )
            )
        if kind is not None:
            query = query.where(
                Membership.association_id.in_(
                    select(Association.id).where(Association.kind == kind)
                )
            )
        held: dict[int, int] = {}
        for user_id, association_id in db.session.execute(
            query.order_by(Membership.association_id, Membership.id)
        ):
            held.setdefault(user_id, association_id)
    users = db.session.scalars(
        select(User).where(User.id.in_(list(held)), User.disabled_at.is_(None)).order_by(User.id)
    )
    return [(user, held[user.id]) for user in users]


def notify_users(users: list[User], write, *, key: str, association_id: int | None) -> None:
    """One notice per user (once per login), in the user's language, by her channel
    (`notify_person`) and in her notification centre; `write()` returns (subject, body);
    `key` names the notice."""
    for user in {user.login: user for user in users}.values():
        with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
            subject, body = write()
        notify_person(
            Person(login=user.login, association_id=association_id, user_id=user.id),
            subject,
            body,
            key=f"{key}:user:{user.id}",
        )


def notify_logins_after_commit(
    users: list[User], write, *, association_id: int | None = None
) -> None:
    """One message per user to her login once the transaction commits (`notify_after_commit`),
    in her language, and kept in her notification centre; `write()` returns (subject, body)."""
    for user in {user.login: user for user in users}.values():
        with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
            subject, body = write()
        notify_after_commit(user.login, subject, body)
        inbox.keep(user.id, subject, body, key=None, association_id=association_id)
