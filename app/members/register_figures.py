"""The figures above the member list — live and active members, households, central and linked
households, pending household moves and the tags in use — kept per association in each worker
process.

They cost four queries (a pass over the association's members and one over its households among
them) and change only when its register does, while the list is read far more often than the
register is written. An entry is keyed by the association and its `register_stamp` (read with
the association at the start of every request, so checking it costs no query): every commit that
changes a member, a household or a move request of an association — row by row or in bulk —
gives the association a new random stamp in the same transaction, and the next request anywhere
computes the figures afresh. A request computes them after reading the stamp, so an entry is
never older than its key. The stamp is written as the last statement before COMMIT: concurrent
writers of one association wait for each other only while committing.
"""

from dataclasses import dataclass

from sqlalchemy.orm import ORMExecuteState, Session

from app.core.stamps import EVERY, StampRenewal
from app.members import moves, search, services
from app.members.models import Household, HouseholdMoveRequest, Member
from tenants.context import TenantScope, current_scope
from tenants.models import Association

# What the figures are computed from: a change to any of these renews the stamp.
SOURCES = (Member, Household, HouseholdMoveRequest)
RENEWAL = StampRenewal("register_changed_associations", Association.register_stamp)
MAX_ENTRIES = 10_000  # associations kept per process (a few hundred bytes each)


@dataclass(frozen=True)
class RegisterFigures:
    members: int  # live members, whatever their status: the unfiltered list's total
    active_members: int
    households: int
    central_households: int
    linked_households: int
    pending_moves: int
    tags: tuple[str, ...]  # the 五老 categories first, then every other tag in use


_entries: dict[int, tuple[str, RegisterFigures]] = {}


def figures_of(association: Association) -> RegisterFigures:
    """The figures of `association`, which must be the current tenant scope's own (not a
    subtree): from this process's cache when its stamp has not moved, else computed."""
    scope = current_scope()
    if not (
        isinstance(scope, TenantScope)
        and scope.association_id == association.id
        and not scope.subtree
    ):
        raise ValueError("register figures are read in the association's own scope")
    stamp = association.register_stamp
    kept = _entries.get(association.id)
    if kept is not None and stamp is not None and kept[0] == stamp:
        return kept[1]
    figures = _compute()
    if stamp is not None:
        if len(_entries) >= MAX_ENTRIES:
            _entries.pop(next(iter(_entries), None), None)
        _entries[association.id] = (stamp, figures)
    return figures


def _compute() -> RegisterFigures:
    members, active_members = search.member_totals()
    households = services.household_counts()
    return RegisterFigures(
        members=members,
        active_members=active_members,
        households=households["households"],
        central_households=households["central_households"],
        linked_households=households["linked_households"],
        pending_moves=moves.pending_count() or 0,
        tags=tuple(search.tags_in_use()),
    )


# --- renewing the stamp ------------------------------------------------------------------------


def _note_flushed_changes(session: Session, flush_context) -> None:
    changed = None
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, SOURCES) and obj.association_id is not None:
            changed = changed if changed is not None else RENEWAL.noted(session)
            changed.add(obj.association_id)


def _note_bulk_statement(state: ORMExecuteState) -> None:
    """Bulk statements skip the flush. Under a tenant scope the write guard confines them to
    the scope's association; otherwise an INSERT names its associations in its rows, and an
    UPDATE or DELETE may have reached any association."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    if not any(issubclass(mapper.class_, SOURCES) for mapper in state.all_mappers):
        return
    changed = RENEWAL.noted(state.session)
    scope = current_scope()
    if isinstance(scope, TenantScope):
        changed.add(scope.association_id)
        return
    rows = state.parameters if isinstance(state.parameters, list) else [state.parameters or {}]
    ids = {row.get("association_id") for row in rows}
    if state.is_insert and None not in ids:
        changed.update(ids)
    else:
        changed.add(EVERY)


def install(session_class: type[Session]) -> None:
    RENEWAL.install(session_class, _note_flushed_changes, _note_bulk_statement)
