"""Spot checks (抽查): a higher association draws a reproducible sample of the activity records
below it, records the draw, and inspects each drawn activity (fine, or a problem that may open
a rectification task in the same step).

Tenancy: a spot check belongs to the drawing association although an auditor (no write role)
draws it: the oversight is checked with `access_for` first, then the draw is written in a
writable scope of the drawing association only (`tenant_context(scope_for(…))`).
"""

import random
import secrets
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select
from sqlalchemy.orm import selectinload

from app.activities.models import Activity
from app.core.clock import utcnow
from app.core.pagination import Page, paginate_rows
from app.extensions import db
from app.oversight.models import SpotCheck, SpotCheckEntry, Verdict
from app.oversight.overseeing import oversees_below, strictly_below
from app.oversight.problems import OversightError, OversightInvalid, OversightRefused
from app.oversight.rectification import TaskInput, open_task
from tenants.access import access_for
from tenants.context import scope_for, subtree_reads, tenant_context
from tenants.models import Association
from tenants.tree import subtree_bounds

MAX_SAMPLE = 200


@dataclass(frozen=True)
class DrawFilter:
    year: int
    quarter: int | None = None
    child_id: int | None = None


def draw_sample(population_ids, size: int, seed: int) -> list[int]:
    """The sample for a seed: reproducible from the sorted population and the seed alone."""
    return random.Random(seed).sample(sorted(population_ids), size)


def _period(filters: DrawFilter) -> tuple[date, date]:
    if filters.quarter:
        start = date(filters.year, 3 * filters.quarter - 2, 1)
        end = (
            date(filters.year + 1, 1, 1)
            if filters.quarter == 4
            else date(filters.year, 3 * filters.quarter + 1, 1)
        )
        return start, end
    return date(filters.year, 1, 1), date(filters.year + 1, 1, 1)


def children_of(association: Association) -> list[Association]:
    return list(
        db.session.scalars(
            select(Association)
            .where(Association.parent_id == association.id)
            .order_by(Association.name)
        )
    )


def population(association: Association, filters: DrawFilter) -> list[tuple[int, int]]:
    """(activity id, association id) of every activity record strictly below the association
    that fits the filters, sorted by id."""
    start, end = _period(filters)
    below = strictly_below(association)
    if filters.child_id is not None:
        child = db.session.get(Association, filters.child_id)
        if child is None or child.parent_id != association.id:
            raise OversightInvalid(
                {"child_id": _l("Choose one of the associations directly below.")}
            )
        child_low, child_high = subtree_bounds(child.path)
        below = and_(below, Association.path >= child_low, Association.path < child_high)
    with subtree_reads():
        return list(
            db.session.execute(
                select(Activity.id, Activity.association_id)
                .join(Association, Association.id == Activity.association_id)
                .where(below, Activity.held_on >= start, Activity.held_on < end)
                .order_by(Activity.id)
            ).all()
        )


def draw_spot_check(
    association: Association, filters: DrawFilter, size: int | None, *, user_id: int
) -> SpotCheck:
    """Draw and record a sample. Every draw is a new record: nothing is redrawn in place."""
    access = access_for(user_id, association)
    if not oversees_below(access):
        raise OversightRefused(_l("Only a higher association can draw a spot check."))
    found = population(association, filters)
    if not size or size < 1:
        raise OversightInvalid({"size": _l("Draw at least one activity record.")})
    if size > MAX_SAMPLE:
        raise OversightInvalid({"size": _l("Draw at most %(n)d records at a time.", n=MAX_SAMPLE)})
    if size > len(found):
        raise OversightInvalid(
            {
                "size": _l(
                    "Only %(n)d activity records match these filters: draw %(n)d or fewer.",
                    n=len(found),
                )
            }
        )
    seed = secrets.randbits(62)
    owner = dict(found)
    drawn = draw_sample(owner.keys(), size, seed)
    with tenant_context(scope_for(association, writable=True)):
        spot_check = SpotCheck(
            drawn_by_id=user_id,
            year=filters.year,
            quarter=filters.quarter,
            child_association_id=filters.child_id,
            sample_size=size,
            population=len(found),
            seed=seed,
            activity_ids=drawn,
        )
        db.session.add(spot_check)
        db.session.flush()
        for position, activity_id in enumerate(drawn, start=1):
            db.session.add(
                SpotCheckEntry(
                    spot_check_id=spot_check.id,
                    position=position,
                    activity_id=activity_id,
                    activity_association_id=owner[activity_id],
                )
            )
        db.session.flush()
    return spot_check


def reproduce(association: Association, spot_check: SpotCheck) -> list[int]:
    """The sample the recorded seed gives over today's records (equal to the recorded one as
    long as no matching record was added or removed since)."""
    filters = DrawFilter(spot_check.year, spot_check.quarter, spot_check.child_association_id)
    found = [activity_id for activity_id, _ in population(association, filters)]
    if len(found) < spot_check.sample_size:
        return []
    return draw_sample(found, spot_check.sample_size, spot_check.seed)


def spot_check_history(*, page: int, per_page: int = 20) -> Page:
    """Draws recorded by the current association, newest first (two queries)."""
    return paginate_rows(
        select(SpotCheck).order_by(SpotCheck.created_at.desc(), SpotCheck.id.desc()),
        page=page,
        per_page=per_page,
    )


def load_spot_check(spot_check_id: int) -> SpotCheck | None:
    return db.session.scalar(
        select(SpotCheck)
        .where(SpotCheck.id == spot_check_id)
        .options(selectinload(SpotCheck.entries))
    )


def drawn_activities(spot_check: SpotCheck) -> dict[int, Activity]:
    """The drawn activities that still exist, with their photos (two queries)."""
    with subtree_reads():
        return {
            activity.id: activity
            for activity in db.session.scalars(
                select(Activity)
                .where(Activity.id.in_(spot_check.activity_ids))
                .options(selectinload(Activity.photos))
            )
        }


def inspect_entry(
    association: Association,
    entry: SpotCheckEntry,
    *,
    verdict: Verdict,
    note: str,
    user_id: int,
    task: TaskInput | None = None,
    today: date,
) -> SpotCheckEntry:
    """Mark a drawn activity checked ok or a problem; a problem may open a task in one step."""
    access = access_for(user_id, association)
    if not oversees_below(access):
        raise OversightRefused(_l("Only a higher association can inspect a spot check."))
    note = note.strip()
    if verdict == Verdict.PROBLEM and not note:
        raise OversightInvalid({"note": _l("Say what the problem is.")})
    if task is not None:
        if verdict != Verdict.PROBLEM:
            raise OversightInvalid({"verdict": _l("A task is opened for a problem only.")})
        if entry.task_id is not None:
            raise OversightInvalid({"verdict": _l("A task is already open for this activity.")})
        target = (
            db.session.get(Association, entry.activity_association_id)
            if entry.activity_association_id
            else None
        )
        if target is None:
            raise OversightError(_l("The activity's association no longer exists."))
        task.activity_id = entry.activity_id
        task.description = task.description.strip() or note
        opened = open_task(target, task, user_id=user_id, today=today)
        entry_task_id = opened.id
    else:
        entry_task_id = entry.task_id
    with tenant_context(scope_for(association, writable=True)):
        entry.verdict = verdict
        entry.note = note
        entry.checked_by_id = user_id
        entry.checked_at = utcnow()
        entry.task_id = entry_task_id
        db.session.flush()
    return entry
