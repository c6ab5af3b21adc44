"""Household moves: a member asks to move to another household (the address as free text),
and the secretary or staff decide. Members may not write the registers; the request row is the
one thing a member writes here, and the move itself happens only when it is approved.

No `request`, no `flask.g`: callers pass what they act on; the tenant scope is the caller's.
Services flush, never commit; notices leave once the request commits.
"""

from dataclasses import replace

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.accounts.models import User
from app.accounts.notices import notify_logins_after_commit
from app.core import audit
from app.core.clock import utcnow
from app.core.problems import Problem
from app.core.urls import absolute_url
from app.extensions import db
from app.members import households
from app.members.models import (
    Household,
    HouseholdMoveRequest,
    Member,
    MoveRequestStatus,
)
from tenants.context import TenantScope, current_scope, tenant_context
from tenants.models import Association, Membership, Role


class MoveRequestError(Problem):
    """A request that can't be made or decided; `message` is translated and shown, `field`
    names the form field it belongs to (None: the whole form)."""


def open_move_of(member: Member) -> HouseholdMoveRequest | None:
    return db.session.scalar(
        select(HouseholdMoveRequest).where(
            HouseholdMoveRequest.member_id == member.id,
            HouseholdMoveRequest.status == MoveRequestStatus.PENDING,
        )
    )


def moves_of_member(member: Member, *, limit: int = 10) -> list[HouseholdMoveRequest]:
    """The member's requests, newest first (her own page and the member page show them)."""
    return db.session.scalars(
        select(HouseholdMoveRequest)
        .where(HouseholdMoveRequest.member_id == member.id)
        .order_by(HouseholdMoveRequest.created_at.desc(), HouseholdMoveRequest.id.desc())
        .limit(limit)
    ).all()


def list_moves(*, decided_limit: int = 30) -> list[tuple[HouseholdMoveRequest, str]]:
    """Every pending request (oldest first), then the latest decided ones, with the member's
    name: what the secretary's list shows."""
    base = select(HouseholdMoveRequest, Member.name).join(
        Member, Member.id == HouseholdMoveRequest.member_id
    )
    pending = db.session.execute(
        base.where(HouseholdMoveRequest.status == MoveRequestStatus.PENDING).order_by(
            HouseholdMoveRequest.created_at, HouseholdMoveRequest.id
        )
    ).all()
    decided = db.session.execute(
        base.where(HouseholdMoveRequest.status != MoveRequestStatus.PENDING)
        .order_by(HouseholdMoveRequest.decided_at.desc(), HouseholdMoveRequest.id.desc())
        .limit(decided_limit)
    ).all()
    return [(row[0], row[1]) for row in [*pending, *decided]]


def pending_count() -> int:
    return db.session.scalar(
        select(func.count(HouseholdMoveRequest.id)).where(
            HouseholdMoveRequest.status == MoveRequestStatus.PENDING
        )
    )


def load_move(move_id: int, *, for_update: bool = False) -> HouseholdMoveRequest | None:
    """`for_update` locks the row (PostgreSQL) so that two people deciding at once cannot both
    act on the same pending request: the second waits, then finds it decided."""
    query = select(HouseholdMoveRequest).where(HouseholdMoveRequest.id == move_id)
    if for_update:
        query = query.with_for_update()
    return db.session.scalar(query)


def _address_of(household_id: int | None) -> str:
    household = households.load_household(household_id) if household_id else None
    return household.address if household else ""


def request_move(
    member: Member, *, user_id: int, new_address: str, note: str = ""
) -> HouseholdMoveRequest:
    """A member asks to move to the household at `new_address`. One open request at a time;
    written for this flush only, since members may not write the registers otherwise."""
    new_address = (new_address or "").strip()
    if not new_address:
        raise MoveRequestError(_l("Enter the address you are moving to."), "new_address")
    if open_move_of(member) is not None:
        raise MoveRequestError(
            _l("You have already asked to move household; the secretary will decide.")
        )
    scope = current_scope()
    if not isinstance(scope, TenantScope) or scope.association_id != member.association_id:
        raise MoveRequestError(_l("This record belongs to another association."))
    move = HouseholdMoveRequest(
        member_id=member.id,
        requested_by_id=user_id,
        from_address=_address_of(member.household_id),
        new_address=new_address[:200],
        note=(note or "").strip()[:500],
    )
    with tenant_context(replace(scope, writable=True)):
        db.session.add(move)
        db.session.flush()
        audit.record("household_move_requested", association_id=member.association_id, target=move)
        db.session.flush()
    _tell_deciders(member.association_id)
    return move


def _pending(move: HouseholdMoveRequest) -> Member:
    if move.status != MoveRequestStatus.PENDING:
        raise MoveRequestError(_l("This request has already been decided."))
    member = db.session.get(Member, move.member_id)
    if member is None:
        raise MoveRequestError(_l("This request has already been decided."))
    return member


def approve_move(
    move: HouseholdMoveRequest,
    *,
    by_id: int,
    household_id: int | None = None,
    new_household_address: str = "",
) -> Household:
    """Move the member into an existing household of the association (`household_id`) or
    into a new one created at `new_household_address`; the member is told where."""
    member = _pending(move)
    if household_id:
        household = households.load_household(household_id)
        if household is None:
            raise MoveRequestError(_l("Choose a household of this association."), "household_id")
    else:
        address = (new_household_address or "").strip()
        if not address:
            raise MoveRequestError(_l("Enter the address of the new household."), "address")
        household = households.create_household(households.HouseholdInput(address=address[:200]))
    member.household_id = household.id
    move.status = MoveRequestStatus.APPROVED
    move.moved_to_address = household.address
    move.decided_by_id = by_id
    move.decided_at = utcnow()
    db.session.flush()
    audit.record("household_move_approved", association_id=move.association_id, target=move)
    _tell_member(
        move,
        lambda: (
            _("Your household move was approved"),
            _("You are now registered at %(address)s.", address=household.address),
        ),
    )
    return household


def decline_move(move: HouseholdMoveRequest, *, by_id: int, reason: str) -> None:
    """Refuse the move with a reason the member sees; nothing in the register changes."""
    _pending(move)
    reason = (reason or "").strip()
    if not reason:
        raise MoveRequestError(
            _l("Give the reason for declining: the member will see it."), "reason"
        )
    move.status = MoveRequestStatus.DECLINED
    move.decision_note = reason[:500]
    move.decided_by_id = by_id
    move.decided_at = utcnow()
    db.session.flush()
    audit.record("household_move_declined", association_id=move.association_id, target=move)
    _tell_member(
        move,
        lambda: (
            _("Your household move was declined"),
            _("Reason: %(reason)s", reason=reason),
        ),
    )


# ---- notices --------------------------------------------------------------------------------


def _send(users, write) -> None:
    """One message per user, in the user's language, after the commit and in her notification
    centre; `write()` returns (subject, body)."""
    notify_logins_after_commit(users, write)


def _tell_deciders(association_id: int) -> None:
    """To the association's secretaries: a request waits, and where to decide it. The notice
    names no person and no address (it may travel by SMS)."""
    user_ids = list(
        db.session.scalars(select(Membership.user_id).where(Membership.role == Role.SECRETARY))
    )
    secretaries = db.session.scalars(
        select(User).where(User.id.in_(user_ids), User.disabled_at.is_(None)).order_by(User.id)
    ).all()
    association = db.session.get(Association, association_id)
    path = absolute_url("members.moves", slug=association.slug)
    _send(
        secretaries,
        lambda: (
            _("A member asks to move household"),
            _(
                "A member of %(association)s asks to move to another household. Decide at %(path)s",
                association=association.name,
                path=path,
            ),
        ),
    )


def _tell_member(move: HouseholdMoveRequest, write) -> None:
    user = db.session.get(User, move.requested_by_id) if move.requested_by_id else None
    if user is not None and user.disabled_at is None:
        _send([user], write)
