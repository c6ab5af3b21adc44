"""Who hears of each step of the yearly assessment, and what they are told.

Called by the services after their writes are flushed; the messages leave once the request
commits (`notify_after_commit`). A message names associations, the year and the page, never a
person's data; free text (a comment) has any ID or mobile number masked first.
"""

from flask_babel import gettext as _
from sqlalchemy import select

from app.accounts.models import User
from app.core.notifications import notify_logins_after_commit
from app.core.urls import absolute_url
from app.extensions import db
from app.oversight.notices import without_personal_numbers
from tenants.context import scope_for, subtree_reads, tenant_context
from tenants.models import Association, Membership, Role
from tenants.tree import subtree_bounds


def _users(user_ids: list[int]) -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.id.in_(user_ids), User.disabled_at.is_(None)).order_by(User.id)
        )
    )


def _secretaries(association: Association) -> list[User]:
    with tenant_context(scope_for(association, writable=False)):
        user_ids = list(
            db.session.scalars(select(Membership.user_id).where(Membership.role == Role.SECRETARY))
        )
    return _users(user_ids)


def _send(users: list[User], write) -> None:
    """One message per user, in the user's language, after the commit and in her notification
    centre; `write()` returns (subject, body)."""
    notify_logins_after_commit(users, write)


def _page(association: Association, year: int) -> str:
    return absolute_url("assessments.own", slug=association.slug, year=year)


def sheet_published(sheet, level: Association) -> None:
    """To the secretaries of every association of the sheet's kind below the level."""
    low, high = subtree_bounds(level.path)
    with subtree_reads():  # the request's association is the publishing level
        rows = db.session.execute(
            select(Membership.user_id, Association.slug)
            .join(Association, Association.id == Membership.association_id)
            .where(
                Membership.role == Role.SECRETARY,
                Association.kind == sheet.kind,
                Association.path >= low,
                Association.path < high,
            )
        ).all()
    slug_of = {user_id: slug for user_id, slug in rows}
    for user in _users(list(slug_of)):
        path = absolute_url("assessments.own", slug=slug_of[user.id], year=sheet.year)

        def write(path=path):
            return (
                _(
                    "Assessment sheet %(year)d published: %(title)s",
                    year=sheet.year,
                    title=sheet.title,
                ),
                _(
                    "%(level)s has published the assessment sheet “%(title)s” for %(year)d. "
                    "Fill in your self-assessment at %(path)s",
                    level=level.name,
                    title=sheet.title,
                    year=sheet.year,
                    path=path,
                ),
            )

        _send([user], write)


def submitted(association: Association, assessment) -> None:
    """To the secretaries of the level above: an assessment waits for scoring."""
    if association.parent_id is None:
        return
    parent = db.session.get(Association, association.parent_id)
    path = _page(association, assessment.year)
    _send(
        _secretaries(parent),
        lambda: (
            _("Self-assessment submitted: %(name)s", name=association.name),
            _(
                "%(name)s has submitted its self-assessment for %(year)d. Score it at %(path)s",
                name=association.name,
                year=assessment.year,
                path=path,
            ),
        ),
    )


def scored(association: Association, assessment, scorer: Association) -> None:
    path = _page(association, assessment.year)
    _send(
        _secretaries(association),
        lambda: (
            _("Assessment %(year)d scored", year=assessment.year),
            _(
                "%(scorer)s has scored your assessment for %(year)d. See each item at %(path)s",
                scorer=scorer.name,
                year=assessment.year,
                path=path,
            ),
        ),
    )


def returned(association: Association, assessment, scorer: Association, comment: str) -> None:
    comment = without_personal_numbers(comment)
    path = _page(association, assessment.year)
    _send(
        _secretaries(association),
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
    )


def closed(level: Association, children: list[Association], year: int) -> None:
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

        _send(_secretaries(child), write)


def model_named(child: Association, level: Association, model) -> None:
    path = _page(child, model.year)
    _send(
        _secretaries(child),
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
    )
