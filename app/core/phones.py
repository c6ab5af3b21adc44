"""Mainland mobile numbers: normalising what people type, checking and masking. Logins, the
registers, volunteers and the SMS notices all read numbers the same way."""

import re
import unicodedata

from flask_babel import lazy_gettext as _l

MOBILE = re.compile(r"^1[3-9]\d{9}$")
PHONE_PROBLEM = _l("Enter an 11-digit mainland mobile number, e.g. 13800138000.")


def normalise_phone(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw or "")
    digits = re.sub(r"[\s\-()（）]", "", text)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def validate_phone(raw: str) -> str:
    """The 11-digit mainland mobile number, or ValueError."""
    phone = normalise_phone(raw)
    if not MOBILE.match(phone):
        raise ValueError("phone")
    return phone


def mask_phone(phone: str | None) -> str:
    """138****8000."""
    if not phone:
        return ""
    return phone[:3] + "****" + phone[-4:]
