"""Reading the dashboards: a subtree's figures, its direct children's, and the targets' rules.

A subtree's figures are one stored row of sums (subtree_figures, kept by app/dashboards/
totals.py), its children's one row each: a province dashboard reads 17 rows, not 20,000. The
per-association lists (problems list, subtree sheet) are read in app/dashboards/reading.py.
`naive_rollup` computes the same figures from the raw tables (the benchmark and the tests
compare the two).
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction

from sqlalchemy import and_, func, literal, or_, select, text

from app.core.clock import china_today
from app.dashboards import definitions
from app.dashboards.definitions import ended_quarters
from app.dashboards.figures import (
    CHECKLIST_STATUSES,
    NOT_STARTED,
    QUALIFIED,
    RETURNED,
    SUBMITTED,
    compute_rows,
)
from app.dashboards.models import AssociationFigures, SubtreeFigures
from app.dashboards.targets import DEFAULT_TARGETS, Targets
from app.extensions import db
from tenants.models import GRASSROOTS_LEVEL, KIND_LEVELS, Association, AssociationKind
from tenants.tree import subtree_bounds

GRASSROOTS_KINDS = tuple(k for k, level in KIND_LEVELS.items() if level == GRASSROOTS_LEVEL)
# Member-ratio bands of the distribution chart, in per cent of the population served.
RATIO_BANDS = ((0, 5), (5, 8), (8, 10), (10, 15), (15, None))
TARGETS = ("members", "activities", "checklist", "dues")
GRASSROOTS_TARGETS = ("members", "activities", "checklist")
GREEN, AMBER, RED, NONE = "green", "amber", "red", "none"
# Before its first refresh, a subtree up to this size is computed from the raw tables for the
# home page (a village, a township); a larger one shows no figures until the refresh.
NAIVE_HOME_LIMIT = 500


@dataclass
class Figures:
    """Figures of one association's whole subtree (itself included) for a year."""

    associations: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    grassroots: int = 0
    members: int = 0
    new_members: int = 0  # 新发展会员: joined in the year
    member_day_held: int = 0  # grassroots associations that held a 5·29 member-day activity
    member_day_activities: int = 0
    ratio_members: int = 0  # members of grassroots associations whose population is known
    population: int = 0
    quarters: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    quarter_gaps: int = 0  # grassroots associations with an ended quarter without activity
    checklist: dict[str, int] = field(default_factory=dict)
    households: int = 0
    covered_households: int = 0
    dues_expected_fen: int | None = None
    dues_collected_fen: int | None = None
    volunteer_minutes: int | None = None
    overdue_rectifications: int | None = None
    # The self-governance cycle of the year (app/governance/figures.py): associations of the
    # subtree whose plan / report is published, the evaluation's responses and satisfied ones.
    plans_published: int = 0
    reports_published: int = 0
    survey_responses: int = 0
    satisfied_responses: int = 0
    ratio_bands: list[int] = field(default_factory=lambda: [0] * (len(RATIO_BANDS) + 1))
    year: int = 0
    today: date | None = None
    # The activity signatures of the subtree's grassroots associations (definitions.py).
    activity_keys: dict[str, int] = field(default_factory=dict)
    _counts: dict = field(default_factory=dict, repr=False, compare=False)

    def activity_counts(self, targets: Targets = DEFAULT_TARGETS) -> dict[str, int]:
        """Grassroots associations of the subtree per activity status (met, on track, at
        risk, missed) on `today`, against the targets. Kept per targets: a page asks for
        them for the colour and for the words of each row."""
        cached = self._counts.get(id(targets))
        if cached is None or cached[0] is not targets:
            counts = definitions.activity_status_counts(
                self.activity_keys, self.year, self.today, targets
            )
            cached = self._counts[id(targets)] = (targets, counts)
        return cached[1]

    def activity_progress(
        self, targets: Targets = DEFAULT_TARGETS
    ) -> definitions.ActivityProgress | None:
        """One grassroots association's progress (None for a subtree of several)."""
        if self.grassroots != 1 or self.associations != 1:
            return None
        return definitions.activity_progress(self.quarters, self.year, self.today, targets)

    @property
    def activities(self) -> int:
        return sum(self.quarters)

    @property
    def member_ratio(self) -> Fraction | None:
        return definitions.member_ratio(self.ratio_members, self.population)

    @property
    def linkage_coverage(self) -> Fraction | None:
        return definitions.linkage_coverage(self.covered_households, self.households)

    @property
    def collection_rate(self) -> Fraction | None:
        return definitions.collection_rate(self.dues_collected_fen, self.dues_expected_fen)

    @property
    def volunteer_hours(self) -> float | None:
        return None if self.volunteer_minutes is None else self.volunteer_minutes / 60

    @property
    def satisfaction(self) -> Fraction | None:
        """满意率: satisfied and very satisfied ÷ responses over the subtree (every answer
        counts once, not an average of the associations' rates)."""
        return definitions.share(self.satisfied_responses, self.survey_responses)

    @property
    def qualified(self) -> int:
        return self.checklist.get(QUALIFIED, 0)

    def flags(self, targets: Targets = DEFAULT_TARGETS) -> dict[str, str]:
        """Red/amber/green against the targets in force (none where there is nothing to
        judge)."""
        ratio = targets.member_ratio
        return {
            "members": _band(self.member_ratio, ratio, ratio * Fraction(8, 10)),
            "activities": NONE if not self.grassroots else self._activity_flag(targets),
            "checklist": NONE if not self.grassroots else self._checklist_flag(),
            "dues": _band(self.collection_rate, targets.collection_rate, Fraction(7, 10)),
            "satisfaction": _band(
                self.satisfaction, targets.satisfaction, targets.satisfaction * Fraction(8, 10)
            ),
        }

    def _activity_flag(self, targets: Targets) -> str:
        """Red when more than one grassroots association in ten missed the requirement,
        amber when any missed it or is at risk, green otherwise."""
        counts = self.activity_counts(targets)
        if counts[definitions.MISSED] * 10 > self.grassroots:
            return RED
        return AMBER if counts[definitions.MISSED] or counts[definitions.AT_RISK] else GREEN

    def _checklist_flag(self) -> str:
        if self.qualified == self.grassroots:
            return GREEN
        on_the_way = self.qualified + self.checklist.get(SUBMITTED, 0)
        return AMBER if on_the_way >= 0.8 * self.grassroots else RED

    def comparable(self) -> dict:
        """Every figure, for comparing two computations."""
        values = {k: v for k, v in self.__dict__.items() if k != "_counts"}
        values["by_kind"] = {k: v for k, v in self.by_kind.items() if v}
        values["checklist"] = {k: v for k, v in self.checklist.items() if v}
        return values


def _band(value: Fraction | None, green, amber) -> str:
    if value is None:
        return NONE
    if value >= green:
        return GREEN
    return AMBER if value >= amber else RED


@dataclass
class ChildRow:
    association: Association
    figures: Figures


# --- sums over a subtree ------------------------------------------------------------------------

# Figures that may be NULL (their module not installed): summed with the number of rows that
# have them, so "none known" stays distinguishable from zero.
NULLABLE = (
    "dues_expected_fen",
    "dues_collected_fen",
    "volunteer_minutes",
    "overdue_rectifications",
)

# The self-governance cycle (app/governance/figures.py): a column of the figures row and the
# key of its sum. Yearly: a closed quarter's pages read them from the live sums.
CYCLE_KEYS = ("plan_published", "report_published", "survey_responses", "satisfied_responses")


def contribution(kind, values: dict) -> dict[str, int]:
    """What one association's figures row adds to the sums of every subtree it lies in.

    Everything a dashboard shows is a sum of these (quarter gaps are counted for each number of
    ended quarters, so the sums don't go stale as the year goes on), which is what lets
    app/dashboards/totals.py keep subtree sums by adding and subtracting. Zeros are left out.
    """
    kind = AssociationKind(kind)
    members = values.get("members") or 0
    quarters = [values.get(f"activities_q{q}") or 0 for q in range(1, 5)]
    vector = {
        "associations": 1,
        f"kind_{kind.value}": 1,
        "members": members,
        "new_members": values.get("new_members") or 0,
        "member_day_activities": values.get("member_day_activities") or 0,
        **{f"q{q + 1}": quarters[q] for q in range(4)},
        "households": values.get("households") or 0,
        "covered_households": values.get("covered_households") or 0,
        **{key: values.get(key) or 0 for key in CYCLE_KEYS},
    }
    for key in NULLABLE:
        if values.get(key) is not None:
            vector[key] = values[key]
            vector[f"{key}_rows"] = 1
    if kind.is_grassroots:
        vector["grassroots"] = 1
        vector["member_day_held"] = int(bool(values.get("member_day_activities")))
        vector[f"cl_{values.get('checklist_status') or NOT_STARTED}"] = 1
        for ended in range(1, 5):
            vector[f"gaps_{ended}"] = int(any(quarters[q] == 0 for q in range(ended)))
        vector.update(definitions.activity_signatures(quarters))
        population = values.get("population")
        if population:
            vector["ratio_members"] = members
            vector["population"] = population
            for index, (low, high) in enumerate(RATIO_BANDS):
                if members * 100 >= population * low and (
                    high is None or members * 100 < population * high
                ):
                    vector[f"band_{index}"] = 1
        else:
            vector["band_unknown"] = 1
    return {key: value for key, value in vector.items() if value}


def add_into(totals: dict[str, int], vector: dict[str, int], sign: int = 1) -> dict[str, int]:
    """totals += sign × vector, in place; keys that come to zero are dropped."""
    for key, value in vector.items():
        total = totals.get(key, 0) + sign * value
        if total:
            totals[key] = total
        else:
            totals.pop(key, None)
    return totals


def figures_from_totals(totals: dict[str, int] | None, year: int, today: date) -> Figures:
    """Figures from summed contributions, for `year` as seen on `today`."""
    totals = totals or {}
    ended = ended_quarters(year, today)

    def get(key: str) -> int:
        return int(totals.get(key, 0))

    def known(key: str) -> int | None:
        return get(key) if get(f"{key}_rows") else None

    return Figures(
        associations=get("associations"),
        by_kind={kind.value: get(f"kind_{kind.value}") for kind in AssociationKind},
        grassroots=get("grassroots"),
        members=get("members"),
        new_members=get("new_members"),
        member_day_held=get("member_day_held"),
        member_day_activities=get("member_day_activities"),
        ratio_members=get("ratio_members"),
        population=get("population"),
        quarters=[get(f"q{q}") for q in range(1, 5)],
        quarter_gaps=get(f"gaps_{ended}") if ended else 0,
        checklist={s: get(f"cl_{s}") for s in CHECKLIST_STATUSES},
        households=get("households"),
        covered_households=get("covered_households"),
        dues_expected_fen=known("dues_expected_fen"),
        dues_collected_fen=known("dues_collected_fen"),
        volunteer_minutes=known("volunteer_minutes"),
        overdue_rectifications=known("overdue_rectifications"),
        plans_published=get("plan_published"),
        reports_published=get("report_published"),
        survey_responses=get("survey_responses"),
        satisfied_responses=get("satisfied_responses"),
        ratio_bands=[get(f"band_{i}") for i in range(len(RATIO_BANDS))] + [get("band_unknown")],
        year=year,
        today=today,
        activity_keys={k: v for k, v in totals.items() if k.startswith("act")},
    )


def prefer_custom_plans() -> None:
    """PostgreSQL: plan this transaction's statements for their actual subtree. psycopg
    prepares a statement after a few runs, and a generic plan cannot know that a province's
    path range holds 20,000 rows and a village's one: it picked nested loops that took
    seconds at province scale (the problems list still scans the subtree)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


@dataclass
class Dashboard:
    total: Figures
    children: list[ChildRow]
    as_of: datetime | None  # no figure of the subtree was computed before this


def read_dashboard(association: Association, year: int, *, today: date | None = None):
    """The subtree's figures, each direct child's, and how fresh they are, in two queries: the
    children, then their stored rows and the association's in one statement — so row-level
    security builds its set of the viewer's subtree once (at province scale that set is the
    cost: ~20 ms, the rows themselves are 17 index lookups). Run inside subtree_reads()."""
    today = today or china_today()
    children = list(
        db.session.scalars(
            select(Association)
            .where(Association.parent_id == association.id)
            .order_by(Association.name)
        )
    )
    stored = {
        association_id: (totals, oldest)
        for association_id, totals, oldest in db.session.execute(
            select(
                SubtreeFigures.association_id,
                SubtreeFigures.totals,
                SubtreeFigures.oldest_computed_at,
            ).where(
                SubtreeFigures.year == year,
                SubtreeFigures.association_id.in_([association.id, *(c.id for c in children)]),
            )
        )
    }
    totals, as_of = stored.get(association.id, (None, None))
    return Dashboard(
        total=figures_from_totals(totals, year, today),
        children=[
            ChildRow(child, figures_from_totals(stored.get(child.id, (None,))[0], year, today))
            for child in children
        ],
        as_of=as_of,
    )


def read_total(
    association: Association, year: int, *, today: date | None = None
) -> tuple[Figures, datetime | None]:
    """The subtree's figures as the dashboard shows them (one stored row) and how fresh they
    are; computed from the raw tables when none are stored yet (a new association before its
    first refresh). The home page reads this. Run inside subtree_reads()."""
    stored = db.session.execute(
        select(SubtreeFigures.totals, SubtreeFigures.oldest_computed_at).where(
            SubtreeFigures.year == year, SubtreeFigures.association_id == association.id
        )
    ).first()
    if stored is None:
        low, high = subtree_bounds(association.path)
        size = db.session.scalar(
            select(func.count(Association.id)).where(
                Association.path >= low, Association.path < high
            )
        )
        if size > NAIVE_HOME_LIMIT:  # a large subtree waits for the refresh, not the page
            return figures_from_totals({}, year, today or china_today()), None
        return naive_rollup(association, year, today=today), None
    totals, as_of = stored
    return figures_from_totals(totals, year, today or china_today()), as_of


def rollup(association: Association, year: int, *, today: date | None = None) -> Figures:
    """The subtree's figures (one stored row). Run inside subtree_reads()."""
    return read_dashboard(association, year, today=today).total


def children_rollup(association: Association, year: int, *, today: date | None = None):
    """Each direct child with its subtree's figures."""
    return read_dashboard(association, year, today=today).children


# --- the targets' rules (the problems list and the subtree sheet read them: reading.py) -------


def target_conditions(figures, year: int, today: date, targets: Targets) -> dict:
    """The rules of `missed_targets` in SQL over the figures columns `figures` (exact: a share
    below a/b is part·b < whole·a)."""
    members = func.coalesce(figures.members, 0)
    ended, days_left = definitions.current_quarter(year, today)
    quarters = [func.coalesce(getattr(figures, f"activities_q{q}"), 0) for q in range(1, 5)]
    per_quarter, per_year = targets.activities_per_quarter, targets.activities_per_year
    total = quarters[0] + quarters[1] + quarters[2] + quarters[3]
    # definitions.activity_status in SQL: missed, or at risk in the running quarter.
    behind = [quarters[q] < per_quarter for q in range(ended)]
    if ended == 4:
        behind.append(total < per_year)
    elif days_left <= definitions.RISK_DAYS:
        behind.append(quarters[ended] < per_quarter)
        if ended == 3:
            behind.append(total < per_year)
    status = func.coalesce(figures.checklist_status, NOT_STARTED)
    ratio, collection = targets.member_ratio, targets.collection_rate
    return {
        "members": and_(
            figures.population > 0,
            members * ratio.denominator < figures.population * ratio.numerator,
        ),
        "activities": or_(*behind) if behind else literal(False),
        "checklist": status.in_((RETURNED, NOT_STARTED)),
        "dues": and_(
            figures.dues_expected_fen > 0,
            figures.dues_collected_fen * collection.denominator
            < figures.dues_expected_fen * collection.numerator,
        ),
        "rectification": func.coalesce(figures.overdue_rectifications, 0) > 0,
    }


def missed_targets(figures: Figures, targets: Targets = DEFAULT_TARGETS) -> list[str]:
    """The targets one association misses (the rules of `_problem_conditions`)."""
    missed = []
    ratio, collection = figures.member_ratio, figures.collection_rate
    if ratio is not None and ratio < targets.member_ratio:
        missed.append("members")
    if figures.activity_counts(targets)[definitions.MISSED]:
        missed.append("activities")
    if figures.checklist.get(RETURNED) or figures.checklist.get(NOT_STARTED):
        missed.append("checklist")
    if collection is not None and collection < targets.collection_rate:
        missed.append("dues")
    if figures.overdue_rectifications:
        missed.append("rectification")
    return missed


# --- the same figures in Python (one association's row, and the naive computation) ---------------


def figures_of_one(association: Association, values, year: int, today: date) -> Figures:
    """Figures of one association from its stored row (an AssociationFigures, a dict, or None)."""
    if values is not None and not isinstance(values, dict):
        values = {c.key: getattr(values, c.key) for c in AssociationFigures.__table__.columns}
    return aggregate([(association.kind, values or {})], year, today)


def aggregate(rows, year: int, today: date) -> Figures:
    """Sum (kind, row values) pairs with the rules of the stored sums."""
    totals: dict[str, int] = {}
    for kind, values in rows:
        add_into(totals, contribution(kind, values))
    return figures_from_totals(totals, year, today)


def naive_rollup(association: Association, year: int, *, today: date | None = None) -> Figures:
    """The subtree's figures computed from the raw tables now (no figures table)."""
    today = today or china_today()
    low, high = subtree_bounds(association.path)
    tree = db.session.execute(
        select(Association.id, Association.kind).where(
            Association.path >= low, Association.path < high
        )
    ).all()
    rows = compute_rows(year, [association_id for association_id, _ in tree])
    return aggregate(
        [(kind, rows[association_id]) for association_id, kind in tree if association_id in rows],
        year,
        today,
    )
