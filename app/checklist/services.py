"""The 七有 checklist: live figures, evidence versions, submission and review (a state machine).

Item states: draft → submitted → accepted | returned; a submitted item may be withdrawn by the
secretary; returned and withdrawn items are submitted again. Anything else is refused. Evidence
uploaded for an item belongs to the next submission round; once submitted it is never changed
or removed, so whatever a reviewer saw stays on record.
"""

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.activities.services import activity_count
from app.checklist.models import (
    Checklist,
    ChecklistEvent,
    ChecklistEvidence,
    ChecklistItem,
    ItemState,
)
from app.core import uploads
from app.core.clock import utcnow
from app.core.problems import Problem
from app.extensions import db
from app.members.services import register_counts
from tenants.access import access_for
from tenants.context import scope_for, tenant_context
from tenants.models import WRITE_ROLES, Association


@dataclass(frozen=True)
class ItemSpec:
    number: int
    label: object
    figure_label: object | None = None  # what the live figure counts
    register_key: str | None = None  # key of members.services.register_counts()
    needs_evidence: bool = False


ITEMS = (
    ItemSpec(
        1,
        _l("Has family-planning central households"),
        _l("central households"),
        "central_households",
    ),
    ItemSpec(2, _l("Has members"), _l("active members"), "members"),
    ItemSpec(3, _l("Has linked households"), _l("linked households"), "linked_households"),
    ItemSpec(4, _l("Has a signboard"), needs_evidence=True),
    ItemSpec(5, _l("Has promotional and study materials"), needs_evidence=True),
    ItemSpec(6, _l("Has written rules"), needs_evidence=True),
    ItemSpec(7, _l("Has activity records"), _l("activities this year")),
)
SPECS = {spec.number: spec for spec in ITEMS}

TRANSITIONS = {
    (ItemState.DRAFT, "submit"): ItemState.SUBMITTED,
    (ItemState.RETURNED, "submit"): ItemState.SUBMITTED,
    (ItemState.WITHDRAWN, "submit"): ItemState.SUBMITTED,
    (ItemState.SUBMITTED, "withdraw"): ItemState.WITHDRAWN,
    (ItemState.SUBMITTED, "accept"): ItemState.ACCEPTED,
    (ItemState.SUBMITTED, "return"): ItemState.RETURNED,
}
EDITABLE = frozenset({ItemState.DRAFT, ItemState.RETURNED, ItemState.WITHDRAWN})


class ChecklistError(Problem):
    """A step the rules do not allow; `message` is translated for the user."""

    def __init__(self, message, status: int = 422):
        super().__init__(message, status=status)


class IllegalTransition(ChecklistError):
    pass


class ReviewRefused(ChecklistError):
    def __init__(self, message):
        super().__init__(message, status=403)


def next_state(state: ItemState, action: str) -> ItemState:
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise IllegalTransition(
            _l(
                "This step is not possible for an item that is %(state)s.",
                state=STATE_LABELS[state],
            )
        ) from None


STATE_LABELS = {
    ItemState.DRAFT: _l("not submitted"),
    ItemState.SUBMITTED: _l("submitted, waiting for review"),
    ItemState.ACCEPTED: _l("accepted"),
    ItemState.RETURNED: _l("sent back"),
    ItemState.WITHDRAWN: _l("withdrawn"),
}

EVENT_LABELS = {
    "upload": _l("uploaded evidence"),
    "remove": _l("removed evidence not yet submitted"),
    "submit": _l("submitted"),
    "resubmit": _l("submitted again"),
    "withdraw": _l("withdrew from review"),
    "accept": _l("accepted"),
    "return": _l("sent back"),
}


# --- live figures -----------------------------------------------------------------------------


def live_figures(year: int) -> dict[int, int | None]:
    """Items 1, 2, 3 and 7 computed now: None means the source is not available."""
    counts = register_counts()
    figures: dict[int, int | None] = {
        spec.number: (counts or {}).get(spec.register_key) if counts is not None else None
        for spec in ITEMS
        if spec.register_key
    }
    figures[7] = activity_count(year)
    return figures


# --- reading ----------------------------------------------------------------------------------


@dataclass
class ItemView:
    spec: ItemSpec
    item: ChecklistItem | None
    figure: int | None = None
    evidence: list[ChecklistEvidence] = field(default_factory=list)

    @property
    def state(self) -> ItemState:
        return self.item.state if self.item else ItemState.DRAFT

    @property
    def editable(self) -> bool:
        return self.state in EDITABLE

    @property
    def submitted_round(self) -> int:
        return self.item.round if self.item else 0

    def is_submitted(self, evidence: ChecklistEvidence) -> bool:
        return evidence.round <= self.submitted_round


@dataclass
class ChecklistView:
    year: int
    checklist: Checklist | None
    items: list[ItemView]
    events: list[ChecklistEvent]

    @property
    def qualified(self) -> bool:
        """合格: all seven items accepted."""
        return all(view.state == ItemState.ACCEPTED for view in self.items)

    @property
    def status(self) -> str:
        states = {view.state for view in self.items}
        if self.qualified:
            return "qualified"
        if ItemState.RETURNED in states:
            return "returned"
        if ItemState.SUBMITTED in states:
            return "in_review"
        if ItemState.ACCEPTED in states:
            return "partly_accepted"
        return "draft"


def load_checklist(year: int) -> Checklist | None:
    return db.session.scalar(
        select(Checklist)
        .where(Checklist.year == year)
        .options(selectinload(Checklist.items).selectinload(ChecklistItem.evidence))
    )


def checklist_view(year: int) -> ChecklistView:
    checklist = load_checklist(year)
    items = {item.number: item for item in checklist.items} if checklist else {}
    figures = live_figures(year)
    events = (
        list(
            db.session.scalars(
                select(ChecklistEvent)
                .where(ChecklistEvent.checklist_id == checklist.id)
                .order_by(ChecklistEvent.at.desc(), ChecklistEvent.id.desc())
            )
        )
        if checklist
        else []
    )
    return ChecklistView(
        year=year,
        checklist=checklist,
        items=[
            ItemView(
                spec=spec,
                item=items.get(spec.number),
                figure=figures.get(spec.number),
                evidence=list(items[spec.number].evidence) if spec.number in items else [],
            )
            for spec in ITEMS
        ],
        events=events,
    )


def load_item(item_id: int) -> ChecklistItem | None:
    return db.session.scalar(
        select(ChecklistItem)
        .where(ChecklistItem.id == item_id)
        .options(selectinload(ChecklistItem.evidence), selectinload(ChecklistItem.checklist))
    )


# --- the secretary's steps --------------------------------------------------------------------


def ensure_checklist(year: int) -> Checklist:
    """The year's checklist, created on first use. Two first uploads at once (a double tap on a
    slow phone) both find none: the unique (association, year) lets one insert win and the other
    rolls back its savepoint and takes the winner's row."""
    checklist = load_checklist(year)
    if checklist is not None:
        return checklist
    try:
        with db.session.begin_nested():
            checklist = Checklist(year=year)
            checklist.items = [ChecklistItem(number=spec.number, evidence=[]) for spec in ITEMS]
            db.session.add(checklist)
    except IntegrityError:
        checklist = load_checklist(year)
        if checklist is None:
            raise
    return checklist


def _item(checklist: Checklist, number: int) -> ChecklistItem:
    if number not in SPECS:
        raise ChecklistError(_l("There is no item %(n)d.", n=number))
    return next(item for item in checklist.items if item.number == number)


def _event(
    checklist: Checklist,
    action: str,
    *,
    actor_id,
    item_number=None,
    comment="",
    actor_association_id=None,
    **detail,
) -> None:
    db.session.add(
        ChecklistEvent(
            checklist_id=checklist.id,
            item_number=item_number,
            action=action,
            actor_id=actor_id,
            actor_association_id=actor_association_id,
            comment=comment,
            detail=detail or None,
        )
    )


def add_evidence(
    year: int, number: int, file, *, note: str, association_id: int, user_id: int | None
) -> ChecklistEvidence:
    """A new version of evidence for item 4, 5 or 6; earlier versions stay as they were."""
    if not SPECS.get(number, ItemSpec(0, "")).needs_evidence:
        raise ChecklistError(_l("Evidence is uploaded for items 4, 5 and 6 only."))
    checklist = ensure_checklist(year)
    item = _item(checklist, number)
    if item.state not in EDITABLE:
        raise ChecklistError(
            _l(
                "Item %(n)d is %(state)s: evidence cannot be added now.",
                n=number,
                state=STATE_LABELS[item.state],
            )
        )
    try:
        stored = uploads.store_upload(
            file, uploads.EVIDENCE, association_id=association_id, uploaded_by_id=user_id
        )
    except uploads.UploadRejected as rejected:
        raise ChecklistError(rejected.message, status=rejected.status) from rejected
    # Lock the item so that two uploads at once number their versions one after the other.
    db.session.execute(
        select(ChecklistItem.id).where(ChecklistItem.id == item.id).with_for_update()
    )
    version = (
        db.session.scalar(
            select(func.max(ChecklistEvidence.version)).where(ChecklistEvidence.item_id == item.id)
        )
        or 0
    ) + 1
    evidence = ChecklistEvidence(
        item=item,
        stored_file=stored,
        version=version,
        round=item.round + 1,
        note=note.strip()[:300],
        uploaded_by_id=user_id,
    )
    db.session.add(evidence)
    _event(
        checklist,
        "upload",
        actor_id=user_id,
        item_number=number,
        comment=evidence.note,
        version=version,
        file=stored.original_name,
    )
    db.session.flush()
    return evidence


def remove_evidence(evidence: ChecklistEvidence, *, user_id: int | None) -> None:
    """Only evidence not yet submitted may be removed."""
    item = load_item(evidence.item_id)
    if evidence.round <= item.round or item.state not in EDITABLE:
        raise ChecklistError(_l("Submitted evidence is kept on record and cannot be removed."))
    _event(
        item.checklist,
        "remove",
        actor_id=user_id,
        item_number=item.number,
        version=evidence.version,
    )
    uploads.delete_stored_file(evidence.stored_file)
    db.session.flush()


def save_note(year: int, number: int, note: str, *, user_id: int | None) -> ChecklistItem:
    checklist = ensure_checklist(year)
    item = _item(checklist, number)
    if item.state not in EDITABLE:
        raise ChecklistError(_l("A submitted or accepted item cannot be changed."))
    item.note = note.strip()[:2000]
    db.session.flush()
    return item


def submit(year: int, *, user_id: int | None) -> list[ChecklistItem]:
    """Submit every item that is not submitted or accepted; all or nothing."""
    checklist = ensure_checklist(year)
    figures = live_figures(year)
    to_submit = [item for item in checklist.items if item.state in EDITABLE]
    if not to_submit:
        raise ChecklistError(_l("There is nothing to submit: every item is in review or accepted."))
    lacking = [
        item.number for item in to_submit if SPECS[item.number].needs_evidence and not item.evidence
    ]
    if lacking:
        raise ChecklistError(
            _l(
                "Upload evidence first for item(s) %(items)s.",
                items=", ".join(str(n) for n in lacking),
            )
        )
    now = utcnow()
    for item in to_submit:
        action = "resubmit" if item.round else "submit"
        item.state = next_state(item.state, "submit")
        item.round += 1
        item.submitted_at = now
        item.submitted_figure = figures.get(item.number)
        _event(
            checklist,
            action,
            actor_id=user_id,
            item_number=item.number,
            round=item.round,
            figure=item.submitted_figure,
            evidence=[e.id for e in item.evidence if e.round == item.round],
        )
    db.session.flush()
    return to_submit


def withdraw(item: ChecklistItem, *, user_id: int | None) -> ChecklistItem:
    item.state = next_state(item.state, "withdraw")
    _event(item.checklist, "withdraw", actor_id=user_id, item_number=item.number, round=item.round)
    db.session.flush()
    return item


# --- the higher association's step ------------------------------------------------------------


def review_item(
    association: Association, item_id: int, *, reviewer_id: int, accept: bool, comment: str
) -> ChecklistItem:
    """Accept an item, or send it back with a comment: the one write an auditor makes.

    The reviewer must hold oversight of the association from a higher association and no
    working role in it (nobody reviews their own association's work). The write runs in a
    writable scope of the reviewed association only.
    """
    access = access_for(reviewer_id, association)
    if access.oversight_from is None or access.own_role in WRITE_ROLES:
        raise ReviewRefused(
            _l("Only a higher association overseeing this one can review its checklist.")
        )
    comment = comment.strip()
    if not accept and not comment:
        raise ChecklistError(_l("Say what needs to change when sending an item back."))
    with tenant_context(scope_for(association, writable=True)):
        item = load_item(item_id)
        if item is None:
            raise ChecklistError(_l("There is no such item."), status=404)
        item.state = next_state(item.state, "accept" if accept else "return")
        item.review_comment = comment
        item.reviewed_at = utcnow()
        item.reviewed_by_id = reviewer_id
        _event(
            item.checklist,
            "accept" if accept else "return",
            actor_id=reviewer_id,
            actor_association_id=access.oversight_from.id,
            item_number=item.number,
            comment=comment,
            round=item.round,
            evidence=[e.id for e in item.evidence if e.round <= item.round],
        )
        db.session.flush()
    return item


def review_items(
    association: Association, item_ids: list[int], *, reviewer_id: int
) -> list[ChecklistItem]:
    """Accept several submitted items at once (review in one go): each is reviewed as by
    `review_item`, with its own history entry and audit record; all or nothing (the first
    refusal raises and the request rolls back)."""
    ids = sorted(set(item_ids))
    if not ids:
        raise ChecklistError(_l("Choose the items to accept."))
    return [
        review_item(association, item_id, reviewer_id=reviewer_id, accept=True, comment="")
        for item_id in ids
    ]
