"""Who hears of each step of the yearly assessment, and what they are told.

Called by the services after their writes are flushed, and by the daily reminders; each
notice goes to the secretaries concerned by their channel (`app.accounts.notices`:
`secretaries_of`, `notify_users`), by e-mail once the request commits or by SMS through the
outbox, under a key that names the step, so the same step never sends the same notice twice
by SMS. A message names associations, the year and the page, never a person's data; free text
(a comment, a reason) has any ID or mobile number masked first.
"""

from flask_babel import gettext as _
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.notices import notify_users, secretaries_of
from app.core.urls import absolute_url
from app.extensions import db
from app.members.idnumbers import without_personal_numbers
from tenants.models import Association, Membership, Role


def _page(association: Association, year: int) -> str:
    return absolute_url("assessments.own", slug=association.slug, year=year)


def _date(value) -> str:
    return value.isoformat() if value else "—"


def sheet_published(sheet, level: Association, below: list[tuple[Association, list[User]]]):
    """To the secretaries of every association of the sheet's kind below the level (`below`:
    each with its secretaries, found by the caller in one query)."""
    for association, users in below:
        path = _page(association, sheet.year)

        def write(path=path):
            return (
                _(
                    "Assessment sheet %(year)d published: %(title)s",
                    year=sheet.year,
                    title=sheet.title,
                ),
                _(
                    "%(level)s has published the assessment sheet “%(title)s” for %(year)d. "
                    "Fill in your self-assessment by %(due)s at %(path)s",
                    level=level.name,
                    title=sheet.title,
                    year=sheet.year,
                    due=_date(sheet.due_on),
                    path=path,
                ),
            )

        notify_users(
            users,
            write,
            key=f"assessment-sheet:{sheet.id}:published:{association.id}",
            association_id=association.id,
        )


def submitted(association: Association, assessment) -> None:
    """To the secretaries of the level above: an assessment waits for scoring."""
    if association.parent_id is None:
        return
    parent = db.session.get(Association, association.parent_id)
    path = _page(association, assessment.year)
    notify_users(
        secretaries_of(parent),
        lambda: (
            _("Self-assessment submitted: %(name)s", name=association.name),
            _(
                "%(name)s has submitted its self-assessment for %(year)d. Score it at %(path)s",
                name=association.name,
                year=assessment.year,
                path=path,
            ),
        ),
        key=f"assessment:{assessment.id}:submitted:{assessment.submitted_at.isoformat()}",
        association_id=parent.id,
    )


def scored(association: Association, assessment, scorer: Association) -> None:
    path = _page(association, assessment.year)
    notify_users(
        secretaries_of(association),
        lambda: (
            _("Assessment %(year)d scored", year=assessment.year),
            _(
                "%(scorer)s has scored your assessment for %(year)d. See each item at %(path)s",
                scorer=scorer.name,
                year=assessment.year,
                path=path,
            ),
        ),
        key=f"assessment:{assessment.id}:scored:{assessment.scored_at.isoformat()}",
        association_id=association.id,
    )


def returned(association: Association, assessment, scorer: Association, comment: str) -> None:
    comment = without_personal_numbers(comment)
    path = _page(association, assessment.year)
    notify_users(
        secretaries_of(association),
        lambda: (
            _("Assessment %(year)d sent back", year=assessment.year),
            _(
                "%(scorer)s has sent your assessment for %(year)d back: %(comment)s. "
                "Correct it and submit again at %(path)s",
                scorer=scorer.name,
                year=assessment.year,
                comment=comment,
                path=path,
            ),
        ),
        key=f"assessment:{assessment.id}:returned:{assessment.submitted_at.isoformat()}",
        association_id=association.id,
    )


def closed(level: Association, children: list[Association], year: int, closed_at) -> None:
    for child in children:
        path = _page(child, year)

        def write(path=path):
            return (
                _("Assessment %(year)d closed", year=year),
                _(
                    "%(level)s has closed the assessment for %(year)d. Your score and rank are "
                    "at %(path)s",
                    level=level.name,
                    year=year,
                    path=path,
                ),
            )

        notify_users(
            secretaries_of(child),
            write,
            key=f"assessment-closed:{child.id}:{year}:{closed_at.isoformat()}",
            association_id=child.id,
        )


def reopened(
    level: Association, children: list[Association], year: int, reason: str, reopened_at
) -> None:
    reason = without_personal_numbers(reason)
    for child in children:
        path = _page(child, year)

        def write(path=path):
            return (
                _("Assessment %(year)d reopened", year=year),
                _(
                    "%(level)s has reopened the assessment for %(year)d: %(reason)s. The "
                    "scores and ranks are no longer final; see %(path)s",
                    level=level.name,
                    year=year,
                    reason=reason,
                    path=path,
                ),
            )

        notify_users(
            secretaries_of(child),
            write,
            key=f"assessment-reopened:{child.id}:{year}:{reopened_at.isoformat()}",
            association_id=child.id,
        )


def model_named(child: Association, level: Association, model) -> None:
    path = _page(child, model.year)
    notify_users(
        secretaries_of(child),
        lambda: (
            _("Named a model association (示范协会) for %(year)d", year=model.year),
            _(
                "%(level)s has named %(name)s a model association for %(year)d. %(path)s",
                level=level.name,
                name=child.name,
                year=model.year,
                path=path,
            ),
        ),
        key=f"model-association:{model.id}:named",
        association_id=child.id,
    )


def model_withdrawn(
    child: Association, level: Association, year: int, reason: str, withdrawn_at
) -> None:
    reason = without_personal_numbers(reason)
    notify_users(
        secretaries_of(child),
        lambda: (
            _("Model association (示范协会) %(year)d withdrawn", year=year),
            _(
                "%(level)s has withdrawn the naming of %(name)s as a model association for "
                "%(year)d: %(reason)s",
                level=level.name,
                name=child.name,
                year=year,
                reason=reason,
            ),
        ),
        key=f"model-association:{child.id}:{year}:withdrawn:{withdrawn_at.isoformat()}",
        association_id=child.id,
    )


def reminder(association: Association, users: list[User], sheet, *, overdue: bool) -> None:
    """The self-assessment is due in three days, or overdue (the day after the due date)."""
    path = _page(association, sheet.year)
    if overdue:

        def write():
            return (
                _("Self-assessment overdue: %(year)d", year=sheet.year),
                _(
                    "Your self-assessment for %(year)d (“%(title)s”) was due on %(due)s and "
                    "has not been submitted. Submit it as soon as you can at %(path)s",
                    year=sheet.year,
                    title=sheet.title,
                    due=_date(sheet.due_on),
                    path=path,
                ),
            )
    else:

        def write():
            return (
                _("Self-assessment due in 3 days: %(year)d", year=sheet.year),
                _(
                    "Your self-assessment for %(year)d (“%(title)s”) is due on %(due)s and "
                    "has not been submitted yet. %(path)s",
                    year=sheet.year,
                    title=sheet.title,
                    due=_date(sheet.due_on),
                    path=path,
                ),
            )

    step = "overdue" if overdue else "due-soon"
    notify_users(
        users,
        write,
        key=f"assessment-sheet:{sheet.id}:{step}:{association.id}",
        association_id=association.id,
    )


def secretaries_below(association_ids: list[int]) -> dict[int, list[User]]:
    """{association id: its active secretaries} in two queries, for notices to many
    associations at once. Run with a scope that reads them (the level's subtree)."""
    if not association_ids:
        return {}
    pairs = db.session.execute(
        select(Membership.association_id, Membership.user_id).where(
            Membership.association_id.in_(association_ids), Membership.role == Role.SECRETARY
        )
    ).all()
    users = {
        user.id: user
        for user in db.session.scalars(
            select(User).where(
                User.id.in_({user_id for _a, user_id in pairs}), User.disabled_at.is_(None)
            )
        )
    }
    found: dict[int, list[User]] = {}
    for association_id, user_id in pairs:
        if user_id in users:
            found.setdefault(association_id, []).append(users[user_id])
    return found
