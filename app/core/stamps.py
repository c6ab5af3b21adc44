"""A stamp renewed in the transaction of a change: a random value on a row (an association's
`register_stamp`, a user's `roles_stamp`) under which each worker keeps what it computed from
other rows (app/members/register_figures.py, tenants/access.py). A module notes, at flush and
for bulk statements, which rows' stamps a change renews; they are renewed by one UPDATE, the
last statement before COMMIT, so the stamped rows are locked only while committing.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import event, update
from sqlalchemy.orm import InstrumentedAttribute, ORMExecuteState, Session

from app.core.models import after_transaction
from tenants.models import new_stamp

EVERY = "every row"  # noted by a bulk statement whose rows are unknown
_installed: set[str] = set()  # the renewals' keys, listening already (an app per test)


@dataclass(frozen=True)
class StampRenewal:
    key: str  # where the session notes the ids whose stamps to renew
    stamp: InstrumentedAttribute  # e.g. Association.register_stamp

    def noted(self, session: Session) -> set:
        return session.info.setdefault(self.key, set())

    def install(
        self,
        session_class: type[Session],
        note_flushed: Callable[[Session, object], None],
        note_bulk: Callable[[ORMExecuteState], None],
    ) -> None:
        if self.key in _installed:
            return
        _installed.add(self.key)
        event.listen(session_class, "after_flush", note_flushed)
        event.listen(session_class, "do_orm_execute", note_bulk)
        event.listen(session_class, "before_commit", self._renew_before_commit)
        after_transaction(session_class, committed=self._forget, rolled_back=self._forget)

    def _renew_before_commit(self, session: Session) -> None:
        if session.in_nested_transaction():
            return
        session.flush()  # the last changes are noted by their flush
        changed = session.info.pop(self.key, None)
        if not changed:
            return
        model = self.stamp.class_
        statement = update(model).values({self.stamp.key: new_stamp()})
        if EVERY not in changed:
            statement = statement.where(model.id.in_(sorted(changed)))
        # Core, on the session's connection: bookkeeping, not a change the audit log or the
        # dashboards' refresh should see.
        session.connection().execute(statement)

    def _forget(self, session: Session) -> None:
        session.info.pop(self.key, None)
