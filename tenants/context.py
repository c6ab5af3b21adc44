"""The tenant context: which association a piece of work runs for and what it may touch.

Set once per request by tenants.resolver (or explicitly by CLI commands and jobs) and read by
the ORM listeners in tenants.scoping. Stored in a ContextVar so services need no flask.g.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace

from tenants.models import Association


class TenantContextMissing(RuntimeError):
    """A tenant table was queried with no tenant context: fail closed."""


class TenantWriteDenied(PermissionError):
    """A write outside the association the context may write to."""


@dataclass(frozen=True)
class TenantScope:
    association_id: int
    path: str
    writable: bool
    subtree: bool = False  # reads widened from the association to its whole subtree


@dataclass(frozen=True)
class Bypass:
    reason: str


_current: ContextVar[TenantScope | Bypass | None] = ContextVar("tenant_scope", default=None)


def current_scope() -> TenantScope | Bypass | None:
    return _current.get()


def scope_for(association: Association, *, writable: bool) -> TenantScope:
    return TenantScope(association_id=association.id, path=association.path, writable=writable)


@contextmanager
def tenant_context(scope: TenantScope | Bypass | None) -> Iterator[None]:
    token = _current.set(scope)
    try:
        yield
    finally:
        _current.reset(token)


def set_request_scope(scope: TenantScope | None) -> None:
    """For the request lifecycle, which resets it in teardown (see tenants.resolver)."""
    _current.set(scope)


@contextmanager
def subtree_reads() -> Iterator[None]:
    """Widen reads to the current association's whole subtree (roll-ups, audits)."""
    scope = _current.get()
    if not isinstance(scope, TenantScope):
        raise TenantContextMissing("subtree_reads() needs a tenant scope")
    with tenant_context(replace(scope, subtree=True)):
        yield


@contextmanager
def UNSCOPED_BYPASS(reason: str) -> Iterator[None]:  # noqa: N802 - loud on purpose
    """Run queries on tenant tables unscoped. Each use names why; grep for it in reviews."""
    if not reason:
        raise ValueError("say why the tenant scope is bypassed")
    with tenant_context(Bypass(reason)):
        yield
