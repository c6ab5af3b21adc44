"""Keeping the figures table up to date: incrementally after each change, nightly in full, and
on demand (`flask dashboards refresh`, or the button on the dashboard).

Incremental: a session listener notes which associations had tenant rows created, changed or
deleted; their ids go into a small queue table (`figures_queue`) in the same transaction as the
change (so the queue holds them exactly when the change is committed), and after the commit a
job is queued to drain it. The job claims the queue in batches of up to BATCH associations,
recomputes a batch's rows for every year shown with the grouped queries of
app/dashboards/figures.py (a few queries per year for the whole batch), and adds the batch's
differences to the subtree sums (app/dashboards/totals.py): summed per ancestor first, so an
ancestor shared by the batch — the province at the top of every path — takes one update per
year per batch, not one per change. Bulk SQL that bypasses the ORM (none in the request paths
today) is caught up by the nightly full refresh.

Why a queue table rather than one job per change: every change adds to the root's row, so a
job per change holds the root's row lock once per change (5 years, about 12–15 refreshes a
second measured with four workers); a batch of 500 holds it once. Why a table rather than the
job's arguments: several workers share it (a claim is `DELETE … RETURNING` of rows locked
`FOR UPDATE SKIP LOCKED`, so two workers never claim the same row), a claim is undone with the
worker's transaction if it fails, a change whose process dies right after its commit is still
refreshed, and an association changed 100 times while the workers were busy is recomputed once.
Rows are plain inserts (no unique constraint): the committing request never waits on a worker's
claim.

No lost update: a batch is computed before its locks are taken (so they are held only while
writing), which could let a refresh holding an older computation of an association overwrite a
newer one another worker wrote meanwhile. So each row keeps when its computation started
(`computed_at`, by the database's clock), and a refresh leaves a row that started later than
its own as it is (`_refresh_batch`). Nothing is lost that way: a change committed after a
computation started has queued its association with its commit, so some later batch, started
after the change, recomputes it. The same rule covers the nightly chunks and "refresh now".

Inline mode (tests, the local demo: HUEY_IMMEDIATE) drains the queue within the committing
request's after-commit hook, so a change is on the dashboard right after the commit, as before.
A periodic drain every minute catches up a queue left behind (a worker stopped mid-batch).

Nightly: every association in chunks of CHUNK (by id), each recomputed through the same
incremental path and committed on its own, then the subtree sums rebuilt level by level from
the figures table (`totals.rebuild`), a chunk of rows per transaction: memory and lock times
are bounded by a chunk, whatever the size of the tree, and readers are never blocked (they read
the last committed rows).
"""

import logging
import time
from collections.abc import Iterable
from datetime import date, datetime

from flask import current_app
from sqlalchemy import delete, event, func, insert, inspect, select, update
from sqlalchemy.orm import ORMExecuteState, Session

from app.core.clock import china_today, utcnow
from app.core.id_lists import one_of
from app.core.jobs import job, periodic
from app.core.models import after_transaction
from app.dashboards import periods, totals
from app.dashboards.definitions import dashboard_years
from app.dashboards.figures import DATED_BY, compute_rows, counts_in, source_models
from app.dashboards.models import AssociationFigures, FiguresQueue, ManualTargetValue
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS, TenantScope, current_scope
from tenants.models import Association
from tenants.tree import subtree_filter

log = logging.getLogger(__name__)
CHUNK = 2_000  # associations per transaction of the nightly refresh
BATCH = 500  # associations per drained batch of the incremental refresh
DRAIN_SECONDS = 30  # a drain job leaves what remains after this to the next job
DIRTY_KEY = "dashboard_dirty_associations"
QUEUED_KEY = "dashboard_figures_queued"
BYPASS = "the figures job computes counts for many associations at once"
# Read besides the figure groups' sources: the values entered by hand, frozen with a closed
# period (periods.period_rows), whose later change is an amendment.
FROZEN_SOURCES = (ManualTargetValue,)


def _tracked() -> set[type]:
    """The tenant tables whose rows count in the figures: those a figure group reads (its
    `sources`). A change to any other (a photo, a participant, the audit log) queues nothing."""
    return source_models() | set(FROZEN_SOURCES)


ChangedFrom = dict[int, date | None]  # association → earliest date its changes count at


def _merge(into: ChangedFrom, association_id: int, changed_from: date | None) -> None:
    """Two changes of one association: the earlier date, None (every period) winning."""
    if association_id in into:
        known = into[association_id]
        changed_from = None if known is None or changed_from is None else min(known, changed_from)
    into[association_id] = changed_from


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def refresh_figures(year: int, association_ids: list[int] | None = None) -> int:
    """Recompute the rows of `year` for the associations, and the subtree sums above them;
    returns how many associations it refreshed. The caller commits; None (every association)
    commits as it goes, a chunk at a time (see the module's docstring)."""
    if association_ids is None:
        return _refresh_everything(year)
    with UNSCOPED_BYPASS(BYPASS):
        return sum(
            len(_refresh_batch([year], batch, _clock())[year])
            for batch in _chunks(sorted(association_ids))
        )


def _refresh_everything(year: int) -> int:
    written, last = 0, 0
    while True:
        with UNSCOPED_BYPASS(BYPASS):
            ids = list(
                db.session.scalars(
                    select(Association.id)
                    .where(Association.id > last)
                    .order_by(Association.id)
                    .limit(CHUNK)
                )
            )
            if not ids:
                break
            written += len(_refresh_batch([year], ids, _clock())[year])
        db.session.commit()
        last = ids[-1]
    totals.rebuild(year)
    return written


def _clock() -> datetime:
    """Now, by the database's clock on PostgreSQL: one clock for every worker, whatever host
    it runs on."""
    if db.session.get_bind().dialect.name == "postgresql":
        return db.session.scalar(select(func.clock_timestamp()))
    return utcnow()


def _refresh_batch(
    years: list[int],
    association_ids: list[int],
    started: datetime,
    changed_from: ChangedFrom | None = None,
) -> dict[int, set[int]]:
    """Recompute the rows of these years for the associations and add the differences to the
    sums above them, one update per ancestor and year; returns the associations refreshed per
    year. With `changed_from`, a year is recomputed only for the associations whose changes
    can count in it (an activity held this year leaves last year's row alone).

    The rows are computed before the locks are taken, so the locks are held only while
    writing; `started` (taken before computing) is stored as the row's `computed_at`. A row
    another refresh stored meanwhile from a later start is newer than this computation: it is
    kept, not overwritten (a change committed after this computation began has queued its own
    refresh, which starts after it and so is never the one left out)."""
    tree = {
        association_id: (path, kind)
        for association_id, path, kind in db.session.execute(
            select(Association.id, Association.path, Association.kind).where(
                one_of(Association.id, association_ids)
            )
        )
    }
    since = changed_from or {}
    wanted = {
        year: [i for i in sorted(tree) if counts_in(since.get(i), date(year, 12, 31))]
        for year in years
    }
    computed = {year: compute_rows(year, ids) for year, ids in wanted.items() if ids}
    written: dict[int, set[int]] = {}
    for year in years:  # in ascending order, as every writer locks: no cycle of waits
        ids = wanted[year]
        if not ids:
            continue
        locked = totals.lock_ancestors(year, (tree[i][0] for i in ids))
        old = totals.old_values(year, ids)
        fresh = [i for i in ids if i not in old or old[i][0] <= started]
        rows = {i: computed[year][i] for i in fresh if i in computed[year]}
        # Most rows come out as they were (every row, most nights): those only have their
        # time moved on; the others are replaced and their differences added up the tree.
        same = {i for i in rows if i in old and periods.same_figures(old[i][1], rows[i])}
        replaced = [i for i in fresh if i not in same]
        if same:
            db.session.execute(
                update(AssociationFigures)
                .where(
                    AssociationFigures.year == year,
                    one_of(AssociationFigures.association_id, sorted(same)),
                )
                .values(computed_at=started)
            )
        db.session.execute(
            delete(AssociationFigures).where(
                AssociationFigures.year == year,
                one_of(AssociationFigures.association_id, replaced),
            )
        )
        if len(rows) > len(same):
            db.session.execute(
                insert(AssociationFigures),
                [
                    {"association_id": i, "year": year, "computed_at": started, **rows[i]}
                    for i in replaced
                    if i in rows
                ],
            )
        totals.apply_changes(
            year,
            locked,
            [(tree[i][0], tree[i][1], old.get(i, (None, None))[1], rows.get(i)) for i in replaced],
        )
        written[year] = set(fresh)
    return written


def years_to_refresh(association_ids: list[int] | None = None) -> list[int]:
    """The years the dashboard offers, and any other year already in the table."""
    with UNSCOPED_BYPASS("which years the figures table holds"):
        query = select(AssociationFigures.year).distinct()
        if association_ids is not None:
            query = query.where(one_of(AssociationFigures.association_id, association_ids))
        years = set(db.session.scalars(query))
    return sorted(years | set(dashboard_years()))


def refresh_associations(
    association_ids: list[int], changed_from: ChangedFrom | None = None
) -> None:
    """Recompute these associations' rows of every year their changes can count in (every
    year without `changed_from`: the incremental path), and keep any change to a closed period
    as an amendment beside its frozen figures. The caller commits."""
    years = years_to_refresh(association_ids)
    for batch in _chunks(sorted(association_ids)):
        started = _clock()
        # before the locks, as the rows
        recomputed = periods.recompute_closed(batch, years, changed_from)
        with UNSCOPED_BYPASS(BYPASS):
            written = _refresh_batch(years, batch, started, changed_from)
        periods.amend(written, recomputed)


def queue_associations(association_ids: Iterable[int] | ChangedFrom) -> None:
    """Put these associations in the queue the refresh job drains, each with the earliest
    date its change counts at when given as a mapping (otherwise: every period). The caller
    commits."""
    now = utcnow()
    if not isinstance(association_ids, dict):
        association_ids = dict.fromkeys(association_ids)
    rows = [
        {"association_id": i, "queued_at": now, "changed_from": association_ids[i]}
        for i in sorted(association_ids)
    ]
    if rows:
        db.session.execute(insert(FiguresQueue), rows)


def _claim(limit: int) -> list[tuple[int, date | None]]:
    """Take up to `limit` queued rows out of the queue (back in if the transaction rolls
    back) and return their (association, changed_from); rows another worker has claimed are
    skipped, not waited for."""
    claimed = (
        select(FiguresQueue.id)
        .order_by(FiguresQueue.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return list(
        db.session.execute(
            delete(FiguresQueue)
            .where(FiguresQueue.id.in_(claimed))
            .returning(FiguresQueue.association_id, FiguresQueue.changed_from)
        ).all()
    )


def drain_batch(limit: int = BATCH) -> int:
    """Claim a batch of the queue, recompute its associations and commit; returns how many
    queued rows it took (0: the queue was empty)."""
    with UNSCOPED_BYPASS(BYPASS):
        taken = _claim(limit)
    changed_from: ChangedFrom = {}
    for association_id, since in taken:
        _merge(changed_from, association_id, since)
    if changed_from:
        refresh_associations(sorted(changed_from), changed_from)
    db.session.commit()
    return len(taken)


def drain_queue(seconds: float = DRAIN_SECONDS, limit: int = BATCH) -> int:
    """Drain the queue batch by batch until it is empty or `seconds` have passed; returns how
    many queued rows were taken."""
    started = time.monotonic()
    taken = 0
    while time.monotonic() - started < seconds:
        claimed = drain_batch(limit)
        if not claimed:
            break
        taken += claimed
    return taken


def subtree_ids(association: Association) -> list[int]:
    return list(db.session.scalars(select(Association.id).where(subtree_filter(association.path))))


@job
def drain_figures_queue_job() -> None:
    # A fresh application context is a fresh database session: in inline mode this runs from
    # the committing session's after_commit hook, which cannot run SQL itself.
    with current_app.app_context():
        drain_queue()


@periodic(minute="*")
def drain_figures_queue() -> None:
    """Every minute: whatever a stopped worker left in the queue."""
    drain_queue()


@job
def refresh_subtree_job(association_id: int, year: int) -> None:
    """The dashboard's "refresh now": one year, the association and everything below it."""
    with current_app.app_context():
        association = db.session.get(Association, association_id)
        if association is not None:
            refresh_figures(year, subtree_ids(association))
            db.session.commit()


@periodic(minute="20", hour="2")
def refresh_all_figures() -> None:
    """Nightly: every association, every year held, recomputed from the raw tables, a chunk per
    transaction; then the quarters that have ended are closed (their figures frozen)."""
    for year in years_to_refresh():
        refresh_figures(year)
        db.session.commit()
    for year, quarter in periods.periods_to_close(china_today()):
        periods.close_period(year, quarter)
        db.session.commit()


# --- change tracking ---------------------------------------------------------------------------


def _changed_from(obj, change: str) -> date | None:
    """The earliest date a flushed row's old and new values count at (figures.DATED_BY);
    None (every period) when its table is not dated, it was deleted, a change voids the bound,
    a date is missing, or the old value was never loaded."""
    bound = DATED_BY.get(type(obj))
    if bound is None or change == "deleted":
        return None
    state = inspect(obj)
    is_new = change == "new"
    if not is_new and any(state.attrs[name].history.has_changes() for name in bound.unbounded_by):
        return None
    history = state.attrs[bound.column].history
    if history.added and not history.deleted and not is_new:
        return None  # changed without its old value loaded: it may have been earlier
    dates = [*history.added, *history.unchanged, *history.deleted]
    if not dates or not all(type(value) is date for value in dates):
        return None  # missing (counts in every period), or not a plain date
    return min(dates)


def _note_changes(session: Session, flush_context) -> None:
    dirty: ChangedFrom = session.info.setdefault(DIRTY_KEY, {})
    tracked = _tracked()
    for change, objects in (
        ("new", session.new),
        ("dirty", session.dirty),
        ("deleted", session.deleted),
    ):
        for obj in objects:
            if type(obj) in tracked:
                if obj.association_id is not None:
                    _merge(dirty, obj.association_id, _changed_from(obj, change))
            elif isinstance(obj, Association) and obj.id is not None:
                _merge(dirty, obj.id, None)


def _note_bulk_statement(state: ORMExecuteState) -> None:
    """Bulk INSERT/UPDATE/DELETE statements skip the flush; the write guard only lets them touch
    the association the scope writes to, so that association is the one changed."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    if not _tracked().intersection(mapper.class_ for mapper in state.all_mappers):
        return
    scope = current_scope()
    if isinstance(scope, TenantScope):
        _merge(state.session.info.setdefault(DIRTY_KEY, {}), scope.association_id, None)


def _queue_before_commit(session: Session) -> None:
    """The changed associations join the queue in the change's own transaction: the queue
    holds them exactly when the change is committed, whatever happens to the process after."""
    if session.in_nested_transaction() or not current_app.config["DASHBOARD_LIVE_REFRESH"]:
        return
    session.flush()  # the last changes are noted by their flush
    dirty = session.info.pop(DIRTY_KEY, None)
    if dirty:
        queue_associations(dirty)
        session.info[QUEUED_KEY] = True


def _after_commit(session: Session) -> None:
    if not session.info.pop(QUEUED_KEY, False):
        return
    try:
        drain_figures_queue_job()
    except Exception:  # the change and its queue rows are committed: a later drain catches up
        log.exception("queueing the dashboard figures' drain failed")


def _after_rollback(session: Session) -> None:
    # A rolled-back change changed nothing (after_transaction: never called for a savepoint,
    # whose rollback leaves the changes before it in place).
    session.info.pop(DIRTY_KEY, None)
    session.info.pop(QUEUED_KEY, None)


_installed = False


def install(session_class: type[Session]) -> None:
    global _installed
    if _installed:
        return
    event.listen(session_class, "after_flush", _note_changes)
    event.listen(session_class, "do_orm_execute", _note_bulk_statement)
    event.listen(session_class, "before_commit", _queue_before_commit)
    after_transaction(session_class, committed=_after_commit, rolled_back=_after_rollback)
    _installed = True
