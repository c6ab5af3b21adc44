"""URL → association: every `/a/<slug>/…` route runs in the tenant context of that association.

The slug is taken off the view arguments before any view runs, the association is loaded, the
signed-in user's access to it is computed once, and the tenant scope is set for the request.
An association the user may not read answers 404, so its existence is not revealed.
"""

import re
from functools import lru_cache

from flask import Flask, abort, current_app, g, request
from flask_login import current_user
from sqlalchemy import Select, bindparam, select
from werkzeug.routing import Map

from app.core.audit import record_denial
from app.extensions import db, login_manager
from tenants.access import access_for
from tenants.context import TenantScope, set_request_scope
from tenants.models import Association

SLUG_ARG = "slug"
SLUG_SHAPE = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


def _take_slug(endpoint: str | None, values: dict | None) -> None:
    if values and SLUG_ARG in values:
        g.association_slug = values.pop(SLUG_ARG)


def _default_slug(endpoint: str, values: dict) -> None:
    association = g.get("association")
    if association is None or SLUG_ARG in values:
        return
    if _expects_slug(current_app.url_map, endpoint):
        values[SLUG_ARG] = association.slug


@lru_cache(maxsize=2048)
def _expects_slug(url_map: Map, endpoint: str) -> bool:
    """Asked for every URL a page builds (dozens); the URL map does not change once serving."""
    return url_map.is_endpoint_expecting(endpoint, SLUG_ARG)


def resolve_association() -> None:
    slug = g.pop("association_slug", None)
    if slug is None:
        return
    if not SLUG_SHAPE.match(slug):
        abort(404)
    association = db.session.scalar(_association_by_slug(), {"slug": slug})
    if association is None:
        abort(404)
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    access = access_for(current_user.id, association, getattr(current_user, "roles_stamp", None))
    if not access.can_read:
        record_denial(association_id=association.id, reason="no access to association")
        abort(404)
    g.association = association
    g.access = access
    # A suspended association (and its subtree) stays readable with a notice; nothing changes.
    suspended = association.suspended_at is not None
    set_request_scope(
        TenantScope(
            association_id=association.id,
            path=association.path,
            writable=access.can_write and not suspended,
        )
    )
    if suspended and request.method not in ("GET", "HEAD", "OPTIONS"):
        abort(423)


@lru_cache(maxsize=1)
def _association_by_slug() -> Select:
    """Built once: the statement runs on every request of a tenant page."""
    return select(Association).where(Association.slug == bindparam("slug"))


def _clear_scope(exc: BaseException | None) -> None:
    set_request_scope(None)


def init_app(app: Flask) -> None:
    app.url_value_preprocessor(_take_slug)
    app.url_defaults(_default_slug)
    app.before_request(resolve_association)
    app.teardown_request(_clear_scope)
