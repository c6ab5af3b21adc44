"""Fingerprinted static URLs: `url_for('static', …)` adds `?v=<content hash>`, so a proxy may
cache a versioned URL for a year (deploy/nginx/xiehui.conf) and a changed file gets a new URL."""

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask, current_app


@lru_cache(maxsize=512)
def _fingerprint(path: Path, modified_ns: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def _add_fingerprint(endpoint: str, values: dict) -> None:
    if endpoint != "static" or "v" in values or not values.get("filename"):
        return
    folder = Path(current_app.static_folder).resolve()
    path = (folder / values["filename"]).resolve()
    if folder not in path.parents or not path.is_file():
        return
    values["v"] = _fingerprint(path, path.stat().st_mtime_ns)


def init_app(app: Flask) -> None:
    app.url_defaults(_add_fingerprint)
