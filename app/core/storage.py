"""Where uploaded bytes are kept: a directory outside the web root (default) or an
S3-compatible bucket, behind one small interface, with keys the server made. Bytes written in a
transaction that rolls back are removed again; deletions wait for the commit."""

import os
import re
import secrets
from pathlib import Path
from typing import Protocol

from flask import current_app
from sqlalchemy.orm import Session

from app.core.models import after_transaction
from app.extensions import db

SAFE_KEY = re.compile(r"^[0-9]+(/[0-9A-Za-z_-]+)*/[0-9A-Za-z_-]+\.[a-z]{2,5}$")


def _checked_key(key: str) -> str:
    if not SAFE_KEY.match(key) or ".." in key:
        raise ValueError(f"unsafe storage key: {key!r}")
    return key


class Storage(Protocol):
    def save(self, key: str, data: bytes) -> None: ...
    def read(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...
    def delete_prefix(self, prefix: str) -> int: ...


class LocalStorage:
    """Files under a directory outside the web root (default: instance/uploads)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / _checked_key(key)

    def save(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        try:
            with partial.open("xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            partial.replace(path)  # atomic: a full disk leaves no half-written file behind
        finally:
            partial.unlink(missing_ok=True)

    def read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> int:
        if not re.fullmatch(r"[0-9]+/", prefix):
            raise ValueError(f"unsafe storage prefix: {prefix!r}")
        folder = self.root / prefix
        count = 0
        if folder.is_dir():
            for path in sorted(folder.rglob("*"), reverse=True):
                if path.is_dir():
                    path.rmdir()
                else:
                    path.unlink()
                    count += 1
            folder.rmdir()
        return count


class S3Storage:
    """An S3-compatible bucket (AWS, MinIO, Aliyun OSS, Tencent COS) through a boto3 client.

    `pip install 'xiehui[s3]'`; set UPLOAD_STORAGE=s3, UPLOAD_S3_BUCKET and, for non-AWS
    services, UPLOAD_S3_ENDPOINT. Credentials come from boto3's usual environment variables.
    """

    def __init__(self, bucket: str, client):
        self.bucket = bucket
        self.client = client

    @classmethod
    def from_config(cls, config) -> "S3Storage":
        import boto3  # optional dependency, only needed when this backend is chosen

        client = boto3.client("s3", endpoint_url=config.get("UPLOAD_S3_ENDPOINT") or None)
        return cls(config["UPLOAD_S3_BUCKET"], client)

    def save(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=_checked_key(key), Body=data)

    def read(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=_checked_key(key))
        except self.client.exceptions.NoSuchKey:
            raise KeyError(key) from None
        return response["Body"].read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=_checked_key(key))

    def delete_prefix(self, prefix: str) -> int:
        if not re.fullmatch(r"[0-9]+/", prefix):
            raise ValueError(f"unsafe storage prefix: {prefix!r}")
        count = 0
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})
                count += len(keys)
        return count


def get_storage() -> Storage:
    """The app's storage backend, built once from its configuration."""
    storage = current_app.extensions.get("uploads_storage")
    if storage is None:
        config = current_app.config
        kind = config.get("UPLOAD_STORAGE") or os.environ.get("UPLOAD_STORAGE", "local")
        if kind == "s3":
            settings = {
                "UPLOAD_S3_BUCKET": config.get("UPLOAD_S3_BUCKET")
                or os.environ["UPLOAD_S3_BUCKET"],
                "UPLOAD_S3_ENDPOINT": config.get("UPLOAD_S3_ENDPOINT")
                or os.environ.get("UPLOAD_S3_ENDPOINT"),
            }
            storage = S3Storage.from_config(settings)
        else:
            root = (
                config.get("UPLOAD_ROOT")
                or os.environ.get("UPLOAD_ROOT")
                or Path(current_app.instance_path) / "uploads"
            )
            storage = LocalStorage(root)
        current_app.extensions["uploads_storage"] = storage
    return storage


# Bytes written in a transaction that is then rolled back are removed again, so a failed
# request leaves no orphan files; deletions wait for the commit so a rollback loses nothing.


def remember_written(key: str) -> None:
    """Delete `key` again if the session's transaction rolls back."""
    _install_session_hooks()
    db.session.info.setdefault("uploads_written", []).append(key)


def delete_after_commit(keys) -> None:
    """Delete these keys once the session's transaction commits (a rollback keeps them)."""
    _install_session_hooks()
    db.session.info.setdefault("uploads_delete_on_commit", []).extend(keys)


def _after_commit(session: Session) -> None:
    session.info.pop("uploads_written", None)
    doomed = session.info.pop("uploads_delete_on_commit", None)
    if doomed:
        storage = get_storage()
        for key in doomed:
            storage.delete(key)


def _after_rollback(session: Session) -> None:
    # Only the whole transaction's rollback gets here (after_transaction): a savepoint's keeps
    # the files written before it, which the outer transaction may still commit.
    session.info.pop("uploads_delete_on_commit", None)
    written = session.info.pop("uploads_written", None)
    if written:
        storage = get_storage()
        for key in written:
            storage.delete(key)


def _install_session_hooks() -> None:
    after_transaction(
        db.session.session_factory.class_, committed=_after_commit, rolled_back=_after_rollback
    )
