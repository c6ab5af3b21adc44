"""Password hashing (argon2id) and the strength rules, stricter for staff than for members."""

from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
MEMBER_MIN_LENGTH = 8
STAFF_MIN_LENGTH = 12
# Verified when the login is unknown, so both paths cost one argon2 verification.
_DUMMY_HASH = _hasher.hash("no such user: constant-time placeholder")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@cache
def _common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    return frozenset(line.strip().lower() for line in path.read_text().splitlines() if line.strip())


def password_problem(password: str, *, staff: bool, personal: tuple[str, ...] = ()):
    """A translated reason the password is too weak, or None."""
    minimum = STAFF_MIN_LENGTH if staff else MEMBER_MIN_LENGTH
    if len(password) < minimum:
        return _l("Use at least %(count)d characters.", count=minimum)
    lowered = password.lower()
    if lowered in _common_passwords() or len(set(password)) < 4:
        return _l("This password is too common; choose another.")
    if any(part and len(part) >= 4 and part.lower() in lowered for part in personal):
        return _l("Do not put your name, phone number or email address in the password.")
    if staff and (password.isdigit() or password.isalpha()):
        return _l("Staff passwords mix letters with digits or symbols.")
    return None
