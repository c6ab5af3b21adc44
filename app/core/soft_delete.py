"""Soft deletion for the registers: a deleted row keeps its data for a grace period (restorable by
the secretary), and every ORM query of the app leaves it out unless it asks for deleted rows.

`hide_deleted` adds `deleted_at IS NULL` for every `SoftDeleteMixin` entity of a SELECT — selected,
joined (in the ON clause of an outer join) or in a subquery — so lists, searches, figures and
exports count only live rows without each of them saying so. Relationship loads and writes are
left alone (a live row pointing at a deleted one still loads it; a bulk update reaches both).

Rows that hang off a deleted row (a member's sign-ups, charges, volunteer hours …) are hidden with
it: a domain registers the condition "my owner is not deleted" with `hide_with_owner`, and every
SELECT of that entity gets it too (one NOT EXISTS on the owner's primary key or unique key, so a
list page runs no extra query). Restoring the owner brings them back; nothing is touched.
Queries for the deleted rows themselves (the "recently deleted" page, restore, the purge job)
pass `execution_options(include_deleted=True)`; a person's own data download, which must be
complete while her record is restorable, runs inside `including_deleted(session)`.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import ColumnElement, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, with_loader_criteria

from app.core.models import UTCDateTime

# How long a deleted member or household can be restored before the purge job erases it.
RESTORABLE_FOR = timedelta(days=30)
INCLUDE_DELETED = {"include_deleted": True}


class SoftDeleteMixin:
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    @property
    def restorable_until(self) -> datetime | None:
        return self.deleted_at + RESTORABLE_FOR if self.deleted_at is not None else None


# Entity → a lambda of its class giving "its owner is live", registered by the domains.
_OWNED: dict[type, Callable[[type], ColumnElement[bool]]] = {}


def hide_with_owner(entity: type, owner_is_live: Callable[[type], ColumnElement[bool]]) -> None:
    """Hide `entity`'s rows from every SELECT while their owner is deleted. `owner_is_live` is a
    lambda of the entity's class (so aliases get it too) that must read the owner's table, not
    its ORM class: the criterion below would otherwise hide the deleted owner it looks for."""
    _OWNED[entity] = owner_is_live
    _hiding_options.cache_clear()


@lru_cache(maxsize=1)
def _hiding_options() -> tuple:
    """The options every SELECT gets, built once (they hold no per-statement value): a page
    runs them on each of its queries, and building nine lambda criteria each time showed in
    the member list's profile."""
    return (
        with_loader_criteria(
            SoftDeleteMixin,
            lambda cls: cls.deleted_at.is_(None),
            include_aliases=True,
            propagate_to_loaders=False,
        ),
        *(
            with_loader_criteria(entity, owner_is_live, include_aliases=True)
            for entity, owner_is_live in _OWNED.items()
        ),
    )


def hide_deleted(state: ORMExecuteState) -> None:
    if (
        not state.is_select
        or state.is_column_load
        or state.is_relationship_load
        or state.execution_options.get("include_deleted")
        or state.session.info.get("include_deleted")
    ):
        return
    state.statement = state.statement.options(*_hiding_options())


@contextmanager
def including_deleted(session: Session) -> Iterator[None]:
    """Every SELECT of `session` inside the block sees deleted rows and what hangs off them."""
    before = session.info.get("include_deleted", False)
    session.info["include_deleted"] = True
    try:
        yield
    finally:
        session.info["include_deleted"] = before


def install(session_class: type[Session]) -> None:
    event.listen(session_class, "do_orm_execute", hide_deleted)
