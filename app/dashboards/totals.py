"""Keeping subtree_figures equal to the sums of association_figures over every subtree.

Every figure is additive (app/dashboards/rollup.py: `contribution`), so a change is cheap:
when an association's figures row changes, (new − old) is added to the row of the association
and of each of its ancestors — five or six rows, whatever the size of the province. A move
carries a subtree's sums from its old ancestors to its new ones; a deletion subtracts them. The
nightly full refresh rebuilds every row from the figures table.

Concurrency (PostgreSQL): writers lock the subtree rows they add to in association-id order
before reading the old figures rows, so two refreshes of one association can't both subtract
the same old row, and no two writers wait on each other in a cycle. Rows are updated in place,
never deleted and re-inserted, so a writer waiting on a lock finds the row it waited for.

All functions run under UNSCOPED_BYPASS (they write to ancestors above the caller's scope) and
leave the commit to the caller.
"""

from collections import defaultdict
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.core.clock import utcnow
from app.dashboards.models import AssociationFigures, SubtreeFigures
from app.dashboards.rollup import add_into, contribution
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Association

BYPASS = "subtree sums are kept for every ancestor of a changed association"
FIGURE_COLUMNS = [
    column.key
    for column in AssociationFigures.__table__.columns
    if column.key not in ("id", "year", "association_id", "computed_at")
]


def path_ids(path: str) -> list[int]:
    """The association ids along a materialised path, root first ("/1/5/23/" → [1, 5, 23])."""
    return [int(part) for part in path.strip("/").split("/")]


def _insert():
    dialect = db.session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(SubtreeFigures)


def _locked_rows(year: int, association_ids: Iterable[int], now: datetime) -> dict[int, tuple]:
    """Create the missing rows, then lock them all in id order: {association_id: (row id,
    totals, oldest_computed_at)}."""
    ids = sorted(set(association_ids))
    if not ids:
        return {}
    db.session.execute(
        _insert().on_conflict_do_nothing(index_elements=["association_id", "year"]),
        [{"association_id": i, "year": year, "totals": {}, "oldest_computed_at": now} for i in ids],
    )
    rows = db.session.execute(
        select(
            SubtreeFigures.association_id,
            SubtreeFigures.id,
            SubtreeFigures.totals,
            SubtreeFigures.oldest_computed_at,
        )
        .where(SubtreeFigures.year == year, SubtreeFigures.association_id.in_(ids))
        .order_by(SubtreeFigures.association_id)
        .with_for_update()
    )
    return {
        association_id: (row_id, totals, oldest) for association_id, row_id, totals, oldest in rows
    }


def lock_ancestors(year: int, paths: Iterable[str]) -> dict[int, tuple]:
    """Lock (creating where missing) the subtree rows of every association on these paths."""
    with UNSCOPED_BYPASS(BYPASS):
        return _locked_rows(year, (i for path in paths for i in path_ids(path)), utcnow())


def _write(locked: dict[int, tuple], changes: dict[int, dict], oldest: datetime | None) -> None:
    updates = []
    for association_id, delta in changes.items():
        row_id, totals, row_oldest = locked[association_id]
        new_totals = add_into(dict(totals or {}), delta)
        new_oldest = row_oldest if oldest is None or row_oldest <= oldest else oldest
        updates.append({"id": row_id, "totals": new_totals, "oldest_computed_at": new_oldest})
    if updates:
        db.session.execute(update(SubtreeFigures), updates)


def apply_changes(
    year: int,
    locked: dict[int, tuple],
    changed: list[tuple[str, str, dict | None, dict | None]],
) -> None:
    """Add (new − old) of each changed figures row, given as (path, kind, old values, new
    values), to its association's and ancestors' rows, which `lock_ancestors` locked."""
    per_row: dict[int, dict] = defaultdict(dict)
    for path, kind, old, new in changed:
        delta = contribution(kind, new) if new is not None else {}
        if old is not None:
            add_into(delta, contribution(kind, old), -1)
        if delta:
            for association_id in path_ids(path):
                add_into(per_row[association_id], delta)
    with UNSCOPED_BYPASS(BYPASS):
        _write(locked, per_row, None)


def old_values(year: int, association_ids: list[int]) -> dict[int, dict]:
    """The stored figures rows (read after `lock_ancestors`, so no other refresh is between)."""
    columns = [getattr(AssociationFigures, key) for key in FIGURE_COLUMNS]
    with UNSCOPED_BYPASS(BYPASS):
        rows = db.session.execute(
            select(AssociationFigures.association_id, *columns).where(
                AssociationFigures.year == year,
                AssociationFigures.association_id.in_(association_ids),
            )
        )
        return {row[0]: dict(zip(FIGURE_COLUMNS, row[1:], strict=True)) for row in rows}


def rebuild(year: int) -> int:
    """Recompute every subtree row of `year` from the figures table (the nightly job). Locks
    the year's rows first, so incremental writers wait instead of being overwritten."""
    now = utcnow()
    with UNSCOPED_BYPASS(BYPASS):
        existing = {
            association_id: row_id
            for association_id, row_id in db.session.execute(
                select(SubtreeFigures.association_id, SubtreeFigures.id)
                .where(SubtreeFigures.year == year)
                .order_by(SubtreeFigures.association_id)
                .with_for_update()
            )
        }
        columns = [getattr(AssociationFigures, key) for key in FIGURE_COLUMNS]
        rows = db.session.execute(
            select(Association.path, Association.kind, AssociationFigures.computed_at, *columns)
            .join(AssociationFigures, AssociationFigures.association_id == Association.id)
            .where(AssociationFigures.year == year)
        )
        sums: dict[int, dict] = defaultdict(dict)
        oldest: dict[int, datetime] = {}
        for path, kind, computed_at, *values in rows:
            vector = contribution(kind, dict(zip(FIGURE_COLUMNS, values, strict=True)))
            for association_id in path_ids(path):
                add_into(sums[association_id], vector)
                if association_id not in oldest or computed_at < oldest[association_id]:
                    oldest[association_id] = computed_at
        updates, inserts = [], []
        for association_id, totals in sums.items():
            values = {"totals": totals, "oldest_computed_at": oldest[association_id]}
            if association_id in existing:
                updates.append({"id": existing.pop(association_id), **values})
            else:
                inserts.append({"association_id": association_id, "year": year, **values})
        if updates:
            db.session.execute(update(SubtreeFigures), updates)
        if inserts:
            db.session.execute(_insert(), inserts)
        if existing:  # subtrees that no longer hold any figures row
            db.session.execute(
                update(SubtreeFigures),
                [
                    {"id": row_id, "totals": {}, "oldest_computed_at": now}
                    for row_id in existing.values()
                ],
            )
    return len(sums)


def _subtree_sums(association: Association) -> list[tuple[int, dict, datetime]]:
    return list(
        db.session.execute(
            select(
                SubtreeFigures.year, SubtreeFigures.totals, SubtreeFigures.oldest_computed_at
            ).where(SubtreeFigures.association_id == association.id)
        )
    )


def _shift(association: Association, sums, sign: int) -> None:
    """Add (sign +1) or subtract (−1) a subtree's sums to/from its strict ancestors."""
    ancestors = path_ids(association.path)[:-1]
    for year, totals, oldest in sums:
        locked = _locked_rows(year, ancestors, utcnow())
        delta = add_into({}, totals or {}, sign)
        _write(locked, {i: delta for i in ancestors}, oldest if sign > 0 else None)


def detach(association: Association) -> None:
    """Before the subtree is deleted: take its sums out of the ancestors above it."""
    with UNSCOPED_BYPASS(BYPASS):
        _shift(association, _subtree_sums(association), -1)


@contextmanager
def carried(association: Association):
    """Around a move of the subtree: its sums leave the old ancestors and join the new."""
    with UNSCOPED_BYPASS(BYPASS):
        sums = _subtree_sums(association)
        _shift(association, sums, -1)
    yield
    db.session.refresh(association)
    with UNSCOPED_BYPASS(BYPASS):
        _shift(association, sums, +1)
