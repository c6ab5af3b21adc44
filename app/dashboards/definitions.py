"""The one definition of each figure a page shows (written down in docs/figures.md).

Every page — the home page, the dashboard, the printed report, the .xlsx export, the problems
list — reads a figure through these functions, from the same stored sums
(app/dashboards/rollup.py: `Figures`), and shows a percentage through `percent`, so one
association and year has one value everywhere. Shares are exact fractions of whole counts
(never floats), compared with their target exactly and rounded once, half up, to 0.1 %.
"""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

PERCENT_STEP = Decimal("0.1")


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
