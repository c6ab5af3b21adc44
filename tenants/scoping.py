"""ORM listeners that scope every query on tenant tables and guard every write to them.

Reads: `do_orm_execute` adds `with_loader_criteria(TenantMixin, …)` to every SELECT, UPDATE and
DELETE that touches a tenant table, so a view cannot forget the filter; with no tenant context
the query raises instead of returning everything. Writes: `before_flush` stamps new rows with
the context's association and refuses writes outside the association the context may write to,
and rows whose tenant-owned relations point into another association.
"""

from functools import lru_cache
from weakref import WeakKeyDictionary

from sqlalchemy import event, select
from sqlalchemy.orm import Mapper, ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.sql import visitors

from app.extensions import db
from tenants.context import (
    Bypass,
    TenantContextMissing,
    TenantScope,
    TenantWriteDenied,
    current_scope,
)
from tenants.models import Association, TenantMixin
from tenants.tree import subtree_bounds


# The criteria are built once per association (or subtree) and reused: they are immutable, and
# building one (a lambda analysed for its closure) on every statement showed in the profiles.
@lru_cache(maxsize=4096)
def _association_only(association_id: int):
    return with_loader_criteria(
        TenantMixin,
        lambda cls: cls.association_id == association_id,
        include_aliases=True,
    )


@lru_cache(maxsize=1024)
def _whole_subtree(low: str, high: str):
    return with_loader_criteria(
        TenantMixin,
        lambda cls: cls.association_id.in_(
            select(Association.id).where(Association.path >= low, Association.path < high)
        ),
        include_aliases=True,
    )


# Statements are immutable, and the ones run before a tenant scope exists (the session check,
# the association by its slug) are built once: walking their tree on every request showed in
# the member list's profile.
_touches_by_statement: WeakKeyDictionary = WeakKeyDictionary()


def _touches_tenant_table(state: ORMExecuteState) -> bool:
    """Whether a tenant table appears anywhere in the statement: selected, joined, or in a
    subquery (`all_mappers` names only the selected entities)."""
    statement = state.statement
    known = _touches_by_statement.get(statement)
    if known is None:
        known = _touches_by_statement[statement] = any(
            issubclass(mapper.class_, TenantMixin) for mapper in state.all_mappers
        ) or any(
            getattr(element, "__visit_name__", "") == "table" and element in _tenant_tables()
            for element in visitors.iterate(statement)
        )
    return known


@lru_cache(maxsize=1)
def _tenant_tables() -> frozenset:
    """The tenant tables, worked out again only after a model is added (below)."""
    return frozenset(
        mapper.local_table
        for mapper in db.Model.registry.mappers
        if issubclass(mapper.class_, TenantMixin)
    )


@event.listens_for(Mapper, "after_mapper_constructed")
def _forget_tenant_tables(mapper: Mapper, class_: type) -> None:
    _tenant_tables.cache_clear()
    _touches_by_statement.clear()


def scope_query(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete) or state.is_column_load:
        return
    scope = current_scope()
    if isinstance(scope, Bypass):
        return
    if scope is None:
        if _touches_tenant_table(state):
            raise TenantContextMissing("query on a tenant table outside any tenant context")
        return
    # Always added under a scope: the criteria reach every tenant entity of the statement,
    # joined or in a subquery too, and cost nothing where there is none.
    if scope.subtree:
        criteria = _whole_subtree(*subtree_bounds(scope.path))
    else:
        criteria = _association_only(scope.association_id)
    state.statement = state.statement.options(criteria)


def _check_same_association(obj: TenantMixin) -> None:
    mapper = obj.__mapper__
    for relationship in mapper.relationships:
        if relationship.uselist or not issubclass(relationship.mapper.class_, TenantMixin):
            continue
        related = obj.__dict__.get(relationship.key)
        if related is not None and related.association_id != obj.association_id:
            raise TenantWriteDenied(
                f"{type(obj).__name__}.{relationship.key} belongs to another association"
            )


def guard_writes(session: Session, flush_context, instances) -> None:
    scope = current_scope()
    if isinstance(scope, Bypass):
        return
    for obj in session.new:
        if not isinstance(obj, TenantMixin):
            continue
        if obj.tenant_append_only:
            if obj.association_id is None and scope is not None:
                obj.association_id = scope.association_id
            continue
        if scope is None:
            raise TenantContextMissing(f"insert of {type(obj).__name__} with no tenant context")
        if obj.association_id is None:
            obj.association_id = scope.association_id
        _require_writable(scope, obj)
        _check_same_association(obj)
    for obj in list(session.dirty) + list(session.deleted):
        if not isinstance(obj, TenantMixin):
            continue
        if obj.tenant_append_only:
            raise TenantWriteDenied(f"{type(obj).__name__} rows are append-only")
        if scope is None:
            raise TenantContextMissing(f"change to {type(obj).__name__} with no tenant context")
        _require_writable(scope, obj)
        _check_same_association(obj)


def _require_writable(scope: TenantScope, obj: TenantMixin) -> None:
    if not scope.writable or obj.association_id != scope.association_id:
        raise TenantWriteDenied(
            f"{type(obj).__name__} of association {obj.association_id} is not writable here"
        )


_installed = False


def install(session_class: type[Session]) -> None:
    """Register the listeners once per process on the session class the app uses."""
    global _installed
    if _installed:
        return
    event.listen(session_class, "do_orm_execute", scope_query)
    event.listen(session_class, "before_flush", guard_writes)
    _installed = True
