"""Point-in-time recovery drill: WAL archiving + a base backup, restored to a moment between two
writes; the first write must be there and the second not.

    .venv/bin/python bench/pitr_drill.py      # as root (PostgreSQL runs as postgres); ~15 s

It follows docs/operations.md ("Point-in-time recovery") on a throwaway PostgreSQL 15 cluster
in a fresh folder under /tmp, reached only through a Unix socket there (never the machine's
own cluster), and removes it at the end. tests/deploy/test_pitr.py runs it too.
"""

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PRIMARY_PORT, RESTORED_PORT = 15532, 15533  # name the sockets only (no TCP listener)


@dataclass
class Result:
    base_backup_seconds: float
    restore_seconds: float
    rows_after_restore: list[str]
    target: str


def _as_postgres(*command: str, check: bool = True) -> str:
    prefix = (
        []
        if os.geteuid() != 0
        else ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"]
    )
    done = subprocess.run(  # noqa: S603 - fixed commands
        [*prefix, *command], capture_output=True, text=True, check=False, cwd="/tmp"
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr or done.stdout}")
    return done.stdout.strip()


def _sql(base: Path, port: int, statement: str) -> str:
    return _as_postgres(
        str(PG_BIN / "psql"),
        "-h",
        str(base),
        "-p",
        str(port),
        "-U",
        "postgres",
        "-d",
        "postgres",
        "-Atc",
        statement,
    )


def _start(data: Path, port: int) -> None:
    base = data.parent
    _as_postgres(
        str(PG_BIN / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(base / f"{port}.log"),
        "-o",
        f"-p {port} -k {base} -c listen_addresses=''",
        "-w",
        "-t",
        "60",
        "start",
    )


def _stop(data: Path) -> None:
    if (data / "postmaster.pid").exists():
        _as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop", check=False
        )


def run_drill() -> Result:
    base = Path(tempfile.mkdtemp(prefix="xiehui-pitr-"))
    primary, backup, restored = base / "primary", base / "base", base / "restored"
    archive = base / "archive"
    archive.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        shutil.chown(archive, "postgres", "postgres")
    try:
        _as_postgres(
            str(PG_BIN / "initdb"),
            "-D",
            str(primary),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
        )
        # What deploy/patroni/ sets: every WAL segment copied to the archive, never overwritten.
        with (primary / "postgresql.conf").open("a") as conf:
            conf.write(
                "wal_level = replica\narchive_mode = on\n"
                f"archive_command = 'test ! -f {archive}/%f && cp %p {archive}/%f'\n"
            )
        _start(primary, PRIMARY_PORT)
        _sql(base, PRIMARY_PORT, "CREATE TABLE drill_writes (note text PRIMARY KEY)")

        started = time.monotonic()
        _as_postgres(
            str(PG_BIN / "pg_basebackup"),
            "-h",
            str(base),
            "-p",
            str(PRIMARY_PORT),
            "-U",
            "postgres",
            "-D",
            str(backup),
            "-X",
            "none",
            "--checkpoint=fast",
        )
        base_backup_seconds = time.monotonic() - started

        _sql(base, PRIMARY_PORT, "INSERT INTO drill_writes VALUES ('first')")
        time.sleep(1)
        target = _sql(base, PRIMARY_PORT, "SELECT clock_timestamp()")
        time.sleep(1)
        _sql(base, PRIMARY_PORT, "INSERT INTO drill_writes VALUES ('second')")
        # Close the WAL segment holding both writes so it is archived now, not when it fills.
        segment = _sql(base, PRIMARY_PORT, "SELECT pg_walfile_name(pg_switch_wal())")
        deadline = time.monotonic() + 30
        while not (archive / segment).exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"WAL segment {segment} was not archived")
            time.sleep(0.2)
        _stop(primary)  # the disaster: the primary and its data are gone

        started = time.monotonic()
        _as_postgres("cp", "-a", str(backup), str(restored))
        (restored / "recovery.signal").touch()
        if os.geteuid() == 0:
            shutil.chown(restored / "recovery.signal", "postgres", "postgres")
        with (restored / "postgresql.auto.conf").open("a") as conf:
            conf.write(
                f"restore_command = 'cp {archive}/%f %p'\n"
                f"recovery_target_time = '{target}'\n"
                "recovery_target_action = 'promote'\n"
            )
        _start(restored, RESTORED_PORT)
        deadline = time.monotonic() + 60
        while _sql(base, RESTORED_PORT, "SELECT pg_is_in_recovery()") != "f":
            if time.monotonic() > deadline:
                raise RuntimeError("the restored cluster did not finish recovery")
            time.sleep(0.2)
        restore_seconds = time.monotonic() - started
        rows = _sql(base, RESTORED_PORT, "SELECT note FROM drill_writes ORDER BY note").split()
        return Result(base_backup_seconds, restore_seconds, rows, target)
    finally:
        _stop(restored)
        _stop(primary)
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    result = run_drill()
    ok = result.rows_after_restore == ["first"]
    print(
        f"base backup {result.base_backup_seconds:.1f} s; restored to {result.target} in "
        f"{result.restore_seconds:.1f} s; rows: {result.rows_after_restore} → "
        f"{'OK: the first write and not the second' if ok else 'WRONG'}"
    )
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
