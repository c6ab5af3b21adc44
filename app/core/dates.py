"""The sensible range of a date a person types or imports: from 1900-01-01 to one year after
China's today. Anything outside is a typo (0001-01-01, 20240-01-01) that would otherwise end
up in receipts, year figures and reports."""

from datetime import date, datetime

from flask_babel import lazy_gettext as _l

from app.core.clock import china_today

EARLIEST_DATE = date(1900, 1, 1)
DATE_RANGE_MESSAGE = _l("Enter a date between 1900 and one year from today.")
FUTURE_DATE_MESSAGE = _l("The date cannot be in the future.")


def latest_sensible_date(today: date | None = None) -> date:
    """One year after China's today (28 February when today is 29 February)."""
    today = today or china_today()
    try:
        return today.replace(year=today.year + 1)
    except ValueError:
        return today.replace(year=today.year + 1, day=28)


def is_sensible_date(value: date | datetime, today: date | None = None) -> bool:
    """True when the date (of a datetime: its own calendar date) lies in the sensible range."""
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST_DATE <= day <= latest_sensible_date(today)


def date_problem(
    value: date | datetime | None, *, not_future: bool = False, today: date | None = None
):
    """The translated reason a date is refused, or None: outside the sensible range, or (with
    `not_future`) after China's today. For services and imports, which have no form."""
    if value is None:
        return None
    today = today or china_today()
    if not is_sensible_date(value, today):
        return DATE_RANGE_MESSAGE
    day = value.date() if isinstance(value, datetime) else value
    if not_future and day > today:
        return FUTURE_DATE_MESSAGE
    return None
