"""Application factory: configuration, extensions, tenancy, blueprints, error pages, CLI."""

import os
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from app import cli, extensions, registry
from app.accounts import roles_stamp
from app.accounts import session as account_sessions
from app.accounts.blueprint import bp as accounts_bp
from app.activities.blueprint import bp as activities_bp
from app.admin.blueprint import bp as admin_bp
from app.assessments.blueprint import bp as assessments_bp
from app.associations.blueprint import bp as associations_bp
from app.checklist.blueprint import bp as checklist_bp
from app.config import INSTANCE_DIR, Config, check_production_safety
from app.core import (
    audit,
    errors,
    i18n,
    inbox,
    jobs,
    navigation,
    notifications,
    pool_check,
    replica,
    security,
    soft_delete,
    static_files,
    views,
)
from app.core.converters import BoundedIntegerConverter
from app.core.sms_views import bp as sms_bp
from app.core.sms_views import callbacks as sms_callbacks_bp
from app.dashboards import refresh as dashboard_figures
from app.dashboards.blueprint import bp as dashboards_bp
from app.dues.blueprint import bp as dues_bp
from app.dues.stripe_blueprint import bp as dues_stripe_bp
from app.dues.stripe_blueprint import webhook_bp as stripe_webhook_bp
from app.events.blueprint import bp as events_bp
from app.files.blueprint import bp as files_bp
from app.governance.blueprint import bp as governance_bp
from app.governance.blueprint import public_bp as governance_public_bp
from app.members import register_figures
from app.members.blueprint import bp as members_bp
from app.members.blueprint import households_bp
from app.oversight.blueprint import bp as oversight_bp
from app.reports.blueprint import bp as reports_bp
from app.volunteers.blueprint import bp as volunteers_bp
from tenants import resolver, rls, scoping
from tenants.cli import rls_cli

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
BLUEPRINTS = (
    accounts_bp,
    associations_bp,
    admin_bp,
    files_bp,
    activities_bp,
    checklist_bp,
    members_bp,
    households_bp,
    events_bp,
    volunteers_bp,
    dashboards_bp,
    dues_bp,
    dues_stripe_bp,
    stripe_webhook_bp,
    oversight_bp,
    reports_bp,
    governance_bp,
    governance_public_bp,
    assessments_bp,
    sms_bp,
    sms_callbacks_bp,
)


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_path=str(INSTANCE_DIR),
    )
    app.config.from_mapping(Config.from_env().as_dict())
    if config:
        app.config.from_mapping(config)
    if "HUEY_IMMEDIATE" not in (config or {}):
        # Inline jobs in the local demo, where no worker runs; a worker process in production.
        app.config["HUEY_IMMEDIATE"] = app.config["ENV"] != "production"
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(i18n.TRANSLATIONS)
    check_production_safety(app.config)
    app.url_map.converters["int"] = BoundedIntegerConverter
    if hops := app.config["PROXY_FIX_HOPS"]:
        # Trust X-Forwarded-* from exactly this many proxies: the address the login limiter
        # and the audit log see is the one nginx saw, whatever a client puts in the header.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    replica.configure(app)
    extensions.db.init_app(app)
    app.teardown_appcontext(extensions.end_session)
    with app.app_context():
        for engine in extensions.db.engines.values():
            pool_check.install(engine)
    extensions.migrate.init_app(app, extensions.db, directory=str(MIGRATIONS_DIR))
    extensions.login_manager.init_app(app)
    extensions.babel.init_app(app, locale_selector=i18n.select_locale)
    extensions.htmx.init_app(app)
    extensions.csrf.init_app(app)
    extensions.limiter.init_app(app)

    session_class = extensions.db.session.session_factory.class_
    scoping.install(session_class)
    rls.install(session_class)
    soft_delete.install(session_class)
    audit.install(session_class)
    dashboard_figures.install(session_class)
    register_figures.install(session_class)
    roles_stamp.install(session_class)

    resolver.init_app(app)
    account_sessions.init_app(app)
    views.init_app(app)
    security.init_app(app)
    static_files.init_app(app)
    replica.init_app(app)
    errors.init_app(app)
    i18n.init_app(app)
    navigation.init_app(app)
    jobs.init_app(app)
    notifications.init_app(app)
    inbox.init_app(app)
    registry.load()
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    cli.register_commands(app)
    app.cli.add_command(rls_cli)
    return app


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite: enforce foreign keys, WAL for concurrent readers, wait instead of 'locked'."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


@event.listens_for(Engine, "connect")
def _no_prepared_statements_behind_a_transaction_pooler(dbapi_connection, connection_record):
    """PgBouncer in transaction mode (1.18, Debian 12) hands each transaction any server
    connection: a statement psycopg prepared on one (after 5 runs) is unknown on the next.
    DATABASE_TRANSACTION_POOLER=1 (deploy/) turns psycopg's automatic preparing off."""
    pooled = os.environ.get("DATABASE_TRANSACTION_POOLER", "").lower() in {"1", "true", "yes", "on"}
    if pooled and type(dbapi_connection).__module__.startswith("psycopg"):
        dbapi_connection.prepare_threshold = None
