"""Fingerprinted static URLs: `url_for('static', …)` adds `?v=<content hash>`, so a proxy may
cache a versioned URL for a year (deploy/nginx/xiehui.conf) and a changed file gets a new URL."""

import hashlib
import stat
from functools import lru_cache
from pathlib import Path

from flask import Flask, current_app


@lru_cache(maxsize=512)
def _fingerprint(path: Path, modified_ns: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def _add_fingerprint(endpoint: str, values: dict) -> None:
    if endpoint != "static" or "v" in values or not values.get("filename"):
        return
    path = _resolved(current_app.static_folder, values["filename"])
    if path is None:
        return
    try:
        found = path.stat()
    except OSError:  # no such file: no fingerprint
        return
    if stat.S_ISREG(found.st_mode):
        values["v"] = _fingerprint(path, found.st_mtime_ns)


@lru_cache(maxsize=512)
def _resolved(static_folder: str, filename: str) -> Path | None:
    """The file's resolved path, None outside the static folder: a page asks for the same few
    files on every request, and resolving costs a system call per component of the path."""
    folder = Path(static_folder).resolve()
    path = (folder / filename).resolve()
    return path if folder in path.parents else None


def init_app(app: Flask) -> None:
    app.url_defaults(_add_fingerprint)
