"""Oversight pages: the review queue, rectification tasks and spot checks."""

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.accounts.models import User
from app.activities.models import Activity
from app.checklist.models import Checklist, ChecklistItem
from app.checklist.services import SPECS
from app.core.audit import record_denial
from app.core.clock import china_today
from app.core.forms import options
from app.core.problems import show_problems
from app.core.uploads import MB
from app.core.views import can_read_registers, render, require, secretary_only
from app.extensions import db
from app.oversight import overseeing, rectification, spot_checking
from app.oversight.forms import AnswerForm, DecisionForm, DrawForm, InspectForm, TaskForm
from app.oversight.models import SpotCheckEntry, TaskState, Verdict
from app.oversight.problems import OversightError, OversightInvalid
from tenants.models import Association

overseer = require(overseeing.oversees_below, "oversight")
acting_on = require(overseeing.may_act_on, "oversight of this association")
ANSWER_FORM_MAX_BYTES = 64 * MB
FIND_LIMIT = 30


def _page_number() -> int:
    return request.args.get("page", 1, type=int)


def _names(user_ids, association_ids) -> tuple[dict, dict]:
    """Display names in two queries whatever the history holds."""
    users = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all())
    associations = {
        row.id: row
        for row in db.session.scalars(
            select(Association).where(Association.id.in_(association_ids))
        )
    }
    return users, associations


# --- the review queue -------------------------------------------------------------------------


@overseer
def reviews():
    return render(
        "oversight/reviews.html",
        page=overseeing.review_queue(g.association, user_id=current_user.id, page=_page_number()),
        specs=SPECS,
    )


# --- rectification tasks ----------------------------------------------------------------------


def _find_targets(text: str) -> list[Association]:
    text = text.strip()[:40]
    if not text:
        return []
    return list(
        db.session.scalars(
            select(Association)
            .where(
                overseeing.strictly_below(g.association),
                Association.name.contains(text, autoescape=True),
            )
            .order_by(Association.path)
            .limit(FIND_LIMIT)
        )
    )


@can_read_registers
def tasks():
    state = request.args.get("state", "open")
    if state not in rectification.TASK_FILTERS:
        state = "open"
    today = china_today()
    finder = overseeing.oversees_below(g.access) and not g.association.kind.is_grassroots
    find = request.args.get("find", "") if finder else ""
    return render(
        "oversight/tasks.html",
        page=rectification.task_list(
            g.association, rectification.TaskFilter(state), today=today, page=_page_number()
        ),
        state=state,
        filters=rectification.TASK_FILTERS,
        today=today,
        finder=finder,
        find=find,
        found=_find_targets(find),
        may_open_here=overseeing.may_act_on(g.access),
    )


def _linked(item_id: int | None, activity_id: int | None):
    """The 七有 item (with its year) and activity a task is about, if they still exist here."""
    item = year = activity = None
    if item_id:
        row = db.session.execute(
            select(ChecklistItem, Checklist.year)
            .join(Checklist, Checklist.id == ChecklistItem.checklist_id)
            .where(ChecklistItem.id == item_id)
        ).first()
        if row:
            item, year = row
    if activity_id:
        activity = db.session.scalar(select(Activity).where(Activity.id == activity_id))
    return item, year, activity


def _new_task_page(form: TaskForm, *, status: int = 200):
    item, year, activity = _linked(form.checklist_item_id.data, form.activity_id.data)
    return render(
        "oversight/task_form.html",
        status=status,
        form=form,
        item=item,
        item_year=year,
        activity=activity,
        specs=SPECS,
        today=china_today(),
    )


def _id_argument(name: str) -> int | None:
    """A positive integer from the query string, None when absent, 0 when it is not one (so
    nothing matches it and it is refused like another association's id)."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    return int(raw) if raw.isdigit() and len(raw) <= 18 else 0


def _prefilled_task_page(form: TaskForm):
    """The form about the 七有 item (`item_id`) or activity (`activity_id`) a link named; an id
    this association does not hold is refused with the reason, the form shown without it."""
    item_id, activity_id = _id_argument("item_id"), _id_argument("activity_id")
    problems = rectification.link_problems(item_id, activity_id)
    form.checklist_item_id.data = None if "checklist_item_id" in problems else item_id
    form.activity_id.data = None if "activity_id" in problems else activity_id
    # A page that links here may suggest the title (the yearly plan: "承诺 …").
    form.title.data = request.args.get("title", "")[:120] or None
    if problems:
        show_problems(form, problems)
        return _new_task_page(form, status=404)
    return _new_task_page(form)


def may_open_task_here() -> bool:
    """For the activity and 七有 pages: the signed-in user may open a task against the
    association shown (the rule of the new-task page itself)."""
    access = g.get("access")
    return access is not None and overseeing.may_act_on(access)


@acting_on
def new_task():
    form = TaskForm()
    if request.method == "GET":
        return _prefilled_task_page(form)
    if not form.validate():
        return _new_task_page(form, status=422)
    try:
        task = rectification.open_task(
            g.association, form.to_input(), user_id=current_user.id, today=china_today()
        )
    except OversightInvalid as invalid:
        show_problems(form, invalid)
        return _new_task_page(form, status=422)
    except OversightError as error:
        flash(str(error.message), "error")
        return _new_task_page(form, status=error.status)
    flash(_("Rectification task opened."), "success")
    return redirect(url_for("oversight.task", task_id=task.id), 303)


def _load_task(task_id: int):
    task = rectification.load_task(task_id)
    if task is None:
        abort(404)
    return task


def _task_page(task, *, answer_form=None, decision_form=None, status: int = 200):
    events, evidence = rectification.task_history(task)
    names, associations = _names(
        {e.actor_id for e in events if e.actor_id},
        {e.actor_association_id for e in events if e.actor_association_id},
    )
    item, year, activity = _linked(task.checklist_item_id, task.activity_id)
    today = china_today()
    return render(
        "oversight/task.html",
        status=status,
        task=task,
        events=events,
        evidence=evidence,
        names=names,
        associations=associations,
        item=item,
        item_year=year,
        activity=activity,
        specs=SPECS,
        overdue=task.is_overdue(today),
        may_answer=g.access.is_secretary and task.state in (TaskState.OPEN, TaskState.RETURNED),
        may_decide=task.state == TaskState.ANSWERED
        and rectification.may_decide(current_user.id, task, g.association) is not None,
        answer_form=answer_form or AnswerForm(formdata=None),
        decision_form=decision_form or DecisionForm(formdata=None),
    )


@can_read_registers
def task(task_id: int):
    return _task_page(_load_task(task_id))


@secretary_only
def answer_task(task_id: int):
    request.max_content_length = ANSWER_FORM_MAX_BYTES
    task = _load_task(task_id)
    form = AnswerForm()
    if not form.validate():
        return _task_page(task, answer_form=form, status=422)
    files = [f for f in form.files.data or [] if f and f.filename]
    try:
        rectification.answer_task(
            task,
            note=form.note.data or "",
            files=files,
            association_id=g.association.id,
            user_id=current_user.id,
        )
    except OversightInvalid as invalid:
        show_problems(form, invalid)
        return _task_page(task, answer_form=form, status=422)
    except OversightError as error:
        flash(str(error.message), "error")
        return _task_page(task, answer_form=form, status=error.status)
    flash(_("Answer sent to the higher association."), "success")
    return redirect(url_for("oversight.task", task_id=task.id), 303)


@can_read_registers
def decide_task(task_id: int):
    task = _load_task(task_id)  # load first: another association's task is not found at all
    if rectification.may_decide(current_user.id, task, g.association) is None:
        record_denial(association_id=g.association.id, reason="task decision needs oversight")
        abort(403)
    form = DecisionForm()
    if not form.validate():
        return _task_page(task, decision_form=form, status=422)
    try:
        rectification.decide_task(
            g.association,
            task.id,
            user_id=current_user.id,
            accept=form.decision.data == "accept",
            comment=form.comment.data or "",
        )
    except OversightInvalid as invalid:
        show_problems(form, invalid)
        return _task_page(task, decision_form=form, status=422)
    except OversightError as error:
        flash(str(error.message), "error")
        return _task_page(task, decision_form=form, status=error.status)
    if form.decision.data == "accept":
        flash(_("Task accepted and closed."), "success")
    else:
        flash(_("Task sent back."), "success")
    return redirect(url_for("oversight.task", task_id=task.id), 303)


# --- spot checks ------------------------------------------------------------------------------


def _draw_form(form: DrawForm | None = None) -> DrawForm:
    form = form or DrawForm(formdata=None, year=china_today().year, size=5)
    form.child_id.choices = options(
        [("", _("All associations below"))]
        + [(str(child.id), child.name) for child in spot_checking.children_of(g.association)]
    )
    return form


def _spot_checks_page(form: DrawForm, *, status: int = 200):
    page = spot_checking.spot_check_history(page=_page_number())
    names, associations = _names(
        {s.drawn_by_id for (s,) in page.items if s.drawn_by_id},
        {s.child_association_id for (s,) in page.items if s.child_association_id},
    )
    return render(
        "oversight/spot_checks.html",
        status=status,
        form=form,
        page=page,
        names=names,
        associations=associations,
    )


@overseer
def spot_checks():
    return _spot_checks_page(_draw_form())


@overseer
def draw():
    form = _draw_form(DrawForm())
    if not form.validate():
        return _spot_checks_page(form, status=422)
    filters = spot_checking.DrawFilter(
        year=form.year.data,
        quarter=int(form.quarter.data) if form.quarter.data in ("1", "2", "3", "4") else None,
        child_id=int(form.child_id.data) if (form.child_id.data or "").isdigit() else None,
    )
    try:
        spot_check = spot_checking.draw_spot_check(
            g.association, filters, form.size.data, user_id=current_user.id
        )
    except OversightInvalid as invalid:
        show_problems(form, invalid)
        return _spot_checks_page(form, status=422)
    except OversightError as error:
        flash(str(error.message), "error")
        return _spot_checks_page(form, status=error.status)
    flash(_("%(n)d activity records drawn and recorded.", n=spot_check.sample_size), "success")
    return redirect(url_for("oversight.spot_check", spot_check_id=spot_check.id), 303)


def _spot_check_page(spot_check, *, forms=None, status: int = 200):
    activities = spot_checking.drawn_activities(spot_check)
    entries = spot_check.entries
    names, associations = _names(
        {spot_check.drawn_by_id} | {e.checked_by_id for e in entries if e.checked_by_id},
        {e.activity_association_id for e in entries if e.activity_association_id}
        | {spot_check.child_association_id},
    )
    reproduced = spot_checking.reproduce(g.association, spot_check)
    return render(
        "oversight/spot_check.html",
        status=status,
        spot_check=spot_check,
        entries=entries,
        activities=activities,
        names=names,
        associations=associations,
        reproducible=reproduced == list(spot_check.activity_ids),
        forms=forms or {},
        blank_form=InspectForm(formdata=None),
        today=china_today(),
    )


@overseer
def spot_check(spot_check_id: int):
    spot_check = spot_checking.load_spot_check(spot_check_id)
    if spot_check is None:
        abort(404)
    return _spot_check_page(spot_check)


@overseer
def inspect(entry_id: int):
    entry = db.session.scalar(select(SpotCheckEntry).where(SpotCheckEntry.id == entry_id))
    if entry is None:
        abort(404)
    spot_check = spot_checking.load_spot_check(entry.spot_check_id)
    form = InspectForm()

    def refused(status: int = 422):
        return _spot_check_page(spot_check, forms={entry.id: form}, status=status)

    if not form.validate():
        return refused()
    task = None
    if form.open_task.data:
        task = rectification.TaskInput(
            title=form.title.data or "",
            description=form.note.data or "",
            deadline_on=form.deadline_on.data,
        )
    try:
        spot_checking.inspect_entry(
            g.association,
            entry,
            verdict=Verdict(form.verdict.data),
            note=form.note.data or "",
            user_id=current_user.id,
            task=task,
            today=china_today(),
        )
    except OversightInvalid as invalid:
        show_problems(form, invalid, aliases={"description": "note"})
        return refused()
    except OversightError as error:
        flash(str(error.message), "error")
        return refused(error.status)
    if task is not None:
        flash(_("Problem recorded and a rectification task opened."), "success")
    else:
        flash(_("Finding recorded."), "success")
    return redirect(
        url_for("oversight.spot_check", spot_check_id=spot_check.id) + f"#entry-{entry.id}", 303
    )


def home_summary() -> dict | None:
    """For the association's home page: tasks against it, and overdue ones below it."""
    access = g.get("access")
    if access is None or not access.can_read_registers:
        return None
    today = china_today()
    overdue = rectification.overdue_task_counts(g.association, today=today)
    return {
        "tasks": rectification.open_tasks_here(today=today),
        "today": today,
        "overdue_below": sum(n for a, n in overdue.items() if a != g.association.id),
        "oversees": overseeing.oversees_below(access) and not g.association.kind.is_grassroots,
    }
