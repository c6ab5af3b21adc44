"""Keeping the figures table up to date: incrementally after each change, nightly in full, and
on demand (`flask dashboards refresh`, or the button on the dashboard).

Incremental: a session listener notes which associations had tenant rows created, changed or
deleted; after the commit, a job recomputes those associations' rows (a few grouped queries for
one association, whatever the size of the tree) and adds the difference to the subtree sums of
them and their ancestors (app/dashboards/totals.py). Bulk SQL that bypasses the ORM (none in the
request paths today) is caught up by the nightly full refresh.
"""

import logging
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import delete, event, insert, select
from sqlalchemy.orm import ORMExecuteState, Session

from app.core.audit import AuditLog
from app.core.clock import china_today, utcnow
from app.core.jobs import job, periodic
from app.core.models import after_transaction
from app.dashboards import periods, totals
from app.dashboards.figures import compute_rows
from app.dashboards.models import AssociationFigures, SubtreeFigures
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS, TenantScope, current_scope
from tenants.models import Association, TenantMixin
from tenants.tree import subtree_filter

log = logging.getLogger(__name__)
CHUNK = 2_000
DIRTY_KEY = "dashboard_dirty_associations"
UNTRACKED = (AuditLog, AssociationFigures, SubtreeFigures)


def _tracked(cls) -> bool:
    """A tenant table whose rows count in the figures. A model whose rows never do (the yearly
    assessment's scores, say) opts out with the class flag `figures_untracked = True`."""
    return (
        issubclass(cls, TenantMixin)
        and not issubclass(cls, UNTRACKED)
        and not getattr(cls, "figures_untracked", False)
    )


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def refresh_figures(year: int, association_ids: list[int] | None = None) -> int:
    """Recompute the rows of `year` for the associations (None: every association), and the
    subtree sums above them; returns how many rows were written. The caller commits."""
    with UNSCOPED_BYPASS("the figures job computes counts for many associations at once"):
        if association_ids is None:
            return _refresh_everything(year)
        return sum(_refresh_batch(year, batch) for batch in _chunks(sorted(association_ids)))


def _refresh_everything(year: int) -> int:
    rows = compute_rows(year, None)
    now = utcnow()
    db.session.execute(delete(AssociationFigures).where(AssociationFigures.year == year))
    if rows:
        db.session.execute(
            insert(AssociationFigures),
            [{"association_id": i, "year": year, "computed_at": now, **v} for i, v in rows.items()],
        )
    totals.rebuild(year)
    return len(rows)


def _refresh_batch(year: int, association_ids: list[int]) -> int:
    # Computed before taking the locks, so they are held only while writing.
    tree = {
        association_id: (path, kind)
        for association_id, path, kind in db.session.execute(
            select(Association.id, Association.path, Association.kind).where(
                Association.id.in_(association_ids)
            )
        )
    }
    ids = sorted(tree)
    rows = compute_rows(year, ids)
    locked = totals.lock_ancestors(year, (path for path, _kind in tree.values()))
    old = totals.old_values(year, ids)
    now = utcnow()
    db.session.execute(
        delete(AssociationFigures).where(
            AssociationFigures.year == year, AssociationFigures.association_id.in_(ids)
        )
    )
    if rows:
        db.session.execute(
            insert(AssociationFigures),
            [{"association_id": i, "year": year, "computed_at": now, **v} for i, v in rows.items()],
        )
    totals.apply_changes(
        year,
        locked,
        [(tree[i][0], tree[i][1], old.get(i), rows.get(i)) for i in ids],
    )
    return len(rows)


YEARS_SHOWN = 5  # the dashboard offers this year and the four before


def dashboard_years() -> list[int]:
    this_year = china_today().year
    return list(range(this_year - YEARS_SHOWN + 1, this_year + 1))


def years_to_refresh(association_ids: list[int] | None = None) -> list[int]:
    """The years the dashboard offers, and any other year already in the table."""
    with UNSCOPED_BYPASS("which years the figures table holds"):
        query = select(AssociationFigures.year).distinct()
        if association_ids is not None:
            query = query.where(AssociationFigures.association_id.in_(association_ids))
        years = set(db.session.scalars(query))
    return sorted(years | set(dashboard_years()))


def refresh_associations(association_ids: list[int]) -> None:
    """Recompute every year of these associations' rows (the incremental path), and keep any
    change to a closed period as an amendment beside its frozen figures."""
    years = years_to_refresh(association_ids)
    for year in years:
        refresh_figures(year, association_ids)
    periods.amend(association_ids, years)


def subtree_ids(association: Association) -> list[int]:
    return list(db.session.scalars(select(Association.id).where(subtree_filter(association.path))))


@job
def refresh_associations_job(association_ids: list[int]) -> None:
    # A fresh application context is a fresh database session: in inline mode this runs from
    # the committing session's after_commit hook, which cannot run SQL itself.
    with current_app.app_context():
        refresh_associations(association_ids)
        db.session.commit()


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
    """Nightly: every association, every year held, recomputed from the raw tables; then the
    quarters that have ended are closed (their figures frozen)."""
    for year in years_to_refresh():
        refresh_figures(year)
        db.session.commit()
    for year, quarter in periods.periods_to_close(china_today()):
        periods.close_period(year, quarter)
        db.session.commit()


# --- change tracking ---------------------------------------------------------------------------


def _note_changes(session: Session, flush_context) -> None:
    dirty: set[int] = session.info.setdefault(DIRTY_KEY, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if _tracked(type(obj)):
            if obj.association_id is not None:
                dirty.add(obj.association_id)
        elif isinstance(obj, Association) and obj.id is not None:
            dirty.add(obj.id)


def _note_bulk_statement(state: ORMExecuteState) -> None:
    """Bulk INSERT/UPDATE/DELETE statements skip the flush; the write guard only lets them touch
    the association the scope writes to, so that association is the one changed."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    if not any(_tracked(mapper.class_) for mapper in state.all_mappers):
        return
    scope = current_scope()
    if isinstance(scope, TenantScope):
        state.session.info.setdefault(DIRTY_KEY, set()).add(scope.association_id)


def _after_commit(session: Session) -> None:
    dirty = session.info.pop(DIRTY_KEY, None)
    if not dirty or not current_app.config["DASHBOARD_LIVE_REFRESH"]:
        return
    try:
        refresh_associations_job(sorted(dirty))
    except Exception:  # the change itself is committed; the nightly refresh catches up
        log.exception("dashboard figures refresh failed for associations %s", sorted(dirty))


def _after_rollback(session: Session) -> None:
    # A rolled-back change changed nothing (after_transaction: never called for a savepoint,
    # whose rollback leaves the changes before it in place).
    session.info.pop(DIRTY_KEY, None)


_installed = False


def install(session_class: type[Session]) -> None:
    global _installed
    if _installed:
        return
    event.listen(session_class, "after_flush", _note_changes)
    event.listen(session_class, "do_orm_execute", _note_bulk_statement)
    after_transaction(session_class, committed=_after_commit, rolled_back=_after_rollback)
    _installed = True
