"""The periods a report form covers (a month, a quarter or a year): its name, its last day and
the period after it."""

from datetime import date, timedelta

from flask_babel import gettext as _

from app.reports.models import PeriodKind


def period_text(kind: PeriodKind, year: int, number: int) -> str:
    if kind == PeriodKind.MONTH:
        return _("%(year)d, month %(n)d", year=year, n=number)
    if kind == PeriodKind.QUARTER:
        return _("%(year)d Q%(n)d", year=year, n=number)
    return _("Year %(year)d", year=year)


def period_end(kind: PeriodKind, year: int, number: int) -> date:
    if kind == PeriodKind.YEAR:
        return date(year, 12, 31)
    last_month = number * 3 if kind == PeriodKind.QUARTER else number
    if last_month == 12:
        return date(year, 12, 31)
    return date(year, last_month + 1, 1) - timedelta(days=1)


def next_period(kind: PeriodKind, year: int, number: int) -> tuple[int, int]:
    """(year, number) of the period after this one."""
    if kind == PeriodKind.YEAR:
        return year + 1, 0
    last = 12 if kind == PeriodKind.MONTH else 4
    return (year + 1, 1) if number == last else (year, number + 1)
