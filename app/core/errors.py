"""Friendly error pages in the user's language; tenant violations answer 403, never 500."""

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import db
from tenants.context import TenantContextMissing, TenantWriteDenied

MESSAGES = {
    400: _l("The request could not be understood. Please go back and try again."),
    403: _l("You do not have permission to do this."),
    404: _l("We could not find this page."),
    405: _l("This action is not available here."),
    410: _l("This link is no longer valid."),
    413: _l("The file or form is too large."),
    422: _l("Some of the information entered is not valid."),
    423: _l("This association has been suspended. Please contact the platform operator."),
    429: _l("Too many attempts. Please wait a minute and try again."),
    500: _l("Something went wrong on our side. It has been logged; please try again later."),
}


def render_error(code: int, message=None):
    db.session.rollback()
    body = render_template(
        "errors/error.html", code=code, message=message or MESSAGES.get(code, MESSAGES[500])
    )
    return body, code


def _http_error(error: HTTPException):
    return render_error(error.code or 500)


def _csrf_error(error: CSRFError):
    return render_error(
        400,
        _l(
            "The form had expired or came from elsewhere. Please reload the "
            "page and submit it again."
        ),
    )


def _tenant_write_denied(error: TenantWriteDenied):
    return render_error(403)


def _server_error(error: Exception):
    return render_error(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(TenantWriteDenied, _tenant_write_denied)
    app.register_error_handler(TenantContextMissing, _server_error)
    app.register_error_handler(500, _server_error)
