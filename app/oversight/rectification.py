"""Rectification tasks (整改): a higher association opens one against an association below it,
whose secretary answers with evidence, and the opener accepts (closes) it or sends it back.

States: open → answered → closed | returned; returned → answered. The target association's
secretary answers; a user overseeing the target from the opening association or above it
accepts or sends back. Anything else is refused.

Tenancy: a task belongs to its target association but is written by a user of a higher one.
It follows app/checklist's review: check the oversight with `access_for` first, then write in
a writable scope of the target only (`tenant_context(scope_for(…))`).
"""

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.activities.models import Activity
from app.checklist.models import ChecklistItem
from app.core import uploads
from app.core.clock import china_today, utcnow
from app.core.dates import date_problem
from app.core.pagination import Page, paginate_rows
from app.extensions import db
from app.oversight import notices
from app.oversight.models import RectificationTask, TaskEvent, TaskEvidence, TaskState
from app.oversight.overseeing import may_act_on, oversees_below
from app.oversight.problems import OversightError, OversightInvalid, OversightRefused
from tenants.access import Access, access_for
from tenants.context import scope_for, subtree_reads, tenant_context
from tenants.models import Association
from tenants.tree import subtree_bounds

MAX_FILES_PER_ANSWER = 10

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
        raise OversightRefused(
            _l("Only a higher association overseeing this one can open a task for it.")
        )
    problems = task_problems(data, today=today)
    if problems:
        raise OversightInvalid(problems)
    with tenant_context(scope_for(target, writable=True)):
        problems = link_problems(data.checklist_item_id, data.activity_id)
        if problems:
            raise OversightInvalid(problems)
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
        raise OversightInvalid({"note": _l("Say what was done to correct it.")})
    if len(files) > MAX_FILES_PER_ANSWER:
        raise OversightInvalid(
            {"files": _l("At most %(n)d files at a time.", n=MAX_FILES_PER_ANSWER)}
        )
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
        raise OversightRefused(
            _l("Only the association that opened the task, or one above it, can decide on it.")
        )
    comment = comment.strip()
    if not accept and not comment:
        raise OversightInvalid(
            {"comment": _l("Say what is still missing when sending a task back.")}
        )
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
