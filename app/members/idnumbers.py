"""Chinese resident ID numbers (GB 11643-1999): checks and masks, and free text with the ID and
mobile numbers in it masked. Mobile numbers themselves are in app/core/phones.py."""

import re
import unicodedata
from datetime import date

from flask_babel import lazy_gettext as _l

from app.core.clock import china_today
from app.core.phones import mask_phone
from app.core.problems import Problem

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CODES = "10X98765432"
# An ID or mobile number inside free text (a comment, a reason), not part of a longer number.
ID_NUMBER_IN_TEXT = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
MOBILE_IN_TEXT = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
# First two digits: province-level division codes.
PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83}
)


# What is wrong with an ID number, by `IdNumberProblem.code` ("numeric_cell": found by the
# register import, where Excel stored the number as a number).
ID_NUMBER_PROBLEMS = {
    "length": _l("An ID number has 18 characters."),
    "format": _l("An ID number has 17 digits followed by a digit or X."),
    "region": _l("The ID number starts with an unknown region code."),
    "birth_date": _l("The birth date inside the ID number is not a valid date."),
    "checksum": _l("The ID number's check digit does not match: look for a typing error."),
    "numeric_cell": _l(
        "Excel stored this ID number as a number and lost its last digits: "
        "format the column as text and type it again."
    ),
}


class IdNumberProblem(Problem):
    """`code` names what is wrong: length, format, region, birth_date, checksum; the message
    says it to the user, on the `id_number` field."""

    def __init__(self, code: str):
        super().__init__(ID_NUMBER_PROBLEMS[code], "id_number")
        self.code = code


def normalise_id_number(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw or "")
    return re.sub(r"[\s\-]", "", text).upper()


def check_digit(first17: str) -> str:
    return CHECK_CODES[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def validate_id_number(raw: str, *, today: date | None = None) -> str:
    """The normalised 18-character number, or IdNumberProblem."""
    number = normalise_id_number(raw)
    if len(number) != 18:
        raise IdNumberProblem("length")
    if not (number[:17].isdigit() and (number[17].isdigit() or number[17] == "X")):
        raise IdNumberProblem("format")
    if int(number[:2]) not in PROVINCES:
        raise IdNumberProblem("region")
    try:
        born = birth_date_of(number)
    except ValueError:
        raise IdNumberProblem("birth_date") from None
    if born.year < 1900 or born > (today or china_today()):
        raise IdNumberProblem("birth_date")
    if check_digit(number[:17]) != number[17]:
        raise IdNumberProblem("checksum")
    return number


def birth_date_of(number: str) -> date:
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def gender_of(number: str) -> str:
    return "male" if int(number[16]) % 2 else "female"


def mask_id_number(number: str | None) -> str:
    """3401**********1234: the region's first four and the last four stay visible."""
    if not number:
        return ""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def without_personal_numbers(text: str) -> str:
    """The text with every ID and mobile number in it masked, before it goes into a notice or a
    stored reason."""
    text = ID_NUMBER_IN_TEXT.sub(lambda match: mask_id_number(match.group()), text)
    return MOBILE_IN_TEXT.sub(lambda match: mask_phone(match.group()), text)
