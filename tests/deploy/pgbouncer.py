"""A throwaway PgBouncer in transaction mode on a loopback port, in front of the test server
(tests/deploy/test_transaction_pooling.py). PgBouncer refuses to run as root: as root it is
started with `-u postgres`, from a folder that user can read."""

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.deploy.nginx_site import free_port, wait_for_port

PGBOUNCER = shutil.which("pgbouncer") or (
    "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
)


@dataclass
class Pooler:
    port: int
    process: subprocess.Popen
    folder: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_pgbouncer(server_host: str, server_port: int, users: list[str], pool_size: int) -> Pooler:
    """Every database of the server, `pool_size` server connections per database and user."""
    folder = Path(tempfile.mkdtemp(prefix="xiehui-pgbouncer-"))
    folder.chmod(0o755)
    port = free_port()
    (folder / "userlist.txt").write_text("".join(f'"{user}" ""\n' for user in users))
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={server_host} port={server_port}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'userlist.txt'}\n"
        "pool_mode = transaction\n"
        f"default_pool_size = {pool_size}\nmin_pool_size = 0\nreserve_pool_size = 0\n"
        f"max_db_connections = {pool_size}\nmax_client_conn = 200\n"
        "server_reset_query =\nignore_startup_parameters = extra_float_digits,options\n"
        f"logfile = {folder / 'pgbouncer.log'}\npidfile = {folder / 'pgbouncer.pid'}\n"
    )
    command = [PGBOUNCER, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        command[1:1] = ["-u", "postgres"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    pooler = Pooler(port, process, folder)
    try:
        wait_for_port(port)
    except TimeoutError:
        error = process.stderr.read().decode() if process.poll() is not None else ""
        pooler.stop()
        raise RuntimeError(f"pgbouncer did not start: {error}") from None
    return pooler
