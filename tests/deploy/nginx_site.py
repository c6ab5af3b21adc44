"""Runs deploy/nginx/xiehui.conf itself on loopback: its ports, paths and certificate
rewritten, everything else as shipped (tests/deploy/test_nginx.py, bench/topology_drill.py)."""

import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "xiehui.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def _marked(text: str, marker: str, replacement: str) -> str:
    """Replace the directive on the line ending in `# MARKER` (the value up to the ';')."""
    pattern = re.compile(rf"^([ \t]*)(\S+) [^;\n]*;[ \t]*# {marker}$", re.MULTILINE)
    text, count = pattern.subn(lambda m: f"{m.group(1)}{m.group(2)} {replacement};", text)
    assert count == 1, f"{marker} not found once in {SITE}"
    return text


@dataclass
class RunningSite:
    http_port: int
    https_port: int
    process: subprocess.Popen
    folder: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def start_site(folder: Path, upstream: str, static_root: Path = ROOT / "static") -> RunningSite:
    """nginx in the foreground with the shipped site, proxying to `upstream` (host:port)."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = _self_signed_certificate(folder)
    http_port, https_port = free_port(), free_port()
    site = SITE.read_text()
    site = _marked(site, "APP_UPSTREAM", upstream)
    site = _marked(site, "HTTP_LISTEN", f"127.0.0.1:{http_port}")
    site = _marked(site, "HTTPS_LISTEN", f"127.0.0.1:{https_port} ssl http2")
    site = _marked(site, "TLS_CERT", str(cert))
    site = _marked(site, "TLS_KEY", str(key))
    site = _marked(site, "STATIC_ROOT", f"{static_root}/")
    (folder / "site.conf").write_text(site)
    user = "user root;" if os.geteuid() == 0 else ""
    temp = "".join(
        f"{name}_temp_path {folder / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (folder / "nginx.conf").write_text(
        f"{user} daemon off; worker_processes 1; pid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} warn;\n"
        "events { worker_connections 256; }\n"
        "http { include /etc/nginx/mime.types; default_type application/octet-stream;\n"
        f"access_log {folder / 'access.log'}; {temp}\n"
        f"include {folder / 'site.conf'}; }}\n"
    )
    process = subprocess.Popen(
        [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf")],
        stdout=subprocess.DEVNULL, stderr=open(folder / "stderr.log", "w"),  # noqa: SIM115
    )  # fmt: skip
    running = RunningSite(http_port, https_port, process, folder)
    try:
        wait_for_port(https_port)
    except TimeoutError:
        running.stop()
        raise RuntimeError((folder / "stderr.log").read_text()) from None
    return running
