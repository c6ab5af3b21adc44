"""Oversight from above: the 七有 review queue, rectification tasks (整改) and spot checks (抽查).

Rectification task states: open → answered → closed | returned; returned → answered. The
target association's secretary answers; a user overseeing the target from the opening
association or above it accepts (closes) or sends back. Anything else is refused.

Tenancy: a task belongs to its target association but is written by a user of a higher one,
and a spot check belongs to the drawing association although an auditor (no write role) draws
it. Both follow app/checklist's review: check the oversight with `access_for` first, then write
in a writable scope of the owning association only (`tenant_context(scope_for(…))`).
"""

import random
import secrets
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select
from sqlalchemy.orm import selectinload

from app.activities.models import Activity
from app.checklist.models import Checklist, ChecklistItem, ItemState
from app.core import uploads
from app.core.clock import china_today
from app.core.dates import date_problem
from app.core.models import utcnow
from app.core.pagination import Page, paginate_rows
from app.core.problems import Problem
from app.extensions import db
from app.oversight import notices
from app.oversight.models import (
    RectificationTask,
    SpotCheck,
    SpotCheckEntry,
    TaskEvent,
    TaskEvidence,
    TaskState,
    Verdict,
)
from tenants.access import Access, access_for
from tenants.context import UNSCOPED_BYPASS, scope_for, subtree_reads, tenant_context
from tenants.models import OVERSIGHT_ROLES, WRITE_ROLES, Association, Membership
from tenants.tree import subtree_bounds

MAX_SAMPLE = 200
MAX_FILES_PER_ANSWER = 10


class OversightError(Problem):
    """A step the rules do not allow; `message` is translated for the user."""

    def __init__(self, message, status: int = 422):
        super().__init__(message, status=status)


class Refused(OversightError):
    def __init__(self, message):
        super().__init__(message, status=403)


class Invalid(OversightError):
    """Bad input; `problems` maps a form field to a translated message."""

    def __init__(self, problems: dict):
        Problem.__init__(self, problems)


# --- who may oversee --------------------------------------------------------------------------


def oversees_below(access: Access) -> bool:
    """May act for a higher level here: a secretary, staff or auditor role in this association
    or oversight from above it (members never)."""
    return access.own_role in OVERSIGHT_ROLES or access.oversight_from is not None


def may_act_on(access: Access) -> bool:
    """app/checklist's review rule: oversight from above, and no working role in the target."""
    return access.oversight_from is not None and access.own_role not in WRITE_ROLES


def strictly_below(association: Association):
    low, high = subtree_bounds(association.path)
    return and_(Association.path >= low, Association.path < high, Association.id != association.id)


def _own_write_association_ids(user_id: int) -> list[int]:
    """Where the user holds a working role: they review nothing there (app/checklist's rule)."""
    with UNSCOPED_BYPASS("the signed-in user's own memberships"):
        return list(
            db.session.scalars(
                select(Membership.association_id).where(
                    Membership.user_id == user_id, Membership.role.in_(list(WRITE_ROLES))
                )
            )
        )


# --- the review queue -------------------------------------------------------------------------


def review_queue(association: Association, *, user_id: int, page: int, per_page: int = 20) -> Page:
    """七有 items below the association submitted and not yet reviewed, oldest first: rows of
    (item, year, association). Three queries whatever the page size."""
    excluded = _own_write_association_ids(user_id)
    query = (
        select(ChecklistItem, Checklist.year, Association)
        .join(
            Checklist,
            (Checklist.association_id == ChecklistItem.association_id)
            & (Checklist.id == ChecklistItem.checklist_id),
        )
        .join(Association, Association.id == ChecklistItem.association_id)
        .where(ChecklistItem.state == ItemState.SUBMITTED, strictly_below(association))
        .order_by(ChecklistItem.submitted_at, ChecklistItem.id)
    )
    if excluded:
        query = query.where(Association.id.not_in(excluded))
    with subtree_reads():
        return paginate_rows(query, page=page, per_page=per_page)


# --- rectification tasks ----------------------------------------------------------------------

TRANSITIONS = {
    (TaskState.OPEN, "answer"): TaskState.ANSWERED,
    (TaskState.RETURNED, "answer"): TaskState.ANSWERED,
    (TaskState.ANSWERED, "accept"): TaskState.CLOSED,
    (TaskState.ANSWERED, "return"): TaskState.RETURNED,
}

STATE_LABELS = {
    TaskState.OPEN: _l("open, waiting for an answer"),
    TaskState.ANSWERED: _l("answered, waiting for the higher association"),
    TaskState.RETURNED: _l("sent back"),
    TaskState.CLOSED: _l("closed"),
}

EVENT_LABELS = {
    "open": _l("opened the task"),
    "answer": _l("answered"),
    "accept": _l("accepted and closed"),
    "return": _l("sent back"),
}


def next_state(state: TaskState, action: str) -> TaskState:
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise OversightError(
            _l("This step is not possible for a task that is %(state)s.", state=STATE_LABELS[state])
        ) from None


@dataclass
class TaskInput:
    title: str
    description: str
    deadline_on: date | None
    checklist_item_id: int | None = None
    activity_id: int | None = None


def task_problems(data: TaskInput, *, today: date) -> dict:
    problems = {}
    if not data.title.strip():
        problems["title"] = _l("Say in a few words what needs correcting.")
    if not data.description.strip():
        problems["description"] = _l("Describe what is wrong and what must be done.")
    if data.deadline_on is None:
        problems["deadline_on"] = _l("Set a deadline.")
    elif data.deadline_on < today:
        problems["deadline_on"] = _l("The deadline cannot be in the past.")
    elif problem := date_problem(data.deadline_on, today=today):
        problems["deadline_on"] = problem
    return problems


def _event(task: RectificationTask, action: str, *, actor_id, actor_association_id, comment=""):
    event = TaskEvent(
        task_id=task.id,
        action=action,
        actor_id=actor_id,
        actor_association_id=actor_association_id,
        comment=comment,
    )
    db.session.add(event)
    db.session.flush()
    return event


def link_problems(checklist_item_id: int | None, activity_id: int | None) -> dict:
    """The 七有 item and activity a task is about must be the current association's (an id of
    another association's row finds nothing in its scope)."""
    problems = {}
    if checklist_item_id is not None and not db.session.scalar(
        select(ChecklistItem.id).where(ChecklistItem.id == checklist_item_id)
    ):
        problems["checklist_item_id"] = _l("That 七有 item is not this association's.")
    if activity_id is not None and not db.session.scalar(
        select(Activity.id).where(Activity.id == activity_id)
    ):
        problems["activity_id"] = _l("That activity is not this association's.")
    return problems


def open_task(
    target: Association, data: TaskInput, *, user_id: int, today: date
) -> RectificationTask:
    """A higher association opens a task against `target` (any association below it)."""
    access = access_for(user_id, target)
    if not may_act_on(access):
        raise Refused(_l("Only a higher association overseeing this one can open a task for it."))
    problems = task_problems(data, today=today)
    if problems:
        raise Invalid(problems)
    with tenant_context(scope_for(target, writable=True)):
        problems = link_problems(data.checklist_item_id, data.activity_id)
        if problems:
            raise Invalid(problems)
        task = RectificationTask(
            title=data.title.strip()[:120],
            description=data.description.strip(),
            deadline_on=data.deadline_on,
            state=TaskState.OPEN,
            opened_by_id=user_id,
            opened_by_association_id=access.oversight_from.id,
            checklist_item_id=data.checklist_item_id,
            activity_id=data.activity_id,
        )
        db.session.add(task)
        db.session.flush()
        _event(
            task,
            "open",
            actor_id=user_id,
            actor_association_id=access.oversight_from.id,
            comment=task.description,
        )
    notices.task_opened(task, target, access.oversight_from)
    return task


def answer_task(
    task: RectificationTask, *, note: str, files, association_id: int, user_id: int
) -> TaskEvent:
    """The target's secretary answers with a note and evidence files; all or nothing (a refused
    file refuses the answer, and the request rolls back whatever was kept)."""
    note = note.strip()
    if not note:
        raise Invalid({"note": _l("Say what was done to correct it.")})
    if len(files) > MAX_FILES_PER_ANSWER:
        raise Invalid({"files": _l("At most %(n)d files at a time.", n=MAX_FILES_PER_ANSWER)})
    task.state = next_state(task.state, "answer")
    event = _event(
        task, "answer", actor_id=user_id, actor_association_id=association_id, comment=note
    )
    for file in files:
        try:
            stored = uploads.store_upload(
                file, uploads.EVIDENCE, association_id=association_id, uploaded_by_id=user_id
            )
        except uploads.UploadRejected as rejected:
            name = getattr(file, "filename", "") or "?"
            raise OversightError(
                _l("%(name)s was not accepted: %(reason)s", name=name, reason=rejected.message),
                status=rejected.status,
            ) from rejected
        db.session.add(TaskEvidence(task_id=task.id, event_id=event.id, stored_file_id=stored.id))
    event.detail = {"files": len(files)}
    db.session.flush()
    notices.task_answered(task, db.session.get(Association, association_id))
    return event


def may_decide(user_id: int, task: RectificationTask, target: Association) -> Access | None:
    """The access a user decides with: overseeing the target, and the opening association (so
    a lower level cannot close what a higher one opened). None when they may not."""
    access = access_for(user_id, target)
    if not may_act_on(access):
        return None
    if task.opened_by_association_id is not None:
        opener = db.session.get(Association, task.opened_by_association_id)
        if opener is not None and not oversees_below(access_for(user_id, opener)):
            return None
    return access


def decide_task(
    target: Association, task_id: int, *, user_id: int, accept: bool, comment: str
) -> RectificationTask:
    """Accept (close) an answered task, or send it back with a comment."""
    with tenant_context(scope_for(target, writable=False)):
        task = db.session.scalar(select(RectificationTask).where(RectificationTask.id == task_id))
    if task is None:
        raise OversightError(_l("There is no such task."), status=404)
    access = may_decide(user_id, task, target)
    if access is None:
        raise Refused(
            _l("Only the association that opened the task, or one above it, can decide on it.")
        )
    comment = comment.strip()
    if not accept and not comment:
        raise Invalid({"comment": _l("Say what is still missing when sending a task back.")})
    with tenant_context(scope_for(target, writable=True)):
        task.state = next_state(task.state, "accept" if accept else "return")
        task.closed_at = utcnow() if accept else None
        _event(
            task,
            "accept" if accept else "return",
            actor_id=user_id,
            actor_association_id=access.oversight_from.id,
            comment=comment,
        )
        db.session.flush()
    notices.task_decided(task, target, access.oversight_from, accepted=accept, comment=comment)
    return task


@dataclass(frozen=True)
class TaskFilter:
    state: str = "open"  # open (not closed) | overdue | closed | all

    def apply(self, query, today: date):
        if self.state == "open":
            return query.where(RectificationTask.state != TaskState.CLOSED)
        if self.state == "overdue":
            return query.where(
                RectificationTask.state != TaskState.CLOSED, RectificationTask.deadline_on < today
            )
        if self.state == "closed":
            return query.where(RectificationTask.state == TaskState.CLOSED)
        return query


TASK_FILTERS = ("open", "overdue", "closed", "all")


def task_list(
    association: Association, filters: TaskFilter, *, today: date, page: int, per_page: int = 20
) -> Page:
    """Tasks against the association and everything below it, nearest deadline first: rows of
    (task, target association). Two queries whatever the page size."""
    low, high = subtree_bounds(association.path)
    query = filters.apply(
        select(RectificationTask, Association)
        .join(Association, Association.id == RectificationTask.association_id)
        .where(Association.path >= low, Association.path < high)
        .order_by(RectificationTask.deadline_on, RectificationTask.id),
        today,
    )
    with subtree_reads():
        return paginate_rows(query, page=page, per_page=per_page)


def load_task(task_id: int) -> RectificationTask | None:
    return db.session.scalar(select(RectificationTask).where(RectificationTask.id == task_id))


def task_history(task: RectificationTask) -> tuple[list[TaskEvent], dict[int, list[TaskEvidence]]]:
    events = list(
        db.session.scalars(
            select(TaskEvent)
            .where(TaskEvent.task_id == task.id)
            .order_by(TaskEvent.at, TaskEvent.id)
        )
    )
    evidence: dict[int, list[TaskEvidence]] = {}
    for row in db.session.scalars(
        select(TaskEvidence).where(TaskEvidence.task_id == task.id).order_by(TaskEvidence.id)
    ):
        evidence.setdefault(row.event_id, []).append(row)
    return events, evidence


def open_tasks_here(*, today: date) -> list[RectificationTask]:
    """Tasks against the current association that are not closed, nearest deadline first."""
    return list(
        db.session.scalars(
            select(RectificationTask)
            .where(RectificationTask.state != TaskState.CLOSED)
            .order_by(RectificationTask.deadline_on, RectificationTask.id)
        )
    )


def overdue_task_counts(association: Association, *, today: date | None = None) -> dict[int, int]:
    """{association id: tasks against it that are overdue} over the association's subtree
    (itself included; associations with none are left out). One query on the subtree's path
    range. Call it in the association's tenant scope (a request for it, or tenant_context)."""
    today = today or china_today()
    low, high = subtree_bounds(association.path)
    with subtree_reads():
        rows = db.session.execute(
            select(RectificationTask.association_id, func.count(RectificationTask.id))
            .join(Association, Association.id == RectificationTask.association_id)
            .where(
                Association.path >= low,
                Association.path < high,
                RectificationTask.state != TaskState.CLOSED,
                RectificationTask.deadline_on < today,
            )
            .group_by(RectificationTask.association_id)
        ).all()
    return {association_id: count for association_id, count in rows}


def overdue_by_child(association: Association, *, today: date | None = None) -> dict[int, int]:
    """{direct child id: overdue tasks anywhere in that child's subtree}, and under the
    association's own id the tasks against itself. One query (paths give the child)."""
    today = today or china_today()
    low, high = subtree_bounds(association.path)
    with subtree_reads():
        rows = db.session.execute(
            select(Association.path, func.count(RectificationTask.id))
            .join(RectificationTask, RectificationTask.association_id == Association.id)
            .where(
                Association.path >= low,
                Association.path < high,
                RectificationTask.state != TaskState.CLOSED,
                RectificationTask.deadline_on < today,
            )
            .group_by(Association.path)
        ).all()
    counts: dict[int, int] = {}
    for path, count in rows:
        rest = path[len(association.path) :].strip("/")
        key = int(rest.split("/")[0]) if rest else association.id
        counts[key] = counts.get(key, 0) + count
    return counts


# --- spot checks ------------------------------------------------------------------------------


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
            raise Invalid({"child_id": _l("Choose one of the associations directly below.")})
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
        raise Refused(_l("Only a higher association can draw a spot check."))
    found = population(association, filters)
    if not size or size < 1:
        raise Invalid({"size": _l("Draw at least one activity record.")})
    if size > MAX_SAMPLE:
        raise Invalid({"size": _l("Draw at most %(n)d records at a time.", n=MAX_SAMPLE)})
    if size > len(found):
        raise Invalid(
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
        raise Refused(_l("Only a higher association can inspect a spot check."))
    note = note.strip()
    if verdict == Verdict.PROBLEM and not note:
        raise Invalid({"note": _l("Say what the problem is.")})
    if task is not None:
        if verdict != Verdict.PROBLEM:
            raise Invalid({"verdict": _l("A task is opened for a problem only.")})
        if entry.task_id is not None:
            raise Invalid({"verdict": _l("A task is already open for this activity.")})
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
