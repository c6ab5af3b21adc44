"""The targets figures are judged against, and the targets each level sets for its subtree.

The defaults come from the source documents (../shared/seeds): members at least 10 % of the
population served, an activity every quarter and at least four a year, dues collected 90 %,
residents' satisfaction 95 % (满意率), self-governance carried out everywhere (自治开展面
100 %), awareness of the rules 95 % (知晓率). Linkage coverage has no figure in them: 90 %.

A level sets targets for its subtree per year (they hold for the later years too until it sets
others). Every target is "at least": the target in force at an association is the highest value
set on its path from the root (the defaults where none is set), so a lower level inherits its
ancestors' targets and may tighten them, never loosen them — a value below the one in force
above is refused, and one that an ancestor later overtakes stops counting.
"""

from dataclasses import dataclass, field, replace
from fractions import Fraction

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.core import audit
from app.core.clock import utcnow
from app.core.problems import Problem
from app.dashboards.definitions import QUARTER_CAP, YEAR_CAP, target_text
from app.dashboards.models import FigureTarget
from app.extensions import db
from tenants.models import Association

SHARE, COUNT = "share", "count"


@dataclass(frozen=True)
class TargetKind:
    label: object  # lazy text
    measure: str  # SHARE (value is a fraction) or COUNT (a whole number)
    default_centi: int  # the default × 100
    low: int = 0  # allowed range of the value × 100
    high: int = 10_000


BUILT_IN = {
    "member_ratio": TargetKind(_l("Member ratio"), SHARE, 1000),
    "activities_per_quarter": TargetKind(
        _l("Activities per quarter"), COUNT, 100, 100, QUARTER_CAP * 100
    ),
    "activities_per_year": TargetKind(_l("Activities per year"), COUNT, 400, 100, YEAR_CAP * 100),
    "collection_rate": TargetKind(_l("Dues collection rate"), SHARE, 9000),
    "linkage_coverage": TargetKind(_l("Linkage coverage"), SHARE, 9000),
    "satisfaction": TargetKind(_l("Residents' satisfaction (满意率)"), SHARE, 9500),
    "self_governance": TargetKind(_l("Self-governance carried out (自治开展面)"), SHARE, 10_000),
    "awareness": TargetKind(_l("Awareness of the rules (知晓率)"), SHARE, 9500),
}
# Figures an own target may be measured by (app/dashboards/rollup.py: Figures attributes).
OWN_TARGET_FIGURES = {
    "members": _l("Members"),
    "new_members": _l("New members recruited"),
    "activities": _l("Activities in the year"),
    "member_ratio": _l("Member ratio"),
    "linkage_coverage": _l("Linkage coverage"),
    "collection_rate": _l("Dues collection rate"),
    "volunteer_hours": _l("Volunteer hours"),
}
SHARE_FIGURES = {"member_ratio", "linkage_coverage", "collection_rate"}


@dataclass(frozen=True)
class OwnTarget:
    """A target a level named itself ("own:<id of the row that created it>")."""

    key: str
    name: str
    unit: str
    value_centi: int
    figure: str | None  # None: measured by hand
    set_by: int  # the association that created it

    @property
    def value(self) -> Fraction:
        """The target in its unit (a share figure's unit is per cent)."""
        return Fraction(self.value_centi, 100)

    def measured(self, figures) -> Fraction | None:
        """The figure's value in the target's unit (None: entered by hand, or no data)."""
        if self.figure is None:
            return None
        value = getattr(figures, self.figure)
        if value is None:
            return None
        return Fraction(value) * 100 if self.figure in SHARE_FIGURES else Fraction(value)


def _value(key: str, centi: int):
    kind = BUILT_IN[key]
    return Fraction(centi, 10_000) if kind.measure == SHARE else centi // 100


@dataclass(frozen=True)
class Targets:
    member_ratio: Fraction = Fraction(10, 100)
    activities_per_quarter: int = 1
    activities_per_year: int = 4
    collection_rate: Fraction = Fraction(90, 100)
    linkage_coverage: Fraction = Fraction(90, 100)
    satisfaction: Fraction = Fraction(95, 100)
    self_governance: Fraction = Fraction(100, 100)
    awareness: Fraction = Fraction(95, 100)
    own: tuple[OwnTarget, ...] = ()
    # Where each built-in target in force was set (association id; absent: the default).
    set_by: dict[str, int] = field(default_factory=dict, compare=False)

    def centi(self, key: str) -> int:
        value = getattr(self, key)
        return int(value * 10_000) if BUILT_IN[key].measure == SHARE else value * 100


DEFAULT_TARGETS = Targets()


def _rows(path_ids: list[int], year: int) -> list[FigureTarget]:
    return list(
        db.session.scalars(
            select(FigureTarget)
            .where(FigureTarget.association_id.in_(path_ids), FigureTarget.year <= year)
            .order_by(FigureTarget.year)
        )
    )


def _in_force(path_ids: list[int], year: int) -> Targets:
    """The targets in force for the last association of `path_ids` (root first)."""
    latest: dict[tuple[int, str], FigureTarget] = {}
    named: dict[str, FigureTarget] = {}  # an own target's defining row (its name and unit)
    for row in _rows(path_ids, year):  # by year: a later year's row replaces an earlier one
        latest[(row.association_id, row.key)] = row
        if row.name is not None:
            named[row.key] = row
    built_in: dict[str, int] = {}
    set_by: dict[str, int] = {}
    own: dict[str, OwnTarget] = {}
    for association_id in path_ids:  # root first: a definition comes before its tightenings
        for (owner, key), row in latest.items():
            if owner != association_id:
                continue
            if key in BUILT_IN:
                if key not in built_in or row.value_centi > built_in[key]:
                    built_in[key], set_by[key] = row.value_centi, owner
            elif key not in own and key in named:
                first = named[key]
                own[key] = OwnTarget(
                    key, first.name, first.unit or "", row.value_centi, first.figure, owner
                )
            elif key in own and row.value_centi > own[key].value_centi:
                own[key] = replace(own[key], value_centi=row.value_centi)
    values = {key: _value(key, centi) for key, centi in built_in.items()}
    return Targets(**values, own=tuple(own.values()), set_by=set_by)


def targets_in_force(association: Association, year: int) -> Targets:
    """The targets that judge `association`'s figures in `year` (one query)."""
    return _in_force(association.ancestor_ids, year)


def targets_from_above(association: Association, year: int) -> Targets:
    """What the levels above set: the floor this association's own targets may not go under."""
    return _in_force(association.ancestor_ids[:-1], year)


class TargetsInvalid(Problem):
    """`problems`: {field: translated message}."""


def _upsert(association: Association, year: int, key: str, centi: int, user_id, **extra) -> None:
    row = db.session.scalar(
        select(FigureTarget).where(
            FigureTarget.association_id == association.id,
            FigureTarget.year == year,
            FigureTarget.key == key,
        )
    )
    if row is None:
        row = FigureTarget(association_id=association.id, year=year, key=key)
        db.session.add(row)
    row.value_centi = centi
    row.set_by_id = user_id
    row.set_at = utcnow()
    for name, value in extra.items():
        setattr(row, name, value)


def set_targets(association: Association, year: int, values: dict[str, int], *, user_id) -> None:
    """Set the level's targets for `year` ({key: value × 100}; built-in keys and inherited or
    own "own:…" keys). Refuses a value under the one in force from above. Flushes."""
    floor = targets_from_above(association, year)
    own_floor = {target.key: target.value_centi for target in floor.own}
    mine = {target.key for target in targets_in_force(association, year).own}
    problems = {}
    for key, centi in values.items():
        if key in BUILT_IN:
            kind = BUILT_IN[key]
            if not kind.low <= centi <= kind.high:
                problems[key] = _("Outside the allowed range.")
            elif floor.set_by.get(key) is not None and centi < floor.centi(key):
                problems[key] = _(
                    "The level above requires at least %(value)s: a target may be tightened "
                    "here, never loosened.",
                    value=_format(key, floor.centi(key)),
                )
        elif key not in mine:
            problems[key] = _("Unknown target.")
        elif centi < own_floor.get(key, 0):
            problems[key] = _("A target may be tightened here, never loosened.")
    if problems:
        raise TargetsInvalid(problems)
    for key, centi in values.items():
        _upsert(association, year, key, centi, user_id)
    db.session.flush()
    audit.record("set_targets", association_id=association.id, year=year, fields=sorted(values))


def add_own_target(
    association: Association,
    year: int,
    *,
    name: str,
    unit: str,
    value_centi: int,
    figure: str | None,
    user_id,
) -> None:
    """A target of the level's own, for its subtree from `year` on. Flushes."""
    if figure is not None and figure not in OWN_TARGET_FIGURES:
        raise TargetsInvalid({"figure": _("Choose a figure from the list.")})
    row = FigureTarget(
        association_id=association.id,
        year=year,
        key="own:new",
        value_centi=value_centi,
        name=name.strip(),
        unit=unit.strip(),
        figure=figure,
        set_by_id=user_id,
        set_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    row.key = f"own:{row.id}"
    db.session.flush()
    audit.record("add_target", association_id=association.id, year=year, fields=["name"])


def _format(key: str, centi: int) -> str:
    if BUILT_IN[key].measure == SHARE:
        return target_text(Fraction(centi, 10_000))
    return str(centi // 100)
