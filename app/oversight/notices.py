"""Who hears of a rectification task when it changes hands, and what they are told.

Each function is called by a service after its writes are flushed; each message goes by the
recipient's channel once the request commits (`notify_users`). A message names associations, the
task's title, its deadline and the address of its page, never a person's data; free text typed by
a person (a title, a comment) has any ID or mobile number in it masked first.
"""

import secrets

from flask_babel import gettext as _

from app.accounts.models import User
from app.accounts.notices import notify_users, secretaries_of
from app.core.urls import absolute_url
from app.extensions import db
from app.members.idnumbers import without_personal_numbers
from app.oversight.models import RectificationTask
from tenants.models import Association


def task_path(target: Association, task: RectificationTask) -> str:
    """The task page's absolute address, followable from a mail program or an SMS."""
    return absolute_url("oversight.task", slug=target.slug, task_id=task.id)


def _action_key(kind: str, task: RectificationTask) -> str:
    """One key per action on the task (a task may be answered and sent back several times):
    the notice of one action goes once, to each recipient."""
    return f"{kind}:{task.id}:{secrets.token_hex(6)}"


def task_opened(task: RectificationTask, target: Association, opener: Association) -> None:
    """To every secretary of the target: who opened it, what is wrong, by when, where."""
    title = without_personal_numbers(task.title)
    path = task_path(target, task)
    notify_users(
        secretaries_of(target),
        key=_action_key("task-opened", task),
        association_id=opener.id,
        write=lambda: (
            _("Rectification task from %(opener)s: %(title)s", opener=opener.name, title=title),
            _(
                "%(opener)s has opened a rectification task for %(target)s: %(title)s. "
                "Deadline: %(deadline)s. Answer it with evidence at %(path)s",
                opener=opener.name,
                target=target.name,
                title=title,
                deadline=task.deadline_on.isoformat(),
                path=path,
            ),
        ),
    )


def task_answered(task: RectificationTask, target: Association) -> None:
    """To the user who opened the task, if their account is still active."""
    opener = db.session.get(User, task.opened_by_id) if task.opened_by_id else None
    if opener is None or opener.disabled_at is not None:
        return
    title = without_personal_numbers(task.title)
    path = task_path(target, task)
    notify_users(
        [opener],
        key=_action_key("task-answered", task),
        association_id=target.id,
        write=lambda: (
            _("Rectification task answered: %(title)s", title=title),
            _(
                "%(target)s has answered the rectification task “%(title)s”. "
                "Accept it or send it back at %(path)s",
                target=target.name,
                title=title,
                path=path,
            ),
        ),
    )


def task_decided(
    task: RectificationTask,
    target: Association,
    decider: Association,
    *,
    accepted: bool,
    comment: str,
) -> None:
    """To every secretary of the target: accepted, or sent back with the comment."""
    title = without_personal_numbers(task.title)
    comment = without_personal_numbers(comment)
    path = task_path(target, task)
    if accepted:

        def write():
            return (
                _("Rectification task accepted: %(title)s", title=title),
                _(
                    "%(decider)s has accepted the answer and closed the rectification task "
                    "“%(title)s”. %(path)s",
                    decider=decider.name,
                    title=title,
                    path=path,
                ),
            )
    else:

        def write():
            return (
                _("Rectification task sent back: %(title)s", title=title),
                _(
                    "%(decider)s has sent the rectification task “%(title)s” back: "
                    "%(comment)s. Deadline: %(deadline)s. Answer again at %(path)s",
                    decider=decider.name,
                    title=title,
                    comment=comment,
                    deadline=task.deadline_on.isoformat(),
                    path=path,
                ),
            )

    notify_users(
        secretaries_of(target),
        write,
        key=_action_key("task-decided", task),
        association_id=decider.id,
    )
