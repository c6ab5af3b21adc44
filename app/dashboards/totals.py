"""Keeping subtree_figures equal to the sums of association_figures over every subtree.

Every figure is additive (app/dashboards/rollup.py: `contribution`), so a change is cheap:
when an association's figures row changes, (new − old) is added to the row of the association
and of each of its ancestors — five or six rows, whatever the size of the province. A move
carries a subtree's sums from its old ancestors to its new ones; a deletion subtracts them. The
nightly full refresh rebuilds every row from the figures table, level by level.

Concurrency (PostgreSQL): writers lock the subtree rows they add to in association-id order
before reading the old figures rows, so two refreshes of one association can't both subtract
the same old row, and no two writers wait on each other in a cycle. Rows are updated in place,
never deleted and re-inserted, so a writer waiting on a lock finds the row it waited for.

All functions run under UNSCOPED_BYPASS (they write to ancestors above the caller's scope) and
leave the commit to the caller, except the nightly `rebuild`, which commits a chunk at a time.
"""

import json
from collections import defaultdict
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import BigInteger, Text, and_, cast, func, select, text, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from app.core.clock import utcnow
from app.core.id_lists import one_of
from app.dashboards.models import AssociationFigures, SubtreeFigures
from app.dashboards.rollup import add_into, contribution
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Association

REBUILD_CHUNK = 1_000  # associations of one level per transaction of the nightly rebuild
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
    existing = set(
        db.session.scalars(
            select(SubtreeFigures.association_id).where(
                SubtreeFigures.year == year, one_of(SubtreeFigures.association_id, ids)
            )
        )
    )
    missing = [i for i in ids if i not in existing]  # inserting only these is much cheaper
    if missing:
        db.session.execute(
            _insert().on_conflict_do_nothing(index_elements=["association_id", "year"]),
            [
                {"association_id": i, "year": year, "totals": {}, "oldest_computed_at": now}
                for i in missing
            ],
        )
    rows = db.session.execute(
        select(
            SubtreeFigures.association_id,
            SubtreeFigures.id,
            SubtreeFigures.totals,
            SubtreeFigures.oldest_computed_at,
        )
        .where(SubtreeFigures.year == year, one_of(SubtreeFigures.association_id, ids))
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
    _update_rows(updates)


def _update_rows(updates: list[dict]) -> None:
    """Set (totals, oldest_computed_at) of subtree rows by id. On PostgreSQL one statement for
    all of them (UPDATE … FROM the rows as JSON): a batch of the refresh writes some 700 rows a
    year while it holds their locks, and a statement per row held them ten times longer."""
    if not updates:
        return
    if db.session.get_bind().dialect.name != "postgresql":
        db.session.execute(update(SubtreeFigures), updates)
        return
    # One JSON parameter, not a VALUES list (1,000 rows rendered as literals took a third of a
    # second to compile) nor a text array (psycopg escapes every quote of every row's JSON).
    db.session.execute(
        text(
            "UPDATE subtree_figures SET totals = changed.totals,"
            " oldest_computed_at = changed.oldest"
            " FROM json_to_recordset(CAST(:rows AS json))"
            " AS changed (id bigint, totals json, oldest timestamptz)"
            " WHERE subtree_figures.id = changed.id"
        ),
        {
            "rows": json.dumps(
                [
                    {
                        "id": row["id"],
                        "totals": row["totals"],
                        "oldest": row["oldest_computed_at"].isoformat(),
                    }
                    for row in updates
                ]
            )
        },
    )


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


def old_values(year: int, association_ids: list[int]) -> dict[int, tuple[datetime, dict]]:
    """The stored figures rows, as (computed_at, values) (read after `lock_ancestors`, so no
    other refresh is between)."""
    columns = [getattr(AssociationFigures, key) for key in FIGURE_COLUMNS]
    with UNSCOPED_BYPASS(BYPASS):
        rows = db.session.execute(
            select(
                AssociationFigures.association_id, AssociationFigures.computed_at, *columns
            ).where(
                AssociationFigures.year == year,
                one_of(AssociationFigures.association_id, association_ids),
            )
        )
        return {
            association_id: (computed_at, dict(zip(FIGURE_COLUMNS, figures, strict=True)))
            for association_id, computed_at, *figures in rows
        }


def rebuild(year: int) -> int:
    """Recompute every subtree row of `year` from the figures table (the nightly job) and
    commit as it goes; returns how many rows hold sums.

    One level of the tree at a time from the leaves up, REBUILD_CHUNK associations per
    transaction: a row is its association's own contribution plus its children's rows, which
    the level below has just rebuilt, so no step holds more than a chunk's sums (the whole
    province's paths in Python memory, as the first version did, would not scale to a country).
    A chunk locks its rows in id order, as every writer does, before it reads the figures and
    the children's rows: an incremental refresh has either committed by then (and is read) or
    waits for the chunk's commit (and then adds its difference to the rebuilt row). Rows an
    association had no figures under are set to empty sums, as missing rows read.
    """
    with UNSCOPED_BYPASS(BYPASS):
        depths = sorted(set(db.session.scalars(select(Association.depth))), reverse=True)
    written = 0
    for depth in depths:
        last = 0
        while True:
            with UNSCOPED_BYPASS(BYPASS):
                ids = list(
                    db.session.scalars(
                        select(Association.id)
                        .where(Association.depth == depth, Association.id > last)
                        .order_by(Association.id)
                        .limit(REBUILD_CHUNK)
                    )
                )
                if not ids:
                    break
                written += _rebuild_chunk(year, ids)
            db.session.commit()
            last = ids[-1]
    return written


def _rebuild_chunk(year: int, ids: list[int]) -> int:
    now = utcnow()
    child = aliased(Association)
    under = and_(SubtreeFigures.association_id == child.id, SubtreeFigures.year == year)
    # The rows that may hold sums exist before the lock (created as a refresh creates them).
    wanted = set(
        db.session.scalars(
            select(AssociationFigures.association_id).where(
                AssociationFigures.year == year, one_of(AssociationFigures.association_id, ids)
            )
        )
    ) | set(
        db.session.scalars(
            select(child.parent_id).join(SubtreeFigures, under).where(one_of(child.parent_id, ids))
        )
    )
    missing = wanted - set(
        db.session.scalars(
            select(SubtreeFigures.association_id).where(
                SubtreeFigures.year == year, one_of(SubtreeFigures.association_id, ids)
            )
        )
    )
    if missing:  # inserting only these: most nights, none
        db.session.execute(
            _insert().on_conflict_do_nothing(index_elements=["association_id", "year"]),
            [
                {"association_id": i, "year": year, "totals": {}, "oldest_computed_at": now}
                for i in sorted(missing)
            ],
        )
    locked = dict(
        db.session.execute(
            select(SubtreeFigures.association_id, SubtreeFigures.id)
            .where(SubtreeFigures.year == year, one_of(SubtreeFigures.association_id, ids))
            .order_by(SubtreeFigures.association_id)
            .with_for_update()
        ).all()
    )
    if not locked:
        return 0
    sums: dict[int, dict] = defaultdict(dict)
    oldest: dict[int, datetime] = {}
    columns = [getattr(AssociationFigures, key) for key in FIGURE_COLUMNS]
    own = db.session.execute(
        select(Association.id, Association.kind, AssociationFigures.computed_at, *columns)
        .join(AssociationFigures, AssociationFigures.association_id == Association.id)
        .where(AssociationFigures.year == year, one_of(Association.id, locked))
    )
    for association_id, kind, computed_at, *figures in own:
        row = dict(zip(FIGURE_COLUMNS, figures, strict=True))
        add_into(sums[association_id], contribution(kind, row))
        oldest[association_id] = computed_at
    for parent_id, key, total in _children_sums(child, under, list(locked)):
        add_into(sums[parent_id], {key: int(total)})
    children = db.session.execute(
        select(child.parent_id, func.min(SubtreeFigures.oldest_computed_at))
        .join(SubtreeFigures, under)
        .where(one_of(child.parent_id, locked), cast(SubtreeFigures.totals, Text) != "{}")
        .group_by(child.parent_id)
    )
    for parent_id, child_oldest in children:  # a child with empty sums adds not even its age
        if parent_id not in oldest or child_oldest < oldest[parent_id]:
            oldest[parent_id] = child_oldest
    _update_rows(
        [
            {
                "id": row_id,
                "totals": sums.get(association_id, {}),
                "oldest_computed_at": oldest.get(association_id, now),
            }
            for association_id, row_id in locked.items()
        ]
    )
    return sum(1 for association_id in locked if sums.get(association_id))


def _children_sums(child, under, parent_ids: list[int]):
    """(parent, key, the sum of the key over the parent's children's rows), `child` joined to
    its subtree row by `under`, summed by the database: a chunk of 1,000 townships has 25,000
    children, whose JSON decoded and added in Python took most of the nightly rebuild's time."""
    pairs = (
        func.json_each if db.session.get_bind().dialect.name == "sqlite" else func.json_each_text
    )
    each = pairs(SubtreeFigures.totals).table_valued("key", "value")
    return db.session.execute(
        select(child.parent_id, each.c.key, func.sum(cast(each.c.value, BigInteger)))
        .select_from(child)
        .join(SubtreeFigures, under)
        .join(each, true())
        .where(one_of(child.parent_id, parent_ids))
        .group_by(child.parent_id, each.c.key)
    )


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
