"""The view lifecycle shared by every blueprint: access checks, htmx-aware rendering, commit."""

import functools
from collections.abc import Callable

from flask import Flask, Response, abort, g, render_template
from flask_htmx import make_response as htmx_response

from app.core.audit import record_denial
from app.core.urls import template_url_for
from app.extensions import db, htmx
from tenants.access import Access


def require(check: Callable[[Access], bool], reason: str = "role"):
    """Guard a tenant view: the resolver has set g.access; refuse with 403 (logged) otherwise."""

    def decorate(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            access: Access | None = g.get("access")
            if access is None:
                abort(404)
            if not check(access):
                record_denial(association_id=access.association.id, reason=reason)
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return decorate


can_read = require(lambda access: access.can_read, "read")
can_read_registers = require(lambda access: access.can_read_registers, "read registers")
can_write = require(lambda access: access.can_write, "write")
secretary_only = require(lambda access: access.is_secretary, "secretary only")


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def private_download(data: bytes, filename: str, mimetype: str = XLSX) -> Response:
    """A file of protected data as an attachment that no browser or proxy keeps a copy of."""
    return Response(
        data,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def render(template: str, *, fragment: str | None = None, status: int = 200, **context):
    """The whole page, or only `fragment` for an htmx request that is not a history restore."""
    name = fragment if fragment and htmx and not htmx.history_restore_request else template
    response = htmx_response(render_template(name, **context))
    response.status_code = status
    response.vary.add("HX-Request")
    return response


def invalid_form(template: str, **context):
    """A form with errors: re-rendered with its messages, 422 so nothing downstream treats it as
    a success; the transaction is rolled back by the request lifecycle."""
    return render(template, status=422, **context)


def _finish_transaction(response):
    """One commit per request, at the edge: success commits, anything else rolls back."""
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def init_app(app: Flask) -> None:
    app.after_request(_finish_transaction)
    app.jinja_env.globals["url_for"] = template_url_for
