"""Closed periods stay closed: a quarter's figures frozen when it closes, amendments beside them.

Closing a quarter (the nightly job the day after it ends, or `flask dashboards close`) computes
every association's figures as of the quarter's last day — members by their join and status
dates, activities by their date, an association created later left out — and stores them with
where each association stood in the tree (period_figures), and their sums over every subtree
as it stood (period_subtree_figures). Q4 closes the year. A closed period is never recomputed:
a later change that touches it (a back-dated activity, a member's corrected join date) is
recomputed as of the period's end by the after-commit refresh, and the difference is kept as
an amendment, summed along the frozen paths, shown beside the frozen figure. The yearly
self-governance cycle is not frozen (`with_yearly`): a closed period shows the year's live one.

All functions run under UNSCOPED_BYPASS (they write for the whole tree) and leave the commit to
the caller.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, insert, select, update

from app.core.clock import china_today, utcnow
from app.core.id_lists import one_of
from app.dashboards import definitions, manual, rollup
from app.dashboards.figures import compute_rows, counts_in
from app.dashboards.models import (
    ClosedPeriod,
    PeriodFigures,
    PeriodSubtreeFigures,
    SubtreeFigures,
)
from app.dashboards.rollup import add_into, contribution
from app.dashboards.totals import path_ids
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Association

BYPASS = "closing a period freezes the figures of the whole tree"
_DAY = timedelta(days=1)


def is_closed(year: int, quarter: int) -> datetime | None:
    return db.session.scalar(
        select(ClosedPeriod.closed_at).where(
            ClosedPeriod.year == year, ClosedPeriod.quarter == quarter
        )
    )


def closed_quarters(year: int) -> dict[int, datetime]:
    return dict(
        db.session.execute(
            select(ClosedPeriod.quarter, ClosedPeriod.closed_at).where(ClosedPeriod.year == year)
        ).all()
    )


def close_period(year: int, quarter: int) -> int:
    """Freeze (year, quarter) for every association; returns how many rows, 0 if it was
    closed already. Refuses a quarter that has not ended (in China's calendar)."""
    as_of = definitions.quarter_end(year, quarter)
    if as_of >= china_today():
        raise ValueError(f"Q{quarter} {year} has not ended yet")
    with UNSCOPED_BYPASS(BYPASS):
        if is_closed(year, quarter):
            return 0
        now = utcnow()
        db.session.add(ClosedPeriod(year=year, quarter=quarter, closed_at=now))
        db.session.flush()  # a second closing of the same period fails here (unique)
        rows = period_rows(year, None, as_of)
        tree = db.session.execute(select(Association.id, Association.path, Association.kind))
        frozen, sums = [], defaultdict(dict)
        for association_id, path, kind in tree:
            values = rows.get(association_id)
            if values is None:  # created after the period's end
                continue
            frozen.append(
                {
                    "association_id": association_id,
                    "year": year,
                    "quarter": quarter,
                    "path": path,
                    "kind": str(kind),
                    "frozen": values,
                    "amended": None,
                }
            )
            vector = contribution(kind, values)
            for ancestor in path_ids(path):
                add_into(sums[ancestor], vector)
        if frozen:
            db.session.execute(insert(PeriodFigures), frozen)
        if sums:
            db.session.execute(
                insert(PeriodSubtreeFigures),
                [
                    {
                        "association_id": association_id,
                        "year": year,
                        "quarter": quarter,
                        "totals": totals,
                        "amendments": {},
                        "closed_at": now,
                    }
                    for association_id, totals in sums.items()
                ],
            )
    return len(frozen)


def period_rows(year: int, association_ids: list[int] | None, as_of: date) -> dict[int, dict]:
    """What a period freezes of each association: its figures as of `as_of`
    (app/dashboards/figures.py) and the values entered by hand for the year as they stand
    (app/dashboards/manual.py), so that a value entered after the close is an amendment like
    a back-dated activity."""
    rows = compute_rows(year, association_ids, as_of)
    for association_id, by_hand in manual.values_to_freeze(year, association_ids).items():
        if association_id in rows:
            rows[association_id].update(by_hand)
    return rows


def periods_to_close(today: date) -> list[tuple[int, int]]:
    """Ended quarters of this year and last year that are not closed yet."""
    ended = []
    for year in (today.year - 1, today.year):
        done = closed_quarters(year)
        for quarter in range(1, definitions.ended_quarters(year, today) + 1):
            if quarter not in done:
                ended.append((year, quarter))
    return ended


def recompute_closed(
    association_ids: list[int], years: list[int], changed_from: dict | None = None
) -> dict[tuple[int, int], tuple[set[int], dict]]:
    """These associations' figures as of the end of every closed period of these years, as
    (the associations recomputed, their rows): the part of `amend` that reads the raw tables,
    run before the refresh takes its locks. With `changed_from` (association → the earliest
    date its changes count at), a period is recomputed only for the associations whose
    changes can count in it (figures.counts_in)."""
    changed_from = changed_from or {}
    with UNSCOPED_BYPASS(BYPASS):
        closed = db.session.execute(
            select(ClosedPeriod.year, ClosedPeriod.quarter).where(ClosedPeriod.year.in_(years))
        ).all()
        recomputed = {}
        for year, quarter in closed:
            end = rollup_end(year, quarter)
            ids = [i for i in association_ids if counts_in(changed_from.get(i), end)]
            if ids:
                recomputed[year, quarter] = (set(ids), period_rows(year, ids, end))
        return recomputed


def amend(
    written: dict[int, set[int]], recomputed: dict[tuple[int, int], tuple[set[int], dict]]
) -> None:
    """After a change: keep any difference between the figures as of each closed period's end
    (`recompute_closed`) and the frozen figures as an amendment, for the associations whose
    live rows of the year the refresh wrote (`written`: it leaves a newer refresh's alone)
    and whose period was recomputed. Run after the live figures' locks
    (app/dashboards/totals.py), which make two refreshes of one association take turns here."""
    with UNSCOPED_BYPASS(BYPASS):
        for (year, quarter), (ids, now) in recomputed.items():
            amended = written.get(year, set()) & ids
            if amended:
                _amend_period(year, quarter, sorted(amended), now)
        db.session.flush()  # inside the bypass: the write guard checks at flush time


def _amend_period(year: int, quarter: int, association_ids: list[int], now: dict) -> None:
    stored = list(
        db.session.scalars(
            select(PeriodFigures).where(
                PeriodFigures.year == year,
                PeriodFigures.quarter == quarter,
                one_of(PeriodFigures.association_id, association_ids),
            )
        )
    )
    if not stored:
        return
    deltas: dict[int, dict] = defaultdict(dict)
    for row in stored:
        current = now.get(row.association_id, row.frozen)
        previous = row.amended if row.amended is not None else row.frozen
        if same_figures(current, previous):
            continue
        delta = add_into(contribution(row.kind, current), contribution(row.kind, previous), -1)
        for ancestor in path_ids(row.path):
            add_into(deltas[ancestor], delta)
        row.amended = None if same_figures(current, row.frozen) else current
    if not deltas:
        return
    locked = db.session.execute(
        select(
            PeriodSubtreeFigures.association_id,
            PeriodSubtreeFigures.id,
            PeriodSubtreeFigures.amendments,
        )
        .where(
            PeriodSubtreeFigures.year == year,
            PeriodSubtreeFigures.quarter == quarter,
            one_of(PeriodSubtreeFigures.association_id, sorted(deltas)),
        )
        .order_by(PeriodSubtreeFigures.association_id)
        .with_for_update()
    ).all()
    db.session.execute(
        update(PeriodSubtreeFigures),
        [
            {"id": row_id, "amendments": add_into(dict(amendments or {}), deltas[association_id])}
            for association_id, row_id, amendments in locked
        ],
    )


def rollup_end(year: int, quarter: int) -> date:
    return definitions.quarter_end(year, quarter)


def same_figures(a: dict, b: dict) -> bool:
    """Two figures rows hold the same values (a key one lacks reads as None)."""
    keys = set(a) | set(b)
    return all(a.get(key) == b.get(key) for key in keys)


# --- reading ---------------------------------------------------------------------------------


def read_period(association: Association, year: int, quarter: int):
    """The dashboard of a closed quarter: frozen figures of the subtree and of each direct
    child, the amended figures (None when nothing changed since) and when it closed; None if
    the quarter is not closed. Run inside subtree_reads()."""
    end = definitions.quarter_end(year, quarter)
    children = list(
        db.session.scalars(
            select(Association)
            .where(Association.parent_id == association.id)
            .order_by(Association.name)
        )
    )
    stored = {
        association_id: (with_yearly(totals, live), amendments, closed_at)
        for association_id, totals, amendments, closed_at, live in db.session.execute(
            select(
                PeriodSubtreeFigures.association_id,
                PeriodSubtreeFigures.totals,
                PeriodSubtreeFigures.amendments,
                PeriodSubtreeFigures.closed_at,
                SubtreeFigures.totals,
            )
            .outerjoin(
                SubtreeFigures,
                and_(
                    SubtreeFigures.association_id == PeriodSubtreeFigures.association_id,
                    SubtreeFigures.year == PeriodSubtreeFigures.year,
                ),
            )
            .where(
                PeriodSubtreeFigures.year == year,
                PeriodSubtreeFigures.quarter == quarter,
                PeriodSubtreeFigures.association_id.in_(
                    [association.id, *(c.id for c in children)]
                ),
            )
        )
    }
    if association.id not in stored:
        return None
    totals, amendments, closed_at = stored[association.id]
    amended = (
        rollup.figures_from_totals(add_into(dict(totals), amendments), year, end + _DAY)
        if amendments
        else None
    )
    return ClosedDashboard(
        dashboard=rollup.Dashboard(
            total=rollup.figures_from_totals(totals, year, end + _DAY),
            children=[
                rollup.ChildRow(
                    child,
                    rollup.figures_from_totals(stored.get(child.id, ({},))[0], year, end + _DAY),
                )
                for child in children
            ],
            as_of=closed_at,
        ),
        amended=amended,
        quarter=quarter,
        closed_at=closed_at,
    )


def with_yearly(frozen: dict, live: dict | None) -> dict:
    """A closed period's sums with the yearly figures (the self-governance cycle, never
    frozen: its report and evaluation come after the year's last quarter closes) taken from
    the year's live sums."""
    totals = {key: value for key, value in frozen.items() if key not in rollup.CYCLE_KEYS}
    totals.update({key: live[key] for key in rollup.CYCLE_KEYS if (live or {}).get(key)})
    return totals


@dataclass
class ClosedDashboard:
    dashboard: rollup.Dashboard
    amended: rollup.Figures | None
    quarter: int
    closed_at: datetime
