"""Renewing `users.roles_stamp`: every commit that grants, changes or removes a role gives its
users a new random stamp in the same transaction.

tenants/access.py keeps each user's access per association in every worker under her stamp,
which the session check reads with her at the start of each request: a role granted or taken
away counts from the next request on, in every worker. The stamp is written as the last
statement before COMMIT, so the user's row is locked only while committing.
"""

from sqlalchemy import event, inspect, update
from sqlalchemy.orm import ORMExecuteState, Session

from app.accounts.models import User
from app.core.models import after_transaction
from tenants.models import Membership, new_stamp

CHANGED_KEY = "roles_changed_users"
EVERY_USER = "every user"  # a bulk statement whose users are unknown


def _changed(session: Session) -> set:
    return session.info.setdefault(CHANGED_KEY, set())


def _note_flushed_changes(session: Session, flush_context) -> None:
    for membership in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(membership, Membership):
            continue
        # A membership handed to another user changes the roles of both.
        history = inspect(membership).attrs.user_id.history
        users = {membership.user_id, *history.deleted} - {None}
        if users:
            _changed(session).update(users)


def _note_bulk_statement(state: ORMExecuteState) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and any(
        issubclass(mapper.class_, Membership) for mapper in state.all_mappers
    ):
        _changed(state.session).add(EVERY_USER)


def _renew_before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()  # the last changes are noted by their flush
    changed = session.info.pop(CHANGED_KEY, None)
    if not changed:
        return
    statement = update(User).values(roles_stamp=new_stamp())
    if EVERY_USER not in changed:
        statement = statement.where(User.id.in_(sorted(changed)))
    # Core, on the session's connection: bookkeeping, not a change for the audit log.
    session.connection().execute(statement)


def _forget_changes(session: Session) -> None:
    session.info.pop(CHANGED_KEY, None)


_installed = False


def install(session_class: type[Session]) -> None:
    global _installed
    if _installed:
        return
    event.listen(session_class, "after_flush", _note_flushed_changes)
    event.listen(session_class, "do_orm_execute", _note_bulk_statement)
    event.listen(session_class, "before_commit", _renew_before_commit)
    after_transaction(session_class, committed=_forget_changes, rolled_back=_forget_changes)
    _installed = True
