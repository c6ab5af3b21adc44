"""The subtree sheet: one row per grassroots association of a subtree with its path (county /
township / association), every figure and whether it meets each target in force — as a
filterable, sortable, paginated page and as a sheet of every dashboard's .xlsx.

One query for the rows (the figures table joined to the tree by a path range scan), one for
the count (the page), one for the names along the paths, and two for the values entered by hand
(and 满意率 from the residents' evaluations): fixed whatever the size.
"""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Float, and_, cast, func, select
from sqlalchemy.orm import aliased

from app.dashboards import definitions, manual, rollup
from app.dashboards.models import AssociationFigures, PeriodFigures
from app.dashboards.targets import Targets
from app.extensions import db
from tenants.models import Association, AssociationKind
from tenants.tree import subtree_bounds

SORTS = ("path", "name", "members", "ratio", "new_members", "activities", "collection")


@dataclass
class SheetRow:
    association: Association
    county: str
    township: str
    figures: rollup.Figures
    activity: definitions.ActivityProgress | None
    missed: list[str]
    # Values of the targets measured by hand ({key: manual.ManualValue}, app/dashboards/manual.py)
    manual: dict = field(default_factory=dict)

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

    _linkage_met: bool = False


def sheet_query(
    association: Association,
    year: int,
    *,
    today: date,
    targets: Targets,
    kind: str = "",
    search: str = "",
    target: str = "",
    sort: str = "path",
    direction: str = "asc",
):
    """Grassroots associations of the subtree with their figures row for `year`."""
    area = aliased(Association)
    figures = aliased(AssociationFigures)
    low, high = subtree_bounds(association.path)
    query = (
        select(area, figures)
        .select_from(area)
        .outerjoin(figures, and_(figures.association_id == area.id, figures.year == year))
        .where(area.path >= low, area.path < high, area.kind.in_(rollup.GRASSROOTS_KINDS))
    )
    if kind:
        query = query.where(area.kind == kind)
    if search:
        query = query.where(area.name.contains(search, autoescape=True))
    if target:
        conditions = rollup._problem_conditions(figures, year, today, targets)
        query = query.where(conditions[target])
    quarters = sum(func.coalesce(getattr(figures, f"activities_q{q}"), 0) for q in range(1, 5))
    population = func.nullif(figures.population, 0)
    expected = func.nullif(figures.dues_expected_fen, 0)
    keys = {
        "path": area.path,
        "name": area.name,
        "members": func.coalesce(figures.members, 0),
        "ratio": cast(figures.members, Float) / population,
        "new_members": func.coalesce(figures.new_members, 0),
        "activities": quarters,
        "collection": cast(figures.dues_collected_fen, Float) / expected,
    }
    order = keys.get(sort, area.path)
    order = order.desc() if direction == "desc" else order.asc()
    return query.order_by(order.nulls_last(), area.path)


def sheet_rows(rows, year: int, *, today: date, targets: Targets) -> list[SheetRow]:
    """SheetRows for (Association, AssociationFigures) rows, with the county and township
    names along their paths (one query)."""
    ancestor_ids = {
        int(part) for association, _ in rows for part in association.path.strip("/").split("/")
    }
    names = {
        association_id: (name, kind)
        for association_id, name, kind in db.session.execute(
            select(Association.id, Association.name, Association.kind).where(
                Association.id.in_(ancestor_ids),
                Association.kind.in_((AssociationKind.COUNTY, AssociationKind.TOWNSHIP)),
            )
        )
    }
    by_hand = manual.values_of(
        [association.id for association, _ in rows], year, manual.manual_targets(targets)
    )
    result = []
    for association, stored in rows:
        figures = rollup.figures_of_one(association, stored, year, today)
        path = [int(part) for part in association.path.strip("/").split("/")]
        county = next((names[i][0] for i in path if names.get(i, ("", None))[1] == "county"), "")
        township = next(
            (names[i][0] for i in path if names.get(i, ("", None))[1] == "township"), ""
        )
        row = SheetRow(
            association=association,
            county=county,
            township=township,
            figures=figures,
            activity=figures.activity_progress(targets),
            missed=rollup.missed_targets(figures, targets),
            manual=by_hand.get(association.id, {}),
        )
        coverage = figures.linkage_coverage
        row._linkage_met = coverage is not None and coverage >= targets.linkage_coverage
        result.append(row)
    return result


def closed_sheet_query(association: Association, year: int, quarter: int):
    """The same rows for a closed quarter: the frozen figures of the grassroots associations
    that stood in the subtree when it closed."""
    low, high = subtree_bounds(association.path)
    return (
        select(Association, PeriodFigures.frozen)
        .join(PeriodFigures, PeriodFigures.association_id == Association.id)
        .where(
            PeriodFigures.year == year,
            PeriodFigures.quarter == quarter,
            PeriodFigures.path >= low,
            PeriodFigures.path < high,
            PeriodFigures.kind.in_([str(kind) for kind in rollup.GRASSROOTS_KINDS]),
        )
        .order_by(PeriodFigures.path)
    )
