"""Points of the yearly assessment (考核), counted in tenths: reading and writing them, and the
points an item scored from the figures earns (the figures' one definition, app/dashboards,
against the targets in force at the association)."""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from flask_babel import lazy_gettext as _l

from app.assessments.models import Rule
from app.assessments.problems import AssessmentError
from app.dashboards import definitions, periods, rollup
from app.dashboards.targets import BUILT_IN, Targets
from tenants.context import subtree_reads
from tenants.models import Association

MAX_ITEM_TENTHS = 1000  # 100 points
RULE_LABELS = {
    Rule.MANUAL: _l("Scored by hand, with evidence"),
    Rule.QIYOU: _l("七有 qualified (share of qualified grassroots associations)"),
    Rule.ACTIVE_QUARTERS: _l("A quarter of the points per quarter meeting the activity target"),
    Rule.ACTIVITIES_YEAR: _l("Activities in the year reach the target"),
    Rule.MEMBER_RATIO: _l("Member ratio reaches the target"),
    Rule.COLLECTION_RATE: _l("Dues collection rate reaches the target"),
    Rule.LINKAGE: _l("Linkage coverage reaches the target"),
}


def parse_points(text: str | None, *, maximum: int, field_name: str) -> int | None:
    """ "2.5" → 25 tenths; blank → None; refuses anything else, below 0 or above `maximum`."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise AssessmentError(_l("Enter points as a number, e.g. 2.5."), field=field_name) from None
    if not value.is_finite() or value != value.quantize(Decimal("0.1")):
        raise AssessmentError(_l("Points are counted in tenths, e.g. 2.5."), field=field_name)
    tenths = int(value * 10)
    if tenths < 0 or tenths > maximum:
        raise AssessmentError(
            _l("Enter between 0 and %(max)s points.", max=points_text(maximum)), field=field_name
        )
    return tenths


def points_text(tenths: int | None) -> str:
    if tenths is None:
        return "—"
    return f"{tenths // 10}" if tenths % 10 == 0 else f"{tenths // 10}.{tenths % 10}"


def _share_of(points_tenths: int, part: int, whole: int) -> int:
    """points × part / whole in tenths, rounded half up."""
    if whole <= 0:
        return 0
    return (2 * points_tenths * part + whole) // (2 * whole)


# --- figures ----------------------------------------------------------------------------------


def figures_of(association: Association, year: int) -> rollup.Figures:
    """The association's (subtree's) figures for the year: the frozen ones once the year's Q4
    is closed, the live ones before."""
    with subtree_reads():
        if periods.is_closed(year, 4):
            closed = periods.read_period(association, year, 4)
            if closed is not None:
                return closed.dashboard.total
        figures, _as_of = rollup.read_total(association, year)
    return figures


@dataclass(frozen=True)
class AutoScore:
    tenths: int
    detail: str  # what the figure was, against which target


def auto_score(rule: Rule, points_tenths: int, figures: rollup.Figures, targets: Targets):
    """The points an item scored from the figures earns (None for a manual item)."""
    full = points_tenths

    def reaches(value: Fraction | None, target: Fraction, label) -> AutoScore:
        earned = full if value is not None and value >= target else 0
        return AutoScore(
            earned,
            str(
                _l(
                    "%(figure)s %(value)s (target %(target)s)",
                    figure=label,
                    value=definitions.percent_text(value),
                    target=definitions.target_text(target),
                )
            ),
        )

    if rule == Rule.QIYOU:
        return AutoScore(
            _share_of(full, figures.qualified, figures.grassroots),
            str(
                _l(
                    "七有 qualified: %(qualified)d of %(grassroots)d",
                    qualified=figures.qualified,
                    grassroots=figures.grassroots,
                )
            ),
        )
    if rule == Rule.ACTIVE_QUARTERS:
        met = sum(1 for count in figures.quarters if count >= targets.activities_per_quarter)
        return AutoScore(
            _share_of(full, met, 4),
            str(
                _l(
                    "Quarters with at least %(target)d activity: %(met)d of 4",
                    target=targets.activities_per_quarter,
                    met=met,
                )
            ),
        )
    if rule == Rule.ACTIVITIES_YEAR:
        earned = full if figures.activities >= targets.activities_per_year else 0
        return AutoScore(
            earned,
            str(
                _l(
                    "Activities: %(count)d (target %(target)d)",
                    count=figures.activities,
                    target=targets.activities_per_year,
                )
            ),
        )
    if rule == Rule.MEMBER_RATIO:
        return reaches(figures.member_ratio, targets.member_ratio, BUILT_IN["member_ratio"].label)
    if rule == Rule.COLLECTION_RATE:
        return reaches(
            figures.collection_rate, targets.collection_rate, BUILT_IN["collection_rate"].label
        )
    if rule == Rule.LINKAGE:
        return reaches(
            figures.linkage_coverage, targets.linkage_coverage, BUILT_IN["linkage_coverage"].label
        )
    return None
