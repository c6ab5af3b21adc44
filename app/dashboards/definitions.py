"""The one definition of each figure a page shows (written down in docs/figures.md).

Every page — the home page, the dashboard, the printed report, the .xlsx export, the problems
list — reads a figure through these functions, from the same stored sums
(app/dashboards/rollup.py: `Figures`), and shows a percentage through `percent`, so one
association and year has one value everywhere. Shares are exact fractions of whole counts
(never floats), compared with their target exactly and rounded once, half up, to 0.1 %.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import cache

from babel.numbers import format_decimal, get_group_symbol

from app.core.clock import china_today

PERCENT_STEP = Decimal("0.1")

YEARS_SHOWN = 5  # the dashboard offers this year and the four before


def dashboard_years() -> list[int]:
    """The years the dashboards offer (and the figures job keeps current), oldest first."""
    this_year = china_today().year
    return list(range(this_year - YEARS_SHOWN + 1, this_year + 1))


def share(part: int | None, whole: int | None) -> Fraction | None:
    """part ÷ whole as an exact fraction; None when the whole is unknown or zero."""
    if not whole:
        return None
    return Fraction(part or 0, whole)


def member_ratio(ratio_members: int, population: int) -> Fraction | None:
    """会员比例: active members at the period's end ÷ the population in force at the period's
    end, over the grassroots associations of the subtree whose population is known (both
    sides from the same associations, so an association without a population neither adds
    members nor people; a township's own population is not added to its villages')."""
    return share(ratio_members, population)


def linkage_coverage(covered_households: int, households: int) -> Fraction | None:
    """联户覆盖面: households that are a 中心户 or linked to one ÷ all households."""
    return share(covered_households, households)


def collection_rate(collected_fen: int | None, expected_fen: int | None) -> Fraction | None:
    """会费收缴率: collected ÷ due for the year, exempt members left out, a charge counting at
    most its amount (app/dashboards/figures.py: `dues`)."""
    return share(collected_fen, expected_fen)


def members_needed(members: int, population: int | None, target: Fraction) -> int:
    """How many more members reach `target` of the population (0 when met or unknown)."""
    if not population:
        return 0
    needed = -(-population * target.numerator // target.denominator)
    return max(0, needed - members)


def percent(value: Fraction | float | None) -> Decimal | None:
    """A share in per cent, rounded once, half up, to one decimal (7.85 % → 7.9 %)."""
    if value is None:
        return None
    exact = Fraction(value) * 100
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
        PERCENT_STEP, rounding=ROUND_HALF_UP
    )


def percent_text(value: Fraction | float | None) -> str:
    """ "7.9%", or "—" when there is no value: the text every page shows."""
    rounded = percent(value)
    return "—" if rounded is None else f"{rounded}%"


@cache
def _group_symbol(locale: str) -> str:
    return get_group_symbol(locale)


def count_text(value: int | None, locale) -> str:
    """A count with the locale's digit grouping: the same text as babel's format_decimal
    gives a whole number ("12,345"), without parsing its pattern each time."""
    if value is None:
        return ""
    if not isinstance(value, int):
        return format_decimal(value, locale=locale)
    return f"{value:,}".replace(",", _group_symbol(str(locale)))


def target_text(value: Fraction | float) -> str:
    """A target as written in the source documents: "10%", "95%", "92.5%"."""
    rounded = percent(value)
    return f"{rounded.normalize():f}%"


def spreadsheet_share(value: Fraction | float | None) -> float | None:
    """The share a spreadsheet cell holds (formatted 0.0 %): already rounded like `percent`,
    so Excel shows the digits the pages show."""
    rounded = percent(value)
    return None if rounded is None else float(rounded / 100)


# --- periods ---------------------------------------------------------------------------------


def quarter_of(day: date) -> int:
    return (day.month - 1) // 3 + 1


def quarter_start(year: int, quarter: int) -> date:
    return date(year, 3 * quarter - 2, 1)


def quarter_end(year: int, quarter: int) -> date:
    """The last day of the quarter."""
    if quarter == 4:
        return date(year, 12, 31)
    return date(year, 3 * quarter + 1, 1) - timedelta(days=1)


def ended_quarters(year: int, today: date) -> int:
    """Quarters of `year` that are over (a quarter still running is not a gap yet)."""
    if year < today.year:
        return 4
    if year > today.year:
        return 0
    return (today.month - 1) // 3


# --- activity requirement: progress and risk in the current period ------------------------------

MET, ON_TRACK, AT_RISK, MISSED = "met", "on_track", "at_risk", "missed"
ACTIVITY_STATUSES = (MET, ON_TRACK, AT_RISK, MISSED)
# A quarter's missing activity puts it at risk in the quarter's last month (31 days or fewer
# left): "Q4: no activity yet, 31 days left" is amber on 30 November, not on 2 October.
RISK_DAYS = 31
# Counts are capped in the stored signatures (targets are validated below these).
QUARTER_CAP, YEAR_CAP = 6, 24


def activity_status(
    ended: int, lowest_ended: int, current: int, total: int, days_left: int, targets
) -> str:
    """The activity requirement of one grassroots association (every quarter at least
    `activities_per_quarter`, the year at least `activities_per_year`) as of a day.

    missed: an ended quarter fell short, or the year is over below the yearly count — as
    soon as a quarter ends short the year's requirement can no longer be met;
    met: every quarter and the year reached (all four quarters);
    at risk: the running quarter (or, in Q4, the year) still short with ≤ RISK_DAYS left;
    on track: otherwise."""
    per_quarter, per_year = targets.activities_per_quarter, targets.activities_per_year
    if (ended and lowest_ended < per_quarter) or (ended == 4 and total < per_year):
        return MISSED
    if ended == 4:
        return MET
    short = current < per_quarter or (ended == 3 and total < per_year)
    if not short and ended == 3:
        return MET
    if short and days_left <= RISK_DAYS:
        return AT_RISK
    return ON_TRACK


def activity_signatures(quarters: list[int]) -> dict[str, int]:
    """One key per number of ended quarters (0–4) saying what the status rule needs: the
    lowest count of the ended quarters, the running quarter's count and the year's total
    (capped). Summed over a subtree they count associations per signature, from which
    `activity_status_counts` counts each status for any targets on any day."""
    total = min(sum(quarters), YEAR_CAP)
    keys = {}
    for ended in range(5):
        lowest = min((min(quarters[:ended]) if ended else QUARTER_CAP), QUARTER_CAP)
        current = min(quarters[ended], QUARTER_CAP) if ended < 4 else 0
        keys[f"act{ended}:{lowest}:{current}:{total if ended >= 3 else 0}"] = 1
    return keys


def current_quarter(year: int, today: date) -> tuple[int, int]:
    """(quarters ended, days left in the running quarter) of `year` on `today`."""
    ended = ended_quarters(year, today)
    if ended == 4 or year > today.year:
        return ended, 0 if ended == 4 else 366
    return ended, (quarter_end(year, ended + 1) - today).days


def activity_status_counts(totals: dict, year: int, today: date, targets) -> dict[str, int]:
    """How many grassroots associations of a subtree are in each status (from its sums)."""
    ended, days_left = current_quarter(year, today)
    counts = dict.fromkeys(ACTIVITY_STATUSES, 0)
    prefix = f"act{ended}:"
    for key, count in totals.items():
        if key.startswith(prefix):
            lowest, current, total = (int(part) for part in key[len(prefix) :].split(":"))
            counts[activity_status(ended, lowest, current, total, days_left, targets)] += count
    return counts


@dataclass(frozen=True)
class ActivityProgress:
    """One association's activity requirement for a year, as of a day."""

    year: int
    quarters: tuple[int, ...]
    ended: int
    days_left: int
    per_quarter: int
    per_year: int
    status: str

    @property
    def total(self) -> int:
        return sum(self.quarters)

    @property
    def current(self) -> int | None:
        """The running quarter (None when the year is over)."""
        return self.ended + 1 if self.ended < 4 else None

    @property
    def short_quarters(self) -> list[int]:
        """Ended quarters below the per-quarter target."""
        return [q + 1 for q in range(self.ended) if self.quarters[q] < self.per_quarter]


def activity_progress(quarters, year: int, today: date, targets) -> ActivityProgress:
    quarters = tuple(int(count or 0) for count in quarters)
    ended, days_left = current_quarter(year, today)
    lowest = min(quarters[:ended]) if ended else QUARTER_CAP
    current = quarters[ended] if ended < 4 else 0
    status = activity_status(ended, lowest, current, sum(quarters), days_left, targets)
    return ActivityProgress(
        year=year,
        quarters=quarters,
        ended=ended,
        days_left=days_left,
        per_quarter=targets.activities_per_quarter,
        per_year=targets.activities_per_year,
        status=status,
    )
