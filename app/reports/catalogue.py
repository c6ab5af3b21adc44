"""The dashboard figures a report form may take, each read off one association's figures row
(app/dashboards: `association_figures` live, `period_figures` frozen for a closed period), and
the translated words of the reports pages."""

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.reports.models import PeriodKind, ReportState


def _activities(row: dict, kind: PeriodKind, number: int) -> int:
    """Activities held in the quarter of a quarterly form, in the year (so far) otherwise."""
    if kind == PeriodKind.QUARTER:
        return int(row.get(f"activities_q{number}") or 0)
    return sum(int(row.get(f"activities_q{q}") or 0) for q in range(1, 5))


@dataclass(frozen=True)
class Figure:
    key: str
    label: object
    read: Callable[[dict, PeriodKind, int], int]


def _column(name: str, divisor: int = 1):
    return lambda row, kind, number: int(row.get(name) or 0) // divisor


FIGURES = {
    figure.key: figure
    for figure in (
        Figure("members", _l("Members"), _column("members")),
        Figure("new_members", _l("New members recruited"), _column("new_members")),
        Figure("population", _l("Population served"), _column("population")),
        Figure("activities", _l("Activities held"), _activities),
        Figure(
            "member_day_activities",
            _l("5·29 member-day activities"),
            _column("member_day_activities"),
        ),
        Figure("households", _l("Households registered"), _column("households")),
        Figure(
            "covered_households",
            _l("Households covered by linkage"),
            _column("covered_households"),
        ),
        Figure("volunteer_hours", _l("Volunteer hours"), _column("volunteer_minutes", 60)),
        Figure(
            "overdue_rectifications",
            _l("Overdue rectification tasks"),
            _column("overdue_rectifications"),
        ),
    )
}

FIELD_KINDS = {
    "number": _l("Number"),
    "text": _l("Text"),
    "choice": _l("Choice"),
    "file": _l("File"),
}
CHECK_KINDS = {
    "le": _l("is at most"),
    "ge0": _l("is not negative"),
    "required_if": _l("is required when this is filled in"),
}
PERIOD_KINDS = {
    PeriodKind.MONTH: _l("Monthly"),
    PeriodKind.QUARTER: _l("Quarterly"),
    PeriodKind.YEAR: _l("Yearly"),
}
STATE_LABELS = {
    ReportState.DRAFT: _l("Draft"),
    ReportState.SUBMITTED: _l("Submitted"),
    ReportState.RETURNED: _l("Returned"),
    ReportState.ACCEPTED: _l("Accepted"),
    ReportState.SUPERSEDED: _l("Replaced by a correction"),
}
SOURCE_LABELS = {
    "frozen": _l("Figures of the closed period (frozen)"),
    "live": _l("Live figures"),
    "children": _l("Sum of the accepted reports below"),
}


def figure_label(key: str) -> str:
    figure = FIGURES.get(key)
    return str(figure.label) if figure else key
