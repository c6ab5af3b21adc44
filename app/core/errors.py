"""Friendly error pages in the user's language; tenant violations answer 403, never 500."""

from flask import Flask, current_app, g, render_template, request, session
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from app.extensions import db
from tenants.context import TenantContextMissing, TenantWriteDenied

DATABASE_RESTARTING = _l(
    "The service is briefly unavailable (the database is restarting). "
    "Please try again in a few seconds."
)
BRIEFLY_UNAVAILABLE = _l("The service is briefly unavailable. Please try again in a few seconds.")
try:  # Redis is optional (pip install .[redis]); without it nothing raises its errors
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    REDIS_FAILURES: tuple = (RedisConnectionError, RedisTimeoutError)
except ImportError:  # pragma: no cover - the redis extra is not installed
    REDIS_FAILURES = ()

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
    # Failures after the view (the commit at the edge, saving the session to the database or
    # Redis) never reach the handlers by type: Flask hands them here wrapped in a 500. (Loading
    # the session is answered by the stores themselves: app/accounts/session_store.py.)
    original = getattr(error, "original_exception", None)
    if isinstance(original, REDIS_FAILURES):
        return _redis_unavailable(original)
    if isinstance(original, DBAPIError) and _lost_the_database(original):
        return _database_unavailable(original)
    return render_error(500)


def too_large_page():
    """What nginx shows (error_page 413, deploy/nginx/xiehui.conf) when it refuses an oversize
    body before the app sees it: the app's own page, in the user's language."""
    return render_error(413)


def _database_unavailable(error: OperationalError):
    """The database is down or restarting (or dropped the connection): a 503 the browser may
    retry, rendered without touching the database — the usual error page needs the signed-in
    user, which needs the database. Other operational errors (e.g. SQLite's "database is
    locked") go on as before: logged with their traceback, then the 500 page."""
    if not isinstance(error, DBAPIError) or not _lost_the_database(error):
        raise error
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone; the pool replaces it
        current_app.logger.debug("rollback after a lost connection failed", exc_info=True)
    current_app.logger.warning("database unavailable for %s: %s", request.path, error.orig)
    return _unavailable_page(DATABASE_RESTARTING)


def _redis_unavailable(error: Exception):
    """Redis (sessions, the login limiter, the job queue: deploy/redis/) cannot be reached: the
    same retryable 503, not a 500 (bench/topology_drill.py, Redis killed). Nothing the user
    did is lost: the session comes back with Redis (append-only file)."""
    current_app.logger.warning("redis unavailable for %s: %s", request.path, error)
    return _unavailable_page(BRIEFLY_UNAVAILABLE)


def _unavailable_page(message):
    """The 503 page, rendered without the database (the usual error page needs the signed-in
    user, which needs the database) and without a session if none could be loaded."""
    try:
        chosen = session.get("locale")
    except (AssertionError, AttributeError, RuntimeError):  # the session could not be loaded
        chosen = None
    locale = (
        chosen
        if chosen in current_app.config["LANGUAGES"]
        else current_app.config["BABEL_DEFAULT_LOCALE"]
    )
    # Flask-Login's template context loads the user from the database unless one is known.
    g._login_user = current_app.login_manager.anonymous_user()
    with force_locale(locale):
        body = render_template(
            "errors/unavailable.html",
            lang={"zh_Hans_CN": "zh-CN"}.get(locale, locale),
            message=str(message),
        )
    return body, 503, {"Retry-After": "5"}


def _lost_the_database(error: DBAPIError) -> bool:
    return error.connection_invalidated or _is_connection_failure(error)


def _is_connection_failure(error: DBAPIError) -> bool:
    """psycopg's failures to connect or lost connections, PgBouncer's when the server behind it
    is gone; SQLite's 'unable to open'."""
    text = str(error.orig).lower()
    return any(
        marker in text
        for marker in (
            "connection failed",
            "terminating connection",
            "server closed the connection",
            "connection refused",
            "the database system is",
            "unable to open database",
            # PgBouncer (deploy/pgbouncer/): its server connection died mid-transaction (the
            # Patroni leader was lost), or it cannot reach a server yet.
            "server conn crashed",
            "pgbouncer cannot connect to server",
            "server login has been failing",
            "query_wait_timeout",
        )
    )


def init_app(app: Flask) -> None:
    app.register_error_handler(OperationalError, _database_unavailable)
    for failure in REDIS_FAILURES:
        app.register_error_handler(failure, _redis_unavailable)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(TenantWriteDenied, _tenant_write_denied)
    app.register_error_handler(TenantContextMissing, _server_error)
    app.register_error_handler(500, _server_error)
    app.add_url_rule("/errors/too-large", "errors.too_large", too_large_page, methods=["GET"])
