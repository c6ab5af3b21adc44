"""Flask extensions, created once and bound to the app in create_app()."""

import itertools
from contextvars import ContextVar

from flask.globals import app_ctx
from flask_babel import Babel
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from flask_wtf.csrf import CSRFProtect

from app.core.models import Base

# Set by app/core/replica.py around the views that may read the replica.
reading_replica: ContextVar[bool] = ContextVar("reading_replica", default=False)
REPLICA_BIND = "replica"


class RoutingSession(FlaskSession):
    """db.session: statements go to the replica bind while `reading_replica` is set (see
    app/core/replica.py); flushes, and so every write, always go to the primary."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and reading_replica.get() and not self._flushing:
            return self._db.engines[REPLICA_BIND]
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


_context_numbers = itertools.count()


def _session_scope() -> int:
    """The key of db.session: a number given once to each application context.

    Flask-SQLAlchemy's default key is id() of the context. A context whose teardown fails before
    its session is removed (a rollback raising on a broken connection) leaves the session
    registered under that address, and CPython hands the address to the next context at once:
    that request would run in the dead request's session, transaction and tenant settings."""
    context = app_ctx._get_current_object()
    number = getattr(context, "session_number", None)
    if number is None:
        number = context.session_number = next(_context_numbers)
    return number


db = SQLAlchemy(
    model_class=Base, session_options={"class_": RoutingSession, "scopefunc": _session_scope}
)


def end_session(exc: BaseException | None) -> None:
    """Registered after Flask-SQLAlchemy's own teardown, so it runs first (Flask runs them in
    reverse): the session leaves the registry even when closing it raises, where Flask-SQLAlchemy
    would leave it there, holding its connection, for good."""
    try:
        db.session.remove()
    finally:
        db.session.registry.clear()


migrate = Migrate()
login_manager = LoginManager()
babel = Babel()
htmx = HTMX()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
