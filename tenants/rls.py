"""PostgreSQL row-level security: the second wall under the ORM scoping.

Each tenant table gets ENABLE + FORCE ROW LEVEL SECURITY and one policy that reads the tenant
settings of the current transaction. The app connects as a role that owns no tables and has no
BYPASSRLS; before its queries run, `sync_settings` puts the current tenant scope into
transaction-local settings with set_config(…, true) and bound parameters. With nothing set, a
query on a tenant table returns no rows and an insert is refused.
"""

import re

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from tenants.context import Bypass, TenantScope, current_scope
from tenants.tree import subtree_bounds

APPEND_ONLY_TABLES = ("audit_log",)
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
READ_RULE = (
    "current_setting('app.bypass', true) = 'on' OR association_id IN ("
    "SELECT id FROM associations WHERE path >= current_setting('app.scope_low', true) "
    "AND path < current_setting('app.scope_high', true))"
)
WRITE_RULE = (
    "current_setting('app.bypass', true) = 'on' OR association_id = "
    "NULLIF(current_setting('app.write_association', true), '')::integer"
)


def _checked_role(role: str) -> str:
    if not ROLE_NAME.match(role):
        raise ValueError(f"unsafe database role name: {role!r}")
    return role


def create_app_role_sql(role: str) -> str:
    role = _checked_role(role)
    return (
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '" + role + "') "
        "THEN CREATE ROLE " + role + " LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE; "
        "END IF; END $$"
    )


def grant_app_role_sql(role: str) -> list[str]:
    role = _checked_role(role)
    return [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
        # A later migration re-granting on ALL TABLES must not reopen the append-only tables.
        *(
            f"DO $$ BEGIN IF to_regclass('{table}') IS NOT NULL THEN "
            f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {role}; END IF; END $$"
            for table in APPEND_ONLY_TABLES
        ),
    ]


def tenant_table_sql(
    table: str, *, append_only: bool = False, role: str | None = None
) -> list[str]:
    """Statements that put a tenant table behind row-level security (for migrations)."""
    statements = [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_read ON {table} FOR SELECT USING ({READ_RULE})",
    ]
    if append_only:
        statements.append(f"CREATE POLICY tenant_append ON {table} FOR INSERT WITH CHECK (true)")
        if role:
            statements.append(
                f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {_checked_role(role)}"
            )
    else:
        statements += [
            f"CREATE POLICY tenant_insert ON {table} FOR INSERT WITH CHECK ({WRITE_RULE})",
            f"CREATE POLICY tenant_update ON {table} FOR UPDATE USING ({READ_RULE}) "
            f"WITH CHECK ({WRITE_RULE})",
            f"CREATE POLICY tenant_delete ON {table} FOR DELETE USING ({WRITE_RULE})",
        ]
    return statements


def protect_new_tables(op, tables, role: str) -> None:
    """In a migration: put new tenant tables behind row-level security and grant the app role
    on them. PostgreSQL only; on SQLite the ORM scoping is the wall."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        for statement in tenant_table_sql(table):
            op.execute(statement)
    for statement in grant_app_role_sql(role):
        op.execute(statement)


def _wanted_settings() -> tuple[str, str, str, str]:
    scope = current_scope()
    if isinstance(scope, Bypass):
        return ("on", "", "", "")
    if isinstance(scope, TenantScope):
        low, high = subtree_bounds(scope.path)
        return ("off", low, high, str(scope.association_id) if scope.writable else "")
    return ("off", "", "", "")


def sync_settings(session: Session) -> None:
    """Make the transaction's tenant settings match the current scope (one round trip when
    they change, none otherwise)."""
    wanted = _wanted_settings()
    connection = session.connection()  # begins the transaction first: after_begin resets info
    if session.info.get("rls_settings") == wanted:
        return
    connection.execute(
        text(
            "SELECT set_config('app.bypass', :bypass, true), "
            "set_config('app.scope_low', :low, true), "
            "set_config('app.scope_high', :high, true), "
            "set_config('app.write_association', :write, true)"
        ),
        {"bypass": wanted[0], "low": wanted[1], "high": wanted[2], "write": wanted[3]},
    )
    session.info["rls_settings"] = wanted


def _forget_settings(session: Session, transaction, connection) -> None:
    session.info.pop("rls_settings", None)


def _before_query(state) -> None:
    if state.session.get_bind().dialect.name == "postgresql":
        sync_settings(state.session)


def _before_flush(session: Session, flush_context, instances) -> None:
    if session.get_bind().dialect.name == "postgresql":
        sync_settings(session)


_installed = False


def install(session_class: type[Session]) -> None:
    global _installed
    if _installed:
        return
    event.listen(session_class, "after_begin", _forget_settings)
    event.listen(session_class, "do_orm_execute", _before_query)
    event.listen(session_class, "before_flush", _before_flush)
    _installed = True
