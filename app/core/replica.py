"""Reads that can wait, from a read-only replica of the database.

With `DATABASE_REPLICA_URL` set (a PostgreSQL hot standby, in deploy/ through HAProxy's
read-only port), the pages wrapped in `reads_from_replica` (dashboards, exports, the summed
reports: see the blueprints' URL maps) run their queries there; everything else, and every write
these pages make (their audit rows), stays on the primary. Without it everything uses the
primary, as before.

What keeps it safe:
- The access check runs on the primary: tenants.resolver decides who may read what in
  `before_request`, before the view (and so before the switch) runs. A membership revoked a
  second ago is revoked, whatever the replica has replayed.
- Read your own writes: after a user's successful change in an association, their next reads
  stay on the primary for `REPLICA_MAX_LAG_SECONDS`; a replica further behind than that is not
  used at all. A secretary who submits a report and opens the summary sees her report.
- A replica that cannot be reached is skipped for `REPLICA_RETRY_SECONDS` (one failed connect,
  bounded by a 2-second timeout, not one per request); the page reads the primary meanwhile.
- Its transactions are read-only (`BEGIN READ ONLY`, as a standby's are anyway), so the
  row-level-security scope works there without a sequence (tenants/rls.py), one scope per
  transaction: a view that changes scope starts a new read-only transaction on the replica.
"""

import time
from collections.abc import Callable
from functools import wraps

import sqlalchemy as sa
from flask import Flask, current_app, g, request, session
from flask_babel import format_decimal
from flask_babel import gettext as _
from markupsafe import Markup

from app.core.clock import utcnow
from app.extensions import REPLICA_BIND, db, reading_replica

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PRIMARY_UNTIL = "primary_until"  # the session key: reads stay on the primary until then
# Seconds the replica is behind: 0 when it has replayed all it received (an idle primary sends
# nothing, so the time since the last replayed commit would grow without any lag), otherwise
# the time since the last commit it replayed. On a primary (a replica URL pointing at one, as in
# the tests) both functions answer NULL: no lag.
LAG_SQL = sa.text(
    "SELECT CASE WHEN NOT pg_is_in_recovery() "
    "OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END"
)

_unreachable_until = 0.0  # per process: monotonic time before which the replica is not tried


def configure(app: Flask) -> None:
    """Before db.init_app: the replica becomes Flask-SQLAlchemy's bind `replica`."""
    url = app.config.get("DATABASE_REPLICA_URL")
    if not url:
        return
    if not url.startswith("postgresql"):
        raise RuntimeError("DATABASE_REPLICA_URL must be a PostgreSQL standby")
    app.config["SQLALCHEMY_BINDS"] = {
        **app.config.get("SQLALCHEMY_BINDS", {}),
        REPLICA_BIND: {
            "url": url,
            # psycopg begins every transaction READ ONLY: a write that strays here fails loudly.
            "execution_options": {"postgresql_readonly": True},
            "connect_args": {"connect_timeout": 2},
        },
    }


def init_app(app: Flask) -> None:
    app.after_request(_remember_writes)
    app.add_template_global(replica_note)


def replica_note() -> Markup | str:
    """For a page's "figures as of" line: that it was read from the replica, and how far behind."""
    lag = g.get("replica_lag")
    if lag is None:
        return ""
    if lag < 1:
        text = _("Read from a replica, up to date.")
    else:
        text = _("Read from a replica, %(seconds)s s behind.", seconds=format_decimal(round(lag)))
    return Markup('<span class="replica-note" data-testid="replica-note">%s</span>') % text


def _remember_writes(response):
    # A change to an association's records (every such page is under /a/<slug>/); signing in
    # writes too, but nothing the replica's pages show.
    wrote = request.method not in SAFE_METHODS and response.status_code < 400
    if (
        wrote
        and g.get("association") is not None
        and current_app.config.get("DATABASE_REPLICA_URL")
    ):
        lag_allowed = current_app.config["REPLICA_MAX_LAG_SECONDS"]
        session[PRIMARY_UNTIL] = utcnow().timestamp() + lag_allowed
    return response


def reads_from_replica(view: Callable) -> Callable:
    """Wrap a read-only view (in a blueprint's URL map) so its queries may use the replica."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not _replica_usable():
            return view(*args, **kwargs)
        token = reading_replica.set(True)
        try:
            return view(*args, **kwargs)
        finally:
            reading_replica.reset(token)

    return wrapper


def _replica_usable() -> bool:
    """Whether this request may read the replica; sets g.replica_lag (seconds) when it does."""
    global _unreachable_until
    config = current_app.config
    if not config.get("DATABASE_REPLICA_URL") or request.method not in SAFE_METHODS:
        return False
    if session.get(PRIMARY_UNTIL, 0) > utcnow().timestamp():
        return False  # this user changed something lately: she reads the primary
    if time.monotonic() < _unreachable_until:
        return False
    try:
        with db.engines[REPLICA_BIND].connect() as connection:
            lag = float(connection.execute(LAG_SQL).scalar_one())
    except sa.exc.OperationalError:
        current_app.logger.warning("replica unreachable: reading the primary", exc_info=True)
        _unreachable_until = time.monotonic() + config["REPLICA_RETRY_SECONDS"]
        return False
    if lag > config["REPLICA_MAX_LAG_SECONDS"]:
        current_app.logger.warning("replica %.1f s behind: reading the primary", lag)
        return False
    g.replica_lag = lag
    return True
