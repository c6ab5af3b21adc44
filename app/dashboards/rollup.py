"""Reading the dashboards: a subtree's figures, its direct children's, and the problems list.

Each is one query over the figures table joined to the association tree (a path range scan),
whatever the size of the subtree: a province's 20,000 associations are summed by the database,
never loaded. `naive_rollup` computes the same figures from the raw tables (the benchmark and
the tests compare the two).
"""

import functools
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, bindparam, case, func, literal, or_, select, text
from sqlalchemy.orm import aliased

from app.dashboards.figures import (
    CHECKLIST_STATUSES,
    NOT_STARTED,
    QUALIFIED,
    RETURNED,
    SUBMITTED,
    compute_rows,
)
from app.dashboards.models import AssociationFigures
from app.extensions import db
from app.members.services import MEMBER_RATIO_TARGET
from tenants.models import GRASSROOTS_LEVEL, KIND_LEVELS, Association, AssociationKind
from tenants.tree import subtree_bounds

GRASSROOTS_KINDS = tuple(k for k, level in KIND_LEVELS.items() if level == GRASSROOTS_LEVEL)
COLLECTION_TARGET = 0.90
# Member-ratio bands of the distribution chart, in per cent of the population served.
RATIO_BANDS = ((0, 5), (5, 8), (8, 10), (10, 15), (15, None))
TARGETS = ("members", "activities", "checklist", "dues")
GREEN, AMBER, RED, NONE = "green", "amber", "red", "none"


def ended_quarters(year: int, today: date) -> int:
    """Quarters of `year` that are over (a quarter still running is not a gap yet)."""
    if year < today.year:
        return 4
    if year > today.year:
        return 0
    return (today.month - 1) // 3


@dataclass
class Figures:
    """Figures of one association's whole subtree (itself included) for a year."""

    associations: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    grassroots: int = 0
    members: int = 0
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
    ratio_bands: list[int] = field(default_factory=lambda: [0] * (len(RATIO_BANDS) + 1))

    @property
    def activities(self) -> int:
        return sum(self.quarters)

    @property
    def member_ratio(self) -> float | None:
        return self.ratio_members / self.population if self.population else None

    @property
    def linkage_coverage(self) -> float | None:
        return self.covered_households / self.households if self.households else None

    @property
    def collection_rate(self) -> float | None:
        if not self.dues_expected_fen:
            return None
        return (self.dues_collected_fen or 0) / self.dues_expected_fen

    @property
    def volunteer_hours(self) -> float | None:
        return None if self.volunteer_minutes is None else self.volunteer_minutes / 60

    @property
    def qualified(self) -> int:
        return self.checklist.get(QUALIFIED, 0)

    def flags(self) -> dict[str, str]:
        """Red/amber/green against the targets (none where there is nothing to judge)."""
        return {
            "members": _band(self.member_ratio, MEMBER_RATIO_TARGET, 0.8 * MEMBER_RATIO_TARGET),
            "activities": NONE
            if not self.grassroots
            else _band(1 - self.quarter_gaps / self.grassroots, 1.0, 0.9),
            "checklist": NONE if not self.grassroots else self._checklist_flag(),
            "dues": _band(self.collection_rate, COLLECTION_TARGET, 0.7),
        }

    def _checklist_flag(self) -> str:
        if self.qualified == self.grassroots:
            return GREEN
        on_the_way = self.qualified + self.checklist.get(SUBMITTED, 0)
        return AMBER if on_the_way >= 0.8 * self.grassroots else RED

    def comparable(self) -> dict:
        """Every figure, for comparing two computations."""
        values = {k: v for k, v in self.__dict__.items()}
        values["by_kind"] = {k: v for k, v in self.by_kind.items() if v}
        values["checklist"] = {k: v for k, v in self.checklist.items() if v}
        return values


def _band(value: float | None, green: float, amber: float) -> str:
    if value is None:
        return NONE
    if value >= green - 1e-12:
        return GREEN
    return AMBER if value >= amber else RED


@dataclass
class ChildRow:
    association: Association
    figures: Figures


# --- the SQL roll-up ----------------------------------------------------------------------------


def _aggregates(area, figures, ended: int) -> list:
    """Labelled aggregate columns over `area` (associations) left-joined to `figures`, for a
    year of which `ended` quarters are over."""
    grassroots = area.kind.in_(GRASSROOTS_KINDS)

    def total(column):
        return func.coalesce(func.sum(column), 0)

    def count_if(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    def nullable_sum(column):
        return func.sum(column)

    members = func.coalesce(figures.members, 0)
    known = and_(grassroots, figures.population.isnot(None), figures.population > 0)
    quarters = [func.coalesce(getattr(figures, f"activities_q{q}"), 0) for q in range(1, 5)]
    gap = or_(*(quarters[q] == 0 for q in range(ended))) if ended else literal(False)
    status = func.coalesce(figures.checklist_status, NOT_STARTED)
    columns = [
        func.count(area.id).label("associations"),
        *(count_if(area.kind == kind).label(f"kind_{kind.value}") for kind in AssociationKind),
        count_if(grassroots).label("grassroots"),
        total(figures.members).label("members"),
        total(case((known, members), else_=0)).label("ratio_members"),
        total(case((known, figures.population), else_=0)).label("population"),
        *(total(quarters[q]).label(f"q{q + 1}") for q in range(4)),
        count_if(and_(grassroots, gap)).label("quarter_gaps"),
        *(count_if(and_(grassroots, status == s)).label(f"cl_{s}") for s in CHECKLIST_STATUSES),
        total(figures.households).label("households"),
        total(figures.covered_households).label("covered_households"),
        nullable_sum(figures.dues_expected_fen).label("dues_expected_fen"),
        nullable_sum(figures.dues_collected_fen).label("dues_collected_fen"),
        nullable_sum(figures.volunteer_minutes).label("volunteer_minutes"),
        nullable_sum(figures.overdue_rectifications).label("overdue_rectifications"),
        count_if(grassroots & ~known).label("band_unknown"),
    ]
    for index, (low, high) in enumerate(RATIO_BANDS):
        condition = and_(known, members * 100 >= figures.population * low)
        if high is not None:
            condition = and_(condition, members * 100 < figures.population * high)
        columns.append(count_if(condition).label(f"band_{index}"))
    return columns


def _figures_from_row(row) -> Figures:
    values = row._mapping
    return Figures(
        associations=values["associations"],
        by_kind={kind.value: int(values[f"kind_{kind.value}"]) for kind in AssociationKind},
        grassroots=int(values["grassroots"]),
        members=int(values["members"]),
        ratio_members=int(values["ratio_members"]),
        population=int(values["population"]),
        quarters=[int(values[f"q{q}"]) for q in range(1, 5)],
        quarter_gaps=int(values["quarter_gaps"]),
        checklist={s: int(values[f"cl_{s}"]) for s in CHECKLIST_STATUSES},
        households=int(values["households"]),
        covered_households=int(values["covered_households"]),
        dues_expected_fen=_int_or_none(values["dues_expected_fen"]),
        dues_collected_fen=_int_or_none(values["dues_collected_fen"]),
        volunteer_minutes=_int_or_none(values["volunteer_minutes"]),
        overdue_rectifications=_int_or_none(values["overdue_rectifications"]),
        ratio_bands=[int(values[f"band_{i}"]) for i in range(len(RATIO_BANDS))]
        + [int(values["band_unknown"])],
    )


def _int_or_none(value) -> int | None:
    return None if value is None else int(value)


# The statements are large (some forty aggregates): built once per number of ended quarters,
# with the year and the subtree as bound parameters, so a page view only binds values.


@functools.cache
def _subtree_statement(ended: int):
    area = aliased(Association, name="area")
    figures = aliased(AssociationFigures, name="figures")
    return (
        select(*_aggregates(area, figures, ended))
        .select_from(area)
        .outerjoin(
            figures,
            and_(figures.association_id == area.id, figures.year == bindparam("year")),
        )
        .where(area.path >= bindparam("low"), area.path < bindparam("high"))
    )


@functools.cache
def _children_statement(ended: int):
    child = aliased(Association, name="child")
    area = aliased(Association, name="area")
    figures = aliased(AssociationFigures, name="figures")
    high = func.substr(child.path, 1, func.length(child.path) - 1).concat("0")
    return (
        select(child, *_aggregates(area, figures, ended))
        .select_from(child)
        .join(area, and_(area.path >= child.path, area.path < high))
        .outerjoin(
            figures,
            and_(figures.association_id == area.id, figures.year == bindparam("year")),
        )
        .where(child.parent_id == bindparam("parent_id"))
        .group_by(child.id)
        .order_by(child.name)
    )


def prefer_custom_plans() -> None:
    """PostgreSQL: plan this transaction's statements for their actual subtree. psycopg
    prepares a statement after a few runs, and a generic plan cannot know that a province's
    path range holds 20,000 rows and a village's one: it picked nested loops that took
    seconds at province scale."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def rollup(association: Association, year: int, *, today: date | None = None) -> Figures:
    """The subtree's figures: one query. Run inside subtree_reads()."""
    low, high = subtree_bounds(association.path)
    statement = _subtree_statement(ended_quarters(year, today or date.today()))
    row = db.session.execute(statement, {"year": year, "low": low, "high": high}).one()
    return _figures_from_row(row)


def children_rollup(association: Association, year: int, *, today: date | None = None):
    """Each direct child with its subtree's figures: one query, grouped by child."""
    statement = _children_statement(ended_quarters(year, today or date.today()))
    rows = db.session.execute(statement, {"year": year, "parent_id": association.id})
    return [ChildRow(association=row[0], figures=_figures_from_row(row)) for row in rows]


# --- the problems list ----------------------------------------------------------------------


@dataclass
class Problem:
    association: Association
    parent_name: str | None
    figures: Figures
    missed: list[str]


def _problem_conditions(figures, year: int, today: date) -> dict:
    members = func.coalesce(figures.members, 0)
    ended = ended_quarters(year, today)
    quarters = [func.coalesce(getattr(figures, f"activities_q{q}"), 0) for q in range(1, 5)]
    status = func.coalesce(figures.checklist_status, NOT_STARTED)
    target_percent = int(MEMBER_RATIO_TARGET * 100)
    return {
        "members": and_(
            figures.population > 0, members * 100 < figures.population * target_percent
        ),
        "activities": or_(*(quarters[q] == 0 for q in range(ended))) if ended else literal(False),
        "checklist": status.in_((RETURNED, NOT_STARTED)),
        "dues": and_(
            figures.dues_expected_fen > 0,
            figures.dues_collected_fen * 100
            < figures.dues_expected_fen * int(COLLECTION_TARGET * 100),
        ),
        "rectification": func.coalesce(figures.overdue_rectifications, 0) > 0,
    }


def problems_query(
    association: Association,
    year: int,
    *,
    kind: str = "",
    target: str = "",
    today: date | None = None,
):
    """Grassroots associations of the subtree behind on a target (or on `target` only)."""
    today = today or date.today()
    area = aliased(Association)
    parent = aliased(Association)
    figures = aliased(AssociationFigures)
    on = and_(figures.association_id == area.id, figures.year == year)
    conditions = _problem_conditions(figures, year, today)
    low, high = subtree_bounds(association.path)
    query = (
        select(area, parent.name, figures)
        .select_from(area)
        .outerjoin(figures, on)
        .outerjoin(parent, parent.id == area.parent_id)
        .where(area.path >= low, area.path < high, area.kind.in_(GRASSROOTS_KINDS))
        .order_by(area.path)
    )
    if kind:
        query = query.where(area.kind == kind)
    return query.where(conditions[target] if target else or_(*conditions.values()))


def problem_from_row(row, year: int, today: date | None = None) -> Problem:
    today = today or date.today()
    association, parent_name, stored = row
    figures = figures_of_one(association, stored, year, today)
    missed = missed_targets(figures)
    return Problem(association=association, parent_name=parent_name, figures=figures, missed=missed)


def missed_targets(figures: Figures) -> list[str]:
    """The targets one association misses (the rules of `_problem_conditions`)."""
    missed = []
    if figures.population and figures.ratio_members * 100 < figures.population * int(
        MEMBER_RATIO_TARGET * 100
    ):
        missed.append("members")
    if figures.quarter_gaps:
        missed.append("activities")
    if figures.checklist.get(RETURNED) or figures.checklist.get(NOT_STARTED):
        missed.append("checklist")
    if figures.dues_expected_fen and (figures.dues_collected_fen or 0) * 100 < (
        figures.dues_expected_fen * int(COLLECTION_TARGET * 100)
    ):
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
    """Sum (kind, row values) pairs with the rules of the SQL roll-up."""
    result = Figures(
        by_kind={kind.value: 0 for kind in AssociationKind},
        checklist={s: 0 for s in CHECKLIST_STATUSES},
    )
    ended = ended_quarters(year, today)
    for kind, values in rows:
        kind = AssociationKind(kind)
        result.associations += 1
        result.by_kind[kind.value] += 1
        members = values.get("members") or 0
        result.members += members
        quarters = [values.get(f"activities_q{q}") or 0 for q in range(1, 5)]
        result.quarters = [a + b for a, b in zip(result.quarters, quarters, strict=True)]
        result.households += values.get("households") or 0
        result.covered_households += values.get("covered_households") or 0
        for key in (
            "dues_expected_fen",
            "dues_collected_fen",
            "volunteer_minutes",
            "overdue_rectifications",
        ):
            if values.get(key) is not None:
                setattr(result, key, (getattr(result, key) or 0) + values[key])
        if not kind.is_grassroots:
            continue
        result.grassroots += 1
        population = values.get("population")
        if population:
            result.ratio_members += members
            result.population += population
            for index, (low, high) in enumerate(RATIO_BANDS):
                if members * 100 >= population * low and (
                    high is None or members * 100 < population * high
                ):
                    result.ratio_bands[index] += 1
        else:
            result.ratio_bands[-1] += 1
        if any(quarters[q] == 0 for q in range(ended)):
            result.quarter_gaps += 1
        result.checklist[values.get("checklist_status") or NOT_STARTED] += 1
    return result


def naive_rollup(association: Association, year: int, *, today: date | None = None) -> Figures:
    """The subtree's figures computed from the raw tables now (no figures table)."""
    today = today or date.today()
    low, high = subtree_bounds(association.path)
    tree = db.session.execute(
        select(Association.id, Association.kind).where(
            Association.path >= low, Association.path < high
        )
    ).all()
    rows = compute_rows(year, [association_id for association_id, _ in tree])
    return aggregate([(kind, rows[association_id]) for association_id, kind in tree], year, today)


def as_of(association: Association, year: int) -> datetime | None:
    """When the oldest figures of the subtree were computed (None: never)."""
    low, high = subtree_bounds(association.path)
    return db.session.scalar(
        select(func.min(AssociationFigures.computed_at))
        .join(Association, Association.id == AssociationFigures.association_id)
        .where(Association.path >= low, Association.path < high, AssociationFigures.year == year)
    )
