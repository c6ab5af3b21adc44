"""Targets measured by hand, and the values grassroots associations enter for them.

The targets in force (app/dashboards/targets.py) include some no figure measures: 自治开展面
(self-governance carried out), 知晓率 (awareness, measured by the association's own survey),
满意率 (residents' satisfaction) and a level's own named targets "entered by hand". Each
grassroots association's secretary enters the year's value of each (`save_values`); the level
above reads them in the subtree sheet, judged against the target in force.

满意率 comes from the residents' evaluation (app/governance, docs/governance.md: satisfied +
very satisfied ÷ responses) when the association has one with answers for the year; a value
entered by hand counts only without one. Governance reads the dashboards, so its evaluation is
read through the readers it registers here (`register_evaluation`).

Every value is "at least" its target, like every target. Values are kept × 100 in the target's
unit: a share in hundredths of a per cent (95.5 % is 9550), anything else as value × 100.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from flask_babel import gettext as _
from sqlalchemy import Subquery, case, func, select

from app.core.clock import utcnow
from app.core.id_lists import one_of
from app.core.problems import Problem
from app.dashboards.definitions import percent_text, target_text
from app.dashboards.models import ManualTargetValue
from app.dashboards.targets import BUILT_IN, Targets
from app.extensions import db
from tenants.models import Association

# Built-in targets no figure measures (app/dashboards/targets.py: BUILT_IN).
MANUAL_BUILT_IN = ("satisfaction", "self_governance", "awareness")
FROM_EVALUATION = "satisfaction"  # taken from the residents' evaluation when there is one
PERCENT_UNIT = "%"


@dataclass(frozen=True)
class ManualTarget:
    key: str
    label: str
    unit: str  # "%" for a share
    target: Fraction  # in the unit (95 for 95 %)

    @property
    def is_share(self) -> bool:
        return self.unit == PERCENT_UNIT

    def text(self, value: Fraction | None) -> str:
        if value is None:
            return "—"
        if self.is_share:
            return percent_text(value / 100)
        return f"{Decimal(value.numerator) / Decimal(value.denominator):f}".rstrip("0").rstrip(
            "."
        ) + (f" {self.unit}" if self.unit else "")

    @property
    def target_text(self) -> str:
        if self.is_share:
            return "≥ " + target_text(self.target / 100)
        return "≥ " + self.text(self.target)

    @property
    def field(self) -> str:
        return self.key.replace(":", "_")


def manual_targets(targets: Targets) -> list[ManualTarget]:
    """The targets in force measured by hand: the built-in ones, then the own ones."""
    result = [
        ManualTarget(key, str(BUILT_IN[key].label), PERCENT_UNIT, getattr(targets, key) * 100)
        for key in MANUAL_BUILT_IN
    ]
    result += [
        ManualTarget(own.key, own.name, own.unit, own.value)
        for own in targets.own
        if own.figure is None
    ]
    return result


@dataclass(frozen=True)
class ManualValue:
    """One association's value for one manual target: `value` in the target's unit, None when
    nothing is entered; `source` "evaluation" or "entered"; `met` None when nothing to judge."""

    target: ManualTarget
    value: Fraction | None
    source: str | None
    responses: int = 0
    row: ManualTargetValue | None = None
    # A closed period's value changed since it closed (the frozen value stays in `value`).
    amended: Fraction | None = None

    @property
    def met(self) -> bool | None:
        return None if self.value is None else self.value >= self.target.target

    @property
    def text(self) -> str:
        return self.target.text(self.value) if self.value is not None else _("not entered")


@dataclass(frozen=True)
class EvaluationReaders:
    """满意率 from the residents' evaluation, read by app/governance/figures.py, which registers
    them on import (app/registry.py): governance reads the dashboards, so they cannot import it.

    `satisfaction(association_ids, year)`: {association id: (satisfaction in per cent,
    responses)} of the evaluations of `year` with answers (one query). `columns(year)`: a
    subquery, per association with answers, of its `value_centi` (as `evaluation_centi`) and
    its `responses`."""

    satisfaction: Callable[[list[int], int], dict[int, tuple[Fraction, int]]]
    columns: Callable[[int], Subquery]


_evaluation: EvaluationReaders | None = None


def register_evaluation(readers: EvaluationReaders) -> None:
    global _evaluation
    _evaluation = readers


def evaluation_satisfaction(association_ids, year: int) -> dict[int, tuple[Fraction, int]]:
    return _evaluation.satisfaction(list(association_ids), year)


def evaluation_columns(year: int) -> Subquery:
    return _evaluation.columns(year)


def stored_values(association_ids, year: int) -> dict[tuple[int, str], ManualTargetValue]:
    rows = db.session.scalars(
        select(ManualTargetValue).where(
            ManualTargetValue.association_id.in_(list(association_ids)),
            ManualTargetValue.year == year,
        )
    )
    return {(row.association_id, row.key): row for row in rows}


def values_of(
    association_ids, year: int, targets: list[ManualTarget]
) -> dict[int, dict[str, ManualValue]]:
    """{association id: {target key: ManualValue}} for every given association (two queries,
    none without manual targets)."""
    ids = list(association_ids)
    if not ids or not targets:
        return {association_id: {} for association_id in ids}
    stored = stored_values(ids, year)
    evaluated = (
        evaluation_satisfaction(ids, year) if any(t.key == FROM_EVALUATION for t in targets) else {}
    )
    result = {}
    for association_id in ids:
        values = {}
        for target in targets:
            if target.key == FROM_EVALUATION and association_id in evaluated:
                rate, responses = evaluated[association_id]
                values[target.key] = ManualValue(target, rate, "evaluation", responses)
                continue
            row = stored.get((association_id, target.key))
            value = None if row is None else Fraction(row.value_centi, 100)
            values[target.key] = ManualValue(target, value, row and "entered", row=row)
        result[association_id] = values
    return result


class ManualValuesInvalid(Problem):
    """`problems`: {target key: translated message}."""


def check(target: ManualTarget, value: Decimal) -> str | None:
    """The translated problem with a value, or None."""
    if target.is_share and not 0 <= value <= 100:
        return _("Enter a percentage between 0 and 100.")
    if value < 0:
        return _("Enter a number of 0 or more.")
    return None


def save_values(
    association: Association,
    year: int,
    entries: dict[str, tuple[Decimal | None, str]],
    *,
    targets: list[ManualTarget],
    user_id,
) -> list[str]:
    """Enter the association's values for `year`: {target key: (value or None, note)}. A blank
    value removes one entered before. Checks every entry before writing any (ManualValuesInvalid:
    nothing written). Returns the keys changed. Flushes; the change listener audit-logs."""
    by_key = {target.key: target for target in targets}
    problems = {}
    for key, (value, _note) in entries.items():
        if key not in by_key:
            problems[key] = _("Unknown target.")
        elif value is not None and (message := check(by_key[key], value)):
            problems[key] = message
    if problems:
        raise ManualValuesInvalid(problems)
    stored = stored_values([association.id], year)
    changed = []
    for key, (value, note) in entries.items():
        row = stored.get((association.id, key))
        note = (note or "").strip()[:200]
        if value is None:
            if row is not None:
                db.session.delete(row)
                changed.append(key)
            continue
        centi = int((value * 100).to_integral_value())
        if row is not None and (row.value_centi, row.note) == (centi, note):
            continue
        if row is None:
            row = ManualTargetValue(association_id=association.id, year=year, key=key)
            db.session.add(row)
        row.value_centi, row.note = centi, note
        row.entered_by_id, row.entered_at = user_id, utcnow()
        changed.append(key)
    db.session.flush()
    return changed


# --- the same values as SQL columns and frozen rows (app/dashboards/reading.py, periods.py) ------

# Key of the frozen figures (period_figures.frozen) that holds the values entered by hand,
# {target key: value × 100 in the target's unit}; and of the evaluation's answer count.
FROZEN_KEY = "manual"
RESPONSES_KEY = "evaluation_responses"


def evaluation_centi(satisfied, responses):
    """满意率 × 100 in per cent, rounded down to whole hundredths of a per cent: judged against a
    target (a whole number of hundredths) and rounded to 0.1 % for display exactly as the
    exact fraction would be (both thresholds are whole hundredths)."""
    return satisfied * 10_000 // responses


def entered_columns(year: int, keys: list[str]):
    """A subquery: one row per association with values entered for `year`, one column per
    key (`k0`, `k1` …, NULL where not entered)."""
    return (
        select(
            ManualTargetValue.association_id,
            *(
                func.max(case((ManualTargetValue.key == key, ManualTargetValue.value_centi))).label(
                    f"k{index}"
                )
                for index, key in enumerate(keys)
            ),
        )
        .where(ManualTargetValue.year == year, ManualTargetValue.key.in_(keys))
        .group_by(ManualTargetValue.association_id)
        .subquery()
    )


def values_to_freeze(year: int, association_ids: list[int] | None) -> dict[int, dict]:
    """What a closing period freezes of the values entered by hand, per association:
    {FROZEN_KEY: {key: value × 100}, RESPONSES_KEY: answers} — every value entered for the year
    (whatever targets are in force: a page picks its own), 满意率 from the residents'
    evaluation where there is one. Two queries. Run under UNSCOPED_BYPASS."""
    query = select(
        ManualTargetValue.association_id, ManualTargetValue.key, ManualTargetValue.value_centi
    ).where(ManualTargetValue.year == year)
    if association_ids is not None:
        query = query.where(one_of(ManualTargetValue.association_id, association_ids))
    result: dict[int, dict] = {}
    for association_id, key, centi in db.session.execute(query):
        result.setdefault(association_id, {FROZEN_KEY: {}})[FROZEN_KEY][key] = centi
    evaluated = evaluation_columns(year)
    query = select(evaluated.c.association_id, evaluated.c.value_centi, evaluated.c.responses)
    if association_ids is not None:
        query = query.where(one_of(evaluated.c.association_id, association_ids))
    for association_id, centi, responses in db.session.execute(query):
        if responses:
            frozen = result.setdefault(association_id, {FROZEN_KEY: {}})
            frozen[FROZEN_KEY][FROM_EVALUATION] = centi
            frozen[RESPONSES_KEY] = responses
    return result
