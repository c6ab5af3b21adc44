"""Per-association figures of a period — frozen when the period is closed, live otherwise —
through one read path: the problems list, the subtree sheet (page and .xlsx) and any later
reader (the yearly reports, the assessments) read them here.

    period = reading.period_shown(year)            # or period_shown(year, quarter)
    rows = reading.association_rows(association, period, targets=targets_in_force(a, year))

`period_shown` is the rule every page follows: a closed quarter asked for, or a past year whose
Q4 is closed, is read frozen (app/dashboards/periods.py); otherwise the live figures. `source`
builds the SQL for either from the same columns — the live figures table, or the frozen rows
(period_figures, their JSON read column by column, with the path and kind each association had
when the period closed) — so the filters, the sort and the targets' rules in SQL are written
once. Values entered by hand (app/dashboards/manual.py) are columns of the same rows. The
subtree's sums of a period are `subtree_figures`.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from types import SimpleNamespace

from sqlalchemy import Float, and_, cast, func, literal, or_, select
from sqlalchemy.orm import aliased

from app.core.clock import china_today
from app.dashboards import definitions, manual, periods, rollup
from app.dashboards.models import AssociationFigures, PeriodFigures
from app.dashboards.targets import Targets
from app.extensions import db
from tenants.models import Association, AssociationKind
from tenants.tree import subtree_bounds

CHECKLIST_COLUMN = "checklist_status"
# The figures columns a row carries (integers, and the 七有 status).
INTEGER_COLUMNS = tuple(
    column.key
    for column in AssociationFigures.__table__.columns
    if column.key not in ("id", "association_id", "year", "computed_at", CHECKLIST_COLUMN)
)


@dataclass(frozen=True)
class Period:
    """The figures a page shows: a year's live figures (`quarter` None), or a closed quarter's
    frozen ones (Q4 is the year)."""

    year: int
    quarter: int | None = None
    closed_at: datetime | None = None

    @property
    def frozen(self) -> bool:
        return self.quarter is not None

    @property
    def judged_on(self) -> date:
        """The day the figures are judged as of: today for live figures, the day after a
        closed quarter ended (its activity requirement as it stood then)."""
        if self.quarter is None:
            return china_today()
        return definitions.quarter_end(self.year, self.quarter) + timedelta(days=1)


def period_shown(year: int, quarter: int | None = None, closed: dict | None = None) -> Period:
    """The period a page shows for `year`: the closed quarter asked for, else the year's Q4
    when the year is over and closed, else the live figures (`quarter=0` asks for them).
    `closed`: the year's closed quarters ({quarter: closed_at}) when the caller has them."""
    closed = periods.closed_quarters(year) if closed is None else closed
    if quarter is None and year < china_today().year and 4 in closed:
        quarter = 4
    if quarter in closed:
        return Period(year, quarter, closed[quarter])
    return Period(year)


def subtree_figures(association: Association, period: Period):
    """The subtree's figures of the period: (figures, amended figures or None). Frozen when the
    period is closed (None, None if the association did not exist then). Run inside
    subtree_reads()."""
    if period.frozen:
        closed = periods.read_period(association, period.year, period.quarter)
        if closed is None:
            return None, None
        return closed.dashboard.total, closed.amended
    return rollup.read_dashboard(association, period.year).total, None


# --- the rows, in SQL ---------------------------------------------------------------------------


@dataclass
class Source:
    """A select of per-association rows of a period over a subtree, and its columns: `area`
    the association, `path` and `kind` where it stood (frozen for a closed period), `figures`
    the figures columns by name, `by_hand` one column per target measured by hand."""

    period: Period
    query: object
    area: object
    path: object
    kind: object
    figures: SimpleNamespace
    by_hand: dict
    targets: list

    def kind_in(self, kinds) -> object:
        values = [AssociationKind(k) for k in kinds]
        return self.kind.in_([str(k) for k in values] if self.period.frozen else values)

    def conditions(self, targets: Targets) -> dict:
        """Each target's "missed" (or at risk) rule in SQL (app/dashboards/rollup.py), and the
        values entered by hand: any below its target."""
        conditions = rollup.target_conditions(
            self.figures, self.period.year, self.period.judged_on, targets
        )
        conditions["manual"] = or_(
            literal(False),
            *(
                below(self.by_hand[target.key], target.target)
                for target in self.targets
                if target.key in self.by_hand
            ),
        )
        grassroots = self.kind_in(rollup.GRASSROOTS_KINDS)
        for key in (*rollup.GRASSROOTS_TARGETS, "manual"):
            conditions[key] = and_(grassroots, conditions[key])
        return conditions


def below(column, target: Fraction):
    """value × 100 (a column) below `target` (in the unit), exactly."""
    threshold = target * 100
    return and_(column.is_not(None), column * threshold.denominator < threshold.numerator)


def source(association: Association, period: Period, targets: Targets) -> Source:
    """The rows of every association of the subtree for the period (see `Source`)."""
    area = aliased(Association)
    low, high = subtree_bounds(association.path)
    by_hand_targets = manual.manual_targets(targets)
    keys = [target.key for target in by_hand_targets]
    extra = {}
    if period.frozen:
        frozen = aliased(PeriodFigures)
        values = frozen.frozen
        columns = {name: values[name].as_integer() for name in INTEGER_COLUMNS}
        columns[CHECKLIST_COLUMN] = values[CHECKLIST_COLUMN].as_string()
        # The yearly cycle is never frozen (periods.with_yearly): the year's live row.
        live = aliased(AssociationFigures)
        columns.update({name: getattr(live, name) for name in rollup.CYCLE_KEYS})
        by_hand = {key: values[(manual.FROZEN_KEY, key)].as_integer() for key in keys}
        extra[manual.RESPONSES_KEY] = values[manual.RESPONSES_KEY].as_integer()
        for index, key in enumerate(keys):
            extra[f"amended_{index}"] = frozen.amended[(manual.FROZEN_KEY, key)].as_integer()
        query = (
            select(area)
            .join(
                frozen,
                and_(
                    frozen.association_id == area.id,
                    frozen.year == period.year,
                    frozen.quarter == period.quarter,
                ),
            )
            .outerjoin(live, and_(live.association_id == area.id, live.year == period.year))
            .where(frozen.path >= low, frozen.path < high)
        )
        path, kind = frozen.path, frozen.kind
    else:
        figures = aliased(AssociationFigures)
        columns = {name: getattr(figures, name) for name in (*INTEGER_COLUMNS, CHECKLIST_COLUMN)}
        query = (
            select(area)
            .outerjoin(
                figures, and_(figures.association_id == area.id, figures.year == period.year)
            )
            .where(area.path >= low, area.path < high)
        )
        by_hand = {}
        if keys:
            entered = manual.entered_columns(period.year, keys)
            query = query.outerjoin(entered, entered.c.association_id == area.id)
            by_hand = {key: entered.c[f"k{index}"] for index, key in enumerate(keys)}
            if manual.FROM_EVALUATION in by_hand:
                evaluated = manual.evaluation_columns(period.year)
                query = query.outerjoin(evaluated, evaluated.c.association_id == area.id)
                by_hand[manual.FROM_EVALUATION] = func.coalesce(
                    evaluated.c.value_centi, by_hand[manual.FROM_EVALUATION]
                )
                extra[manual.RESPONSES_KEY] = evaluated.c.responses
        path, kind = area.path, area.kind
    query = query.add_columns(
        path.label("tree_path"),
        kind.label("tree_kind"),
        *(column.label(name) for name, column in columns.items()),
        *(by_hand[key].label(f"manual_{index}") for index, key in enumerate(keys)),
        *(column.label(name) for name, column in extra.items()),
    )
    return Source(
        period=period,
        query=query,
        area=area,
        path=path,
        kind=kind,
        figures=SimpleNamespace(**columns),
        by_hand=by_hand,
        targets=by_hand_targets,
    )


# --- the rows, read -----------------------------------------------------------------------------


@dataclass
class AssociationRow:
    """One association's figures of a period: where it stood (`path`, the county and township
    above it, its parent's name), its figures, the targets it misses and its values entered by
    hand ({key: manual.ManualValue}, with `amended` for a closed period changed since)."""

    association: Association
    path: str
    county: str
    township: str
    parent_name: str | None
    figures: rollup.Figures
    activity: definitions.ActivityProgress | None
    missed: list[str]
    at_risk: list[str]
    manual: dict
    _linkage_met: bool = False

    @property
    def manual_missed(self) -> list:
        """The targets measured by hand whose value is below target."""
        return [value.target for value in self.manual.values() if value.met is False]

    def meets(self, target: str) -> bool | None:
        """Whether the association meets a target (None: nothing to judge)."""
        figures = self.figures
        if target == "members" and figures.member_ratio is None:
            return None
        if target == "dues" and figures.collection_rate is None:
            return None
        if target == "linkage":
            return None if figures.linkage_coverage is None else self._linkage_met
        return target not in self.missed


def rows_of(result, src: Source, targets: Targets) -> list[AssociationRow]:
    """AssociationRows for the rows of `src.query` (with the names along their paths: one
    query)."""
    result = list(result)
    paths = [row.tree_path for row in result]
    ids = {int(part) for path in paths for part in path.strip("/").split("/")}
    names = {  # one query, rows or none: a fixed count
        association_id: (name, str(kind))
        for association_id, name, kind in db.session.execute(
            select(Association.id, Association.name, Association.kind).where(
                Association.id.in_(ids)
            )
        )
    }
    period, judged_on = src.period, src.period.judged_on
    rows = []
    for row in result:
        mapping = row._mapping
        association = row[0]
        values = {name: mapping[name] for name in (*INTEGER_COLUMNS, CHECKLIST_COLUMN)}
        values = {name: value for name, value in values.items() if value is not None}
        figures = rollup.figures_of_one(
            SimpleNamespace(kind=AssociationKind(row.tree_kind)),
            values if values else None,
            period.year,
            judged_on,
        )
        path = [int(part) for part in row.tree_path.strip("/").split("/")]
        along = [names.get(i, ("", "")) for i in path]

        def named(kind: str, along=along) -> str:
            return next((name for name, of_kind in along if of_kind == kind), "")

        by_hand = {}
        responses = mapping.get(manual.RESPONSES_KEY)
        for index, target in enumerate(src.targets):
            centi = mapping[f"manual_{index}"]
            amended = mapping.get(f"amended_{index}")
            evaluated = target.key == manual.FROM_EVALUATION and responses
            by_hand[target.key] = manual.ManualValue(
                target,
                None if centi is None else Fraction(int(centi), 100),
                None if centi is None else ("evaluation" if evaluated else "entered"),
                responses=responses if evaluated else 0,
                amended=None
                if amended is None or amended == centi
                else Fraction(int(amended), 100),
            )
        missed = rollup.missed_targets(figures, targets)
        if any(value.met is False for value in by_hand.values()):
            missed.append("manual")
        activity = figures.activity_progress(targets)
        coverage = figures.linkage_coverage
        rows.append(
            AssociationRow(
                association=association,
                path=row.tree_path,
                county=named("county"),
                township=named("township"),
                parent_name=names.get(path[-2], ("", ""))[0] if len(path) > 1 else None,
                figures=figures,
                activity=activity,
                missed=missed,
                at_risk=(
                    ["activities"] if activity and activity.status == definitions.AT_RISK else []
                ),
                manual=by_hand,
                _linkage_met=coverage is not None and coverage >= targets.linkage_coverage,
            )
        )
    return rows


# --- the two lists ------------------------------------------------------------------------------

SORTS = ("path", "name", "members", "ratio", "new_members", "activities", "collection")


def problems_query(
    association: Association,
    period: Period,
    targets: Targets,
    *,
    kind: str = "",
    target: str = "",
):
    """(source, select) of the associations of the subtree behind on a target (or on `target`
    only), or at risk on the activity requirement. The register, activity, 七有 and values
    entered by hand are a grassroots association's; dues and overdue 整改 tasks can fall
    behind at any level."""
    src = source(association, period, targets)
    conditions = src.conditions(targets)
    query = src.query.order_by(src.path)
    if kind:
        query = query.where(src.kind == kind)
    return src, query.where(conditions[target] if target else or_(*conditions.values()))


def sheet_query(
    association: Association,
    period: Period,
    targets: Targets,
    *,
    kind: str = "",
    search: str = "",
    target: str = "",
    sort: str = "path",
    direction: str = "asc",
):
    """(source, select) of the grassroots associations of the subtree: the subtree sheet."""
    src = source(association, period, targets)
    figures = src.figures
    query = src.query.where(src.kind_in(rollup.GRASSROOTS_KINDS))
    if kind:
        query = query.where(src.kind == kind)
    if search:
        query = query.where(src.area.name.contains(search, autoescape=True))
    if target:
        query = query.where(src.conditions(targets)[target])
    quarters = sum(func.coalesce(getattr(figures, f"activities_q{q}"), 0) for q in range(1, 5))
    keys = {
        "path": src.path,
        "name": src.area.name,
        "members": func.coalesce(figures.members, 0),
        "ratio": cast(figures.members, Float) / func.nullif(figures.population, 0),
        "new_members": func.coalesce(figures.new_members, 0),
        "activities": quarters,
        "collection": cast(figures.dues_collected_fen, Float)
        / func.nullif(figures.dues_expected_fen, 0),
    }
    order = keys.get(sort, src.path)
    order = order.desc() if direction == "desc" else order.asc()
    return src, query.order_by(order.nulls_last(), src.path)


def association_rows(
    association: Association, period: Period, targets: Targets
) -> list[AssociationRow]:
    """Every grassroots association of the subtree with its figures of the period (frozen if
    closed), judged against `targets`: the whole subtree sheet. Run inside subtree_reads()."""
    src, query = sheet_query(association, period, targets)
    return rows_of(db.session.execute(query), src, targets)
