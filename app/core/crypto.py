"""Field encryption for protected columns (ID numbers, phones) and keyed hashes to find them.

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256). The key comes from the
FIELD_ENCRYPTION_KEY environment variable or config (comma-separated Fernet keys: the first
encrypts, all decrypt, so keys can be rotated); for a local run without it, a key is derived
from SECRET_KEY. Encrypted values cannot be compared in SQL, so each protected column has a
companion keyed HMAC (`lookup_hash`) for duplicate detection and exact lookups.
"""

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class FieldKeyMissing(RuntimeError):
    """Production refuses to derive the field key from SECRET_KEY."""


def _configured_keys() -> tuple[str, ...]:
    raw = current_app.config.get("FIELD_ENCRYPTION_KEY") or os.environ.get(
        "FIELD_ENCRYPTION_KEY", ""
    )
    keys = tuple(part.strip() for part in raw.split(",") if part.strip())
    if keys:
        return keys
    if current_app.config.get("ENV") == "production":
        raise FieldKeyMissing("set FIELD_ENCRYPTION_KEY (a Fernet key) in production")
    derived = hashlib.sha256(b"xiehui-field-key:" + current_app.config["SECRET_KEY"].encode())
    return (base64.urlsafe_b64encode(derived.digest()).decode(),)


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


@lru_cache(maxsize=8)
def _lookup_key(primary: str) -> bytes:
    # Derived from the first key, so a lookup hash never equals a bare SHA-256 of the value.
    return hashlib.sha256(b"xiehui-lookup:" + primary.encode()).digest()


def _tools() -> tuple[MultiFernet, bytes]:
    """The app's cipher and lookup key, computed once per app (imports call this 30,000 times)."""
    tools = current_app.extensions.get("field_crypto")
    if tools is None:
        keys = _configured_keys()
        tools = current_app.extensions["field_crypto"] = (_fernet(keys), _lookup_key(keys[0]))
    return tools


def encrypt(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    return _tools()[0].encrypt(value.encode()).decode()


def decrypt(token: str | None) -> str | None:
    if not token:
        return None
    try:
        return _tools()[0].decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise ValueError("protected value cannot be decrypted with the configured keys") from error


def lookup_hash(value: str | None) -> str | None:
    """Keyed HMAC-SHA256 of a normalised value: equal values, equal hashes; not reversible."""
    if value is None or value == "":
        return None
    return hmac.new(_tools()[1], value.encode(), hashlib.sha256).hexdigest()


def new_key() -> str:
    """A fresh key for FIELD_ENCRYPTION_KEY."""
    return Fernet.generate_key().decode()
