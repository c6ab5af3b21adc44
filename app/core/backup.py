"""Consistent backups and restores: SQLite's online backup API, pg_dump/pg_restore (PostgreSQL)."""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    pass


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _pg_args(url: str) -> list[str]:
    parsed = make_url(url)
    args = [
        "--host",
        parsed.host or "127.0.0.1",
        "--port",
        str(parsed.port or 5432),
        "--dbname",
        parsed.database or "",
    ]
    if parsed.username:
        args += ["--username", parsed.username]
    return args


def _pg_env(url: str) -> dict:
    env = dict(os.environ)
    password = make_url(url).password
    if password:
        env["PGPASSWORD"] = password
    return env


def create_backup(database_url: str, target: Path) -> Path:
    """Write a consistent copy of the database to `target` while the app keeps running."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if database_url.startswith("sqlite"):
        source = sqlite3.connect(_sqlite_path(database_url))
        destination = sqlite3.connect(target)
        with destination:
            source.backup(destination)  # a consistent snapshot, even under writes
        destination.close()
        source.close()
        return target
    if shutil.which("pg_dump") is None:
        raise BackupError("pg_dump is not installed")
    subprocess.run(
        [
            "pg_dump",
            "--format=custom",
            "--no-owner",
            "--file",
            str(target),
            *_pg_args(database_url),
        ],
        check=True,
        env=_pg_env(database_url),
    )
    return target


def restore_backup(database_url: str, source: Path) -> None:
    """Replace the database's contents with the backup (stop the app first)."""
    if not source.exists():
        raise BackupError(f"no backup at {source}")
    if database_url.startswith("sqlite"):
        backup = sqlite3.connect(source)
        destination = sqlite3.connect(_sqlite_path(database_url))
        with destination:
            backup.backup(destination)
        destination.close()
        backup.close()
        return
    subprocess.run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            *_pg_args(database_url),
            str(source),
        ],
        check=True,
        env=_pg_env(database_url),
    )
