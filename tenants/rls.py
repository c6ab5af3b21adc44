"""PostgreSQL row-level security: the second wall under the ORM scoping.

Each tenant table gets ENABLE + FORCE ROW LEVEL SECURITY and one policy per command that asks
the scope of the current transaction. The app connects as a role that owns no tables and has no
BYPASSRLS. The scope is not a setting the app role can simply set: `sync_settings` calls
`xiehui_enter_scope(key, …)`, a SECURITY DEFINER function owned by the migration role that
accepts only the app's key (RLS_SCOPE_KEY, or one derived from SECRET_KEY; the database keeps its
SHA-256 in a schema only the owner can read). It stores the scope with a signature over the
scope, the backend's pid and the transaction's start, made with a secret that never leaves the
database. The policies' functions (`xiehui_scope_low()` …) check that signature once per
statement (an initplan) and answer NULL when it is missing or forged, so a statement the app did
not scope — an SQL injection, a leaked app password — reads no tenant row and writes none, even
after `set_config('app.scope', …)`. A signature is worthless in another transaction, and a
scope carries a serial that must be the session's last, so ROLLBACK TO SAVEPOINT cannot bring
back a wider scope the app left (the app enters its scope again after a savepoint ends).

Work across tenants (UNSCOPED_BYPASS: the figures job, the platform console, offboarding) goes
through the same function with `bypass`: it runs in the request's own transaction, so it sees
its uncommitted writes and commits or rolls back with them, and only the app's key opens it.
With nothing entered, a query on a tenant table returns no rows and an insert is refused.
"""

import hashlib
import hmac
import re
from functools import lru_cache

from flask import current_app
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from tenants.context import Bypass, TenantScope, current_scope
from tenants.tree import subtree_bounds

APPEND_ONLY_TABLES = ("audit_log",)
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
PRIVATE_SCHEMA = "xiehui_private"
# A row passes when the scope is a bypass, when it belongs to the scope's own association (no
# lookup at all: most statements read one association), or when its association's path starts
# with the scope's path: one primary-key probe of `associations` per row, so a statement costs
# the same whether the viewer's subtree holds one association or a million. (`association_id`
# inside the EXISTS is the tenant row's: `associations` has no such column, a test checks it.)
# OFFSET 0 keeps the probe a probe: without it the planner may turn the EXISTS into a hashed
# `IN (SELECT id …)` (measured: it did, on the dashboard), which is the subtree set again.
READ_RULE = (
    "(SELECT xiehui_scope_bypass()) OR association_id = (SELECT xiehui_scope_root()) OR EXISTS ("
    "SELECT 1 FROM associations scope_association WHERE scope_association.id = association_id "
    "AND starts_with(scope_association.path, (SELECT xiehui_scope_low())) OFFSET 0)"
)
# The rule of revisions 0018_rls_wall to 0025, for 0026_scale_rls's downgrade only: it built the
# whole subtree's set of ids for every statement (its cost grew with the subtree).
SUBTREE_SET_READ_RULE = (
    "(SELECT xiehui_scope_bypass()) OR association_id IN ("
    "SELECT id FROM associations WHERE path >= (SELECT xiehui_scope_low()) "
    "AND path < (SELECT xiehui_scope_high()))"
)
WRITE_RULE = "(SELECT xiehui_scope_bypass()) OR association_id = (SELECT xiehui_scope_write())"
# The rules before revision 0018_rls_wall, for its downgrade only: any connection could set these.
SETTINGS_READ_RULE = (
    "current_setting('app.bypass', true) = 'on' OR association_id IN ("
    "SELECT id FROM associations WHERE path >= current_setting('app.scope_low', true) "
    "AND path < current_setting('app.scope_high', true))"
)
SETTINGS_WRITE_RULE = (
    "current_setting('app.bypass', true) = 'on' OR association_id = "
    "NULLIF(current_setting('app.write_association', true), '')::integer"
)
KEY_DERIVATION_LABEL = b"xiehui row-level security scope key"

# The signature binds the scope to this backend and this transaction (its start, in µs): a value
# read with current_setting() cannot be replayed in another transaction or connection. The keyed
# hash is SHA-256(secret ‖ SHA-256(message)): both inputs have a fixed length, so it is not open
# to length extension, and it needs no extension (pgcrypto) in the database.
_SIGNATURE = (
    "BEGIN RETURN encode(sha256("
    f"(SELECT secret FROM {PRIVATE_SCHEMA}.scope_secret WHERE id = 1) || sha256(convert_to("
    "claim || '|' || pg_backend_pid() || '|' "
    "|| (extract(epoch FROM transaction_timestamp()) * 1000000)::bigint, 'UTF8'))), 'hex'); END"
)
# A valid signature proves the scope was entered in this transaction; its serial must also be
# the last one entered in this session (currval), or a ROLLBACK TO SAVEPOINT, or an injected
# statement replaying a claim it read earlier in the transaction, could bring back a wider
# scope (a bypass) after the app has narrowed it. A read-only transaction — and every
# transaction on a hot standby — cannot take nextval(); it enters one scope only, so there is
# no earlier, wider scope in it to bring back, and its claim is marked read-only: such a
# claim counts only while the transaction is read-only (which cannot turn read-write again).
_VERIFIED = (
    "DECLARE claim text[]; BEGIN "
    "IF current_setting('app.scope_signature', true) = "
    f"{PRIVATE_SCHEMA}.scope_signature(current_setting('app.scope', true)) THEN "
    "claim := string_to_array(current_setting('app.scope', true), '|'); "
    "IF claim[5] = 'read-only' THEN "
    "IF current_setting('transaction_read_only') = 'on' THEN RETURN claim; END IF; "
    f"ELSIF claim[5]::bigint = currval('{PRIVATE_SCHEMA}.scope_serial') THEN RETURN claim; "
    "END IF; "
    "END IF; RETURN NULL; END"
)
_ENTER = (
    "DECLARE claim text; serial text; BEGIN "
    f"IF NOT EXISTS (SELECT 1 FROM {PRIVATE_SCHEMA}.app_keys "
    "WHERE key_hash = sha256(convert_to(app_key, 'UTF8'))) THEN "
    "RAISE EXCEPTION 'xiehui_enter_scope: not the app''s row-level security key' "
    "USING ERRCODE = '42501', HINT = 'flask rls install-key (as the owner, DATABASE_ADMIN_URL)'; "
    "END IF; "
    "IF strpos(coalesce(low, '') || coalesce(high, ''), '|') > 0 THEN "
    "RAISE EXCEPTION 'xiehui_enter_scope: bad scope bounds'; END IF; "
    "IF current_setting('transaction_read_only') = 'on' THEN serial := 'read-only'; "
    f"ELSE serial := nextval('{PRIVATE_SCHEMA}.scope_serial')::text; END IF; "
    "claim := concat_ws('|', CASE WHEN bypass THEN 'on' ELSE 'off' END, coalesce(low, ''), "
    "coalesce(high, ''), coalesce(write_association::text, ''), serial); "
    # Entering the same scope again (after a savepoint) is harmless; any other is refused.
    "IF serial = 'read-only' AND coalesce(current_setting('app.scope', true), '') "
    "NOT IN ('', claim) THEN "
    "RAISE EXCEPTION 'xiehui_enter_scope: a read-only transaction enters one scope' "
    "USING ERRCODE = '25006'; END IF; "
    "PERFORM set_config('app.scope', claim, true); "
    f"PERFORM set_config('app.scope_signature', {PRIVATE_SCHEMA}.scope_signature(claim), true); "
    "END"
)
# PL/pgSQL, not SQL: a SECURITY DEFINER SQL function is planned again at every call (~100 µs
# measured), PL/pgSQL keeps its plans (~20 µs per reader, three readers per statement).
_DEFINER = "LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp"
_READERS = {
    "xiehui_scope_bypass() RETURNS boolean": "claim[1] = 'on'",
    "xiehui_scope_low() RETURNS text": "NULLIF(claim[2], '')",
    "xiehui_scope_high() RETURNS text": "NULLIF(claim[3], '')",
    "xiehui_scope_write() RETURNS integer": "NULLIF(claim[4], '')::integer",
    # The scope's own association: the last id of its path ("/1/5/23/" → 23).
    "xiehui_scope_root() RETURNS integer": "substring(claim[2] from '([0-9]+)/$')::integer",
}
WALL_SQL = [
    f"CREATE SCHEMA IF NOT EXISTS {PRIVATE_SCHEMA}",
    f"REVOKE ALL ON SCHEMA {PRIVATE_SCHEMA} FROM PUBLIC",
    f"CREATE TABLE IF NOT EXISTS {PRIVATE_SCHEMA}.scope_secret "
    "(id integer PRIMARY KEY CHECK (id = 1), secret bytea NOT NULL)",
    # 32 bytes from the server's strong random source (gen_random_uuid is built in since 13).
    f"INSERT INTO {PRIVATE_SCHEMA}.scope_secret (id, secret) VALUES (1, decode(replace("
    "gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex')) "
    "ON CONFLICT (id) DO NOTHING",
    f"CREATE SEQUENCE IF NOT EXISTS {PRIVATE_SCHEMA}.scope_serial",
    f"CREATE TABLE IF NOT EXISTS {PRIVATE_SCHEMA}.app_keys "
    "(key_hash bytea PRIMARY KEY, installed_at timestamptz NOT NULL DEFAULT now())",
    # The helpers run only inside the SECURITY DEFINER functions below, which fix search_path.
    f"CREATE OR REPLACE FUNCTION {PRIVATE_SCHEMA}.scope_signature(claim text) RETURNS text "
    f"LANGUAGE plpgsql STABLE AS $$ {_SIGNATURE} $$",
    f"REVOKE ALL ON FUNCTION {PRIVATE_SCHEMA}.scope_signature(text) FROM PUBLIC",
    f"CREATE OR REPLACE FUNCTION {PRIVATE_SCHEMA}.verified_scope() RETURNS text[] "
    f"LANGUAGE plpgsql STABLE AS $$ {_VERIFIED} $$",
    f"REVOKE ALL ON FUNCTION {PRIVATE_SCHEMA}.verified_scope() FROM PUBLIC",
    "CREATE OR REPLACE FUNCTION public.xiehui_enter_scope(app_key text, bypass boolean, "
    "low text, high text, write_association integer) RETURNS void "
    "LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp "
    f"AS $$ {_ENTER} $$",
    *(
        f"CREATE OR REPLACE FUNCTION public.{signature} {_DEFINER} AS $$ "
        f"DECLARE claim text[] := {PRIVATE_SCHEMA}.verified_scope(); BEGIN RETURN {value}; END $$"
        for signature, value in _READERS.items()
    ),
]


def _checked_role(role: str) -> str:
    if not ROLE_NAME.match(role):
        raise ValueError(f"unsafe database role name: {role!r}")
    return role


def create_app_role_sql(role: str) -> str:
    """Roles belong to the server, not the database: two databases migrated at once (two test
    workers, a bench beside them) both find the role missing, and the second CREATE fails on
    the first's row; that one is the role we wanted."""
    role = _checked_role(role)
    return (
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '" + role + "') "
        "THEN CREATE ROLE " + role + " LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE; "
        "END IF; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
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
    """Statements that put a tenant table behind row-level security (for migrations). They
    start with the wall's functions (idempotent), which the policies call."""
    statements = [
        *WALL_SQL,
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


def rewrite_policies_sql(read_rule: str, write_rule: str) -> str:
    """One statement that points every tenant policy of the database at these rules."""
    rules = {
        "tenant_read": f"USING ({read_rule})",
        "tenant_insert": f"WITH CHECK ({write_rule})",
        "tenant_update": f"USING ({read_rule}) WITH CHECK ({write_rule})",
        "tenant_delete": f"USING ({write_rule})",
    }
    cases = " ".join(
        f"WHEN '{name}' THEN {_dollar_quoted(clause)}" for name, clause in rules.items()
    )
    return (
        "DO $$ DECLARE p record; BEGIN FOR p IN SELECT schemaname, tablename, policyname "
        "FROM pg_policies WHERE schemaname = 'public' AND policyname IN "
        "('tenant_read', 'tenant_insert', 'tenant_update', 'tenant_delete') LOOP "
        "EXECUTE format('ALTER POLICY %I ON %I.%I ', p.policyname, p.schemaname, p.tablename) "
        f"|| CASE p.policyname {cases} END; END LOOP; END $$"
    )


def _dollar_quoted(value: str) -> str:
    assert "$q$" not in value
    return f"$q${value}$q$"


def install_key_sql() -> str:
    """As the owner, with the parameter :key: let this key enter scopes."""
    return (
        f"INSERT INTO {PRIVATE_SCHEMA}.app_keys (key_hash) "
        "VALUES (sha256(convert_to(:key, 'UTF8'))) ON CONFLICT (key_hash) DO NOTHING"
    )


def forget_other_keys_sql() -> str:
    """As the owner, with the parameter :key: every other key stops working (a rotation)."""
    return (
        f"DELETE FROM {PRIVATE_SCHEMA}.app_keys WHERE key_hash <> sha256(convert_to(:key, 'UTF8'))"
    )


class _Key(str):
    """The key as a bound parameter: SQLAlchemy prints parameters into its errors and logs."""

    def __repr__(self) -> str:
        return "'<RLS_SCOPE_KEY>'"


def scope_key(config) -> str:
    """The key the app enters scopes with: RLS_SCOPE_KEY, or one derived from SECRET_KEY."""
    return _Key(config.get("RLS_SCOPE_KEY") or _derived_key(config["SECRET_KEY"]))


@lru_cache(maxsize=8)
def _derived_key(secret_key: str) -> str:
    return hmac.new(secret_key.encode(), KEY_DERIVATION_LABEL, hashlib.sha256).hexdigest()


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


def _wanted_settings() -> tuple[bool, str | None, str | None, int | None]:
    scope = current_scope()
    if isinstance(scope, Bypass):
        return (True, None, None, None)
    if isinstance(scope, TenantScope):
        low, high = subtree_bounds(scope.path)
        return (False, low, high, scope.association_id if scope.writable else None)
    return (False, None, None, None)


# What a transaction starts with: nothing entered reads and writes no tenant row, exactly as
# an entered empty scope does, so a request's first queries (its session, its user) enter
# nothing.
NOTHING_ENTERED = (False, None, None, None)


def sync_settings(session: Session) -> None:
    """Make the transaction's scope match the current tenant context: one statement when it
    changes, none otherwise. The same statement asks for custom plans: tenants differ in size
    by four orders of magnitude (a village of 20 members, an association of 10,000, a province's
    subtree), and the generic plan psycopg's prepared statements fall back to after five runs
    suits none of them (the 10,000-member list: 21.9 ms generic against 0.24 ms custom). And no
    JIT compilation: the policy's per-row probe raises a subtree scan's estimated cost past
    jit_above_cost, and compiling (70 ms measured) costs more than such a statement runs."""
    wanted = _wanted_settings()
    connection = session.connection()  # begins the transaction first: after_begin resets info
    entered = session.info.setdefault("rls_settings", {})
    read_only = _on_replica(connection)
    if read_only:
        wanted = (*wanted[:3], None)  # nothing is written on a read-only transaction
    if entered.get(connection.engine) == wanted:
        return
    used = session.info.setdefault("rls_read_only_entered", set())
    if read_only and connection.engine in used:
        # A read-only transaction enters one scope (see _ENTER): this one has done its reads,
        # the next statement begins another (psycopg begins it, READ ONLY again).
        connection.connection.dbapi_connection.commit()
    connection.execute(
        text(
            "SELECT xiehui_enter_scope(:key, :bypass, :low, :high, :write), "
            "set_config('plan_cache_mode', 'force_custom_plan', true), "
            "set_config('jit', 'off', true)"
        ),
        {
            "key": scope_key(current_app.config),
            "bypass": wanted[0],
            "low": wanted[1],
            "high": wanted[2],
            "write": wanted[3],
        },
    )
    entered[connection.engine] = wanted
    if read_only:
        used.add(connection.engine)


def _on_replica(connection) -> bool:
    """A connection of the read-only replica bind (app/core/replica.py)."""
    return connection.get_execution_options().get("postgresql_readonly", False)


def _forget_settings(session: Session, transaction, connection) -> None:
    if transaction.nested:
        # Conservative: enter the scope again inside the savepoint.
        session.info.pop("rls_settings", None)
    else:
        session.info.setdefault("rls_settings", {})[connection.engine] = NOTHING_ENTERED
        session.info.setdefault("rls_read_only_entered", set()).discard(connection.engine)


def _forget_after_savepoint(session: Session, transaction) -> None:
    # A savepoint rolled back puts the scope before it back in the database; enter it again.
    if transaction.nested:
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
    event.listen(session_class, "after_transaction_end", _forget_after_savepoint)
    event.listen(session_class, "do_orm_execute", _before_query)
    event.listen(session_class, "before_flush", _before_flush)
    _installed = True
