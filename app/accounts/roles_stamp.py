"""Renewing `users.roles_stamp`: every commit that grants, changes or removes a role gives its
users a new random stamp in the same transaction.

tenants/access.py keeps each user's access per association in every worker under her stamp,
which the session check reads with her at the start of each request: a role granted or taken
away counts from the next request on, in every worker. The stamp is written as the last
statement before COMMIT, so the user's row is locked only while committing.
"""

from sqlalchemy import inspect
from sqlalchemy.orm import ORMExecuteState, Session

from app.accounts.models import User
from app.core.stamps import EVERY, StampRenewal
from tenants.models import Membership

RENEWAL = StampRenewal("roles_changed_users", User.roles_stamp)


def _note_flushed_changes(session: Session, flush_context) -> None:
    for membership in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(membership, Membership):
            continue
        # A membership handed to another user changes the roles of both.
        history = inspect(membership).attrs.user_id.history
        users = {membership.user_id, *history.deleted} - {None}
        if users:
            RENEWAL.noted(session).update(users)


def _note_bulk_statement(state: ORMExecuteState) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and any(
        issubclass(mapper.class_, Membership) for mapper in state.all_mappers
    ):
        RENEWAL.noted(state.session).add(EVERY)


def install(session_class: type[Session]) -> None:
    RENEWAL.install(session_class, _note_flushed_changes, _note_bulk_statement)
