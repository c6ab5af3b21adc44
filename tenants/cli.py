"""`flask rls …`: the row-level security key, installed as the owner of the tables."""

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import create_engine, pool, text

from tenants import rls

rls_cli = AppGroup("rls", help="PostgreSQL row-level security.")


@rls_cli.command("install-key")
@click.option(
    "--forget-others",
    is_flag=True,
    help="Every other key stops working (after a rotation, once every worker runs the new one).",
)
def install_key_command(forget_others: bool) -> None:
    """Let this app's key (RLS_SCOPE_KEY, or the one derived from SECRET_KEY) enter tenant
    scopes. Runs as the owner (DATABASE_ADMIN_URL); the migration installs the key it runs with."""
    url = (
        current_app.config.get("DATABASE_ADMIN_URL")
        or current_app.config["SQLALCHEMY_DATABASE_URI"]
    )
    engine = create_engine(url, poolclass=pool.NullPool)
    if engine.dialect.name != "postgresql":
        raise click.ClickException("Row-level security exists on PostgreSQL only.")
    key = {"key": rls.scope_key(current_app.config)}
    with engine.begin() as connection:
        connection.execute(text(rls.install_key_sql()), key)
        if forget_others:
            connection.execute(text(rls.forget_other_keys_sql()), key)
        installed = connection.execute(text(f"SELECT count(*) FROM {rls.PRIVATE_SCHEMA}.app_keys"))
        click.echo(f"Key installed; {installed.scalar()} key(s) may enter scopes.")
