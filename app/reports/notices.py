"""Who hears of a report when it changes hands, and what they are told (as 整改 notices are).

Called by the services after their writes are flushed; the messages leave once the request
commits (`notify_after_commit`). A message names associations, the form, the period, its
deadline and the address of the page; a comment typed by a person has any ID or mobile number
masked first.
"""

from flask_babel import gettext as _
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.notices import notify_users
from app.core.urls import absolute_url
from app.extensions import db
from app.members.idnumbers import without_personal_numbers
from app.reports.periods import period_text
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Association, Membership, Role


def secretaries(association_ids) -> dict[int, list[User]]:
    """{association id: its active secretaries}, in two queries."""
    association_ids = list(association_ids)
    if not association_ids:
        return {}
    with UNSCOPED_BYPASS("report notices go to the secretaries of the associations concerned"):
        pairs = db.session.execute(
            select(Membership.association_id, Membership.user_id).where(
                Membership.association_id.in_(association_ids),
                Membership.role == Role.SECRETARY,
            )
        ).all()
    users = {
        user.id: user
        for user in db.session.scalars(
            select(User).where(
                User.id.in_({user_id for _, user_id in pairs}), User.disabled_at.is_(None)
            )
        )
    }
    found: dict[int, list[User]] = {}
    for association_id, user_id in pairs:
        if user_id in users:
            found.setdefault(association_id, []).append(users[user_id])
    return found


def send(users, write, *, key: str, association_id: int) -> None:
    """One message per user, in the user's language and by her channel
    (`app.accounts.notices.notify_users`); `write()` returns (subject, body); `key` names
    the step, so the same step never sends the same SMS twice."""
    notify_users(users, write, key=key, association_id=association_id)


def _period(form) -> str:
    return period_text(form.period_kind, form.year, form.period_number)


def form_published(form, owner: Association) -> None:
    """To the secretaries of the associations directly below the level that published it."""
    children = list(
        db.session.scalars(select(Association.id).where(Association.parent_id == owner.id))
    )
    for child_id, users in secretaries(children).items():
        send(
            users,
            lambda: _published(form, owner),
            key=f"report-form:{form.id}:published:{child_id}",
            association_id=child_id,
        )


def _published(form, owner: Association) -> tuple[str, str]:
    return (
        _("New report form from %(owner)s: %(name)s", owner=owner.name, name=form.name),
        _(
            "%(owner)s has published the report form “%(name)s” for %(period)s. "
            "Deadline: %(deadline)s. Fill it in under Reports.",
            owner=owner.name,
            name=form.name,
            period=_period(form),
            deadline=form.deadline_on.isoformat(),
        ),
    )


def report_path(association: Association, report) -> str:
    return absolute_url("reports.report", slug=association.slug, report_id=report.id)


def report_submitted(form, report, association: Association) -> None:
    """To the secretaries of the level above, who accept or return it."""
    if association.parent_id is None:
        return
    path = report_path(association, report)
    send(
        secretaries([association.parent_id]).get(association.parent_id, []),
        lambda: (
            _("Report submitted by %(name)s: %(form)s", name=association.name, form=form.name),
            _(
                "%(name)s has submitted “%(form)s” (%(period)s). Accept it or return it at "
                "%(path)s",
                name=association.name,
                form=form.name,
                period=_period(form),
                path=path,
            ),
        ),
        key=f"report:{report.id}:submitted:{report.submitted_at.isoformat()}",
        association_id=association.parent_id,
    )


def report_decided(form, report, association: Association, *, accepted: bool, comment: str):
    """To the secretaries of the filing association: accepted, or returned with the comment."""
    path = report_path(association, report)
    comment = without_personal_numbers(comment)
    if accepted:

        def write():
            return (
                _("Report accepted: %(form)s", form=form.name),
                _(
                    "Your report “%(form)s” (%(period)s) has been accepted. %(path)s",
                    form=form.name,
                    period=_period(form),
                    path=path,
                ),
            )
    else:

        def write():
            return (
                _("Report returned: %(form)s", form=form.name),
                _(
                    "Your report “%(form)s” (%(period)s) has been returned: %(comment)s. "
                    "Deadline: %(deadline)s. Correct it and submit again at %(path)s",
                    form=form.name,
                    period=_period(form),
                    comment=comment,
                    deadline=form.deadline_on.isoformat(),
                    path=path,
                ),
            )

    send(
        secretaries([association.id]).get(association.id, []),
        write,
        key=f"report:{report.id}:decided:{report.decided_at.isoformat()}",
        association_id=association.id,
    )
