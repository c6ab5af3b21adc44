"""Who hears of a 七有 checklist changing hands, and what they are told: the higher level when
items are submitted for review, the association's secretaries when an item is sent back.

Called after the writes are flushed; the messages leave once the request commits
(`notify_users`: by each person's channel). A message names the
association, the year, the items and the page's address; a reviewer's comment has any ID or
mobile number in it masked first.
"""

import secrets

from flask_babel import gettext as _

from app.accounts.notices import holders_of, notify_users
from app.checklist.models import ChecklistItem
from app.checklist.services import SPECS
from app.core.urls import absolute_url
from app.extensions import db
from app.members.idnumbers import without_personal_numbers
from tenants.models import Association, Role

REVIEWER_ROLES = (Role.SECRETARY, Role.AUDITOR)


def checklist_path(association: Association, year: int) -> str:
    return absolute_url("checklist.index", slug=association.slug, year=year)


def items_submitted(association: Association, year: int, items: list[ChecklistItem]) -> None:
    """To the secretaries and auditors of the association directly above: what waits for them."""
    if association.parent_id is None or not items:
        return
    parent = db.session.get(Association, association.parent_id)
    numbers = ", ".join(str(item.number) for item in sorted(items, key=lambda i: i.number))
    path = checklist_path(association, year)
    notify_users(
        holders_of(parent, REVIEWER_ROLES),
        key=f"checklist-submitted:{association.id}:{year}:{secrets.token_hex(6)}",
        association_id=association.id,
        write=lambda: (
            _("七有 %(year)d of %(name)s submitted for review", year=year, name=association.name),
            _(
                "%(name)s has submitted item(s) %(items)s of its 七有 checklist %(year)d for "
                "review. Review them at %(path)s",
                name=association.name,
                items=numbers,
                year=year,
                path=path,
            ),
        ),
    )


def item_sent_back(association: Association, item: ChecklistItem, reviewer: Association) -> None:
    """To every secretary of the association: which item, why, where to correct it."""
    year = item.checklist.year
    comment = without_personal_numbers(item.review_comment or "")
    label = SPECS[item.number].label
    path = checklist_path(association, year)
    notify_users(
        holders_of(association, (Role.SECRETARY,)),
        key=f"checklist-sent-back:{item.id}:{secrets.token_hex(6)}",
        association_id=reviewer.id,
        write=lambda: (
            _("七有 item %(n)d sent back by %(reviewer)s", n=item.number, reviewer=reviewer.name),
            _(
                "%(reviewer)s has sent back item %(n)d (%(label)s) of the 七有 checklist %(year)d "
                "of %(name)s: %(comment)s. Correct it and submit again at %(path)s",
                reviewer=reviewer.name,
                n=item.number,
                label=label,
                year=year,
                name=association.name,
                comment=comment,
                path=path,
            ),
        ),
    )
