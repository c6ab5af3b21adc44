"""A person's rights over their data (PIPL arts. 44–47): see everything the association holds
about them, download it, and ask for it to be deleted.

Each domain that stores personal data about members registers its section of the download
(and what to erase on deletion) with `app.core.personal_data`; the member record and the
household moves are registered here.
"""

import io
from dataclasses import replace

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from sqlalchemy import select

from app.accounts.models import User
from app.core import audit, personal_data
from app.core.clock import utcnow
from app.core.i18n import local_date, local_datetime
from app.core.notifications import notify
from app.core.personal_data import Section
from app.core.problems import Problem
from app.core.soft_delete import INCLUDE_DELETED, including_deleted
from app.core.spreadsheets import safe_cell
from app.extensions import db
from app.members import services
from app.members.labels import GENDER_LABELS, MOVE_STATUS_LABELS, STATUS_LABELS
from app.members.models import (
    DataRequestStatus,
    Household,
    HouseholdMoveRequest,
    Member,
    PersonalDataRequest,
)
from tenants.context import TenantScope, current_scope, tenant_context
from tenants.models import Membership, Role


class DataRequestError(Problem):
    """A request that can't be made or decided; the message is shown to the user."""


@personal_data.section(10)
def _register_record(member: Member) -> Section:
    household = db.session.get(Household, member.household_id) if member.household_id else None
    rows = [
        [_l("Full name"), member.name],
        [_l("Gender"), str(GENDER_LABELS.get(member.gender, "")) if member.gender else ""],
        [_l("Date of birth"), local_date(member.birth_date)],
        [_l("ID number"), services.id_number_of(member) or ""],
        [_l("Mobile number"), services.phone_of(member) or ""],
        [_l("Household"), household.address if household else ""],
        [_l("Joined on"), local_date(member.joined_on)],
        [_l("Status"), str(STATUS_LABELS.get(member.status, member.status))],
        [_l("Tags"), "、".join(member.tags)],
        [_l("Recorded on"), local_datetime(member.created_at)],
    ]
    return Section(
        str(_l("Member record")), [str(_l("Entry of the record")), str(_l("As recorded"))], rows
    )


@personal_data.section(60)
def _household_moves(member: Member) -> Section:
    moves = db.session.scalars(
        select(HouseholdMoveRequest)
        .where(HouseholdMoveRequest.member_id == member.id)
        .order_by(HouseholdMoveRequest.created_at, HouseholdMoveRequest.id)
    ).all()
    return Section(
        str(_l("Household moves")),
        [str(_l("Asked on")), str(_l("New address")), str(_l("Note")), str(_l("Status"))],
        [
            [
                local_datetime(move.created_at),
                move.new_address,
                move.note,
                str(MOVE_STATUS_LABELS.get(move.status, move.status)),
            ]
            for move in moves
        ],
    )


def sections_for(member: Member) -> list[Section]:
    """Every section, complete also while the secretary's delete of the member can be undone
    (the rows hidden with her are still held, so they are hers to see)."""
    with including_deleted(db.session):
        return personal_data.sections_for(member)


def export_workbook(member: Member) -> bytes:
    """Everything held about the member, one sheet per section; the download is logged."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for section in sections_for(member):
        sheet = workbook.create_sheet(section.title[:31])
        sheet.append(section.headers)
        for row in section.rows:
            sheet.append([safe_cell(str(value)) if value is not None else "" for value in row])
    audit.record("export_own_data", association_id=member.association_id, target=member)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- deletion requests ------------------------------------------------------------------------


def open_request_of(member: Member) -> PersonalDataRequest | None:
    return db.session.scalar(
        select(PersonalDataRequest).where(
            PersonalDataRequest.member_id == member.id,
            PersonalDataRequest.status == DataRequestStatus.PENDING,
        )
    )


def requests_of_user(user_id: int) -> list[PersonalDataRequest]:
    return db.session.scalars(
        select(PersonalDataRequest)
        .where(PersonalDataRequest.requested_by_id == user_id)
        .order_by(PersonalDataRequest.created_at.desc(), PersonalDataRequest.id.desc())
    ).all()


def request_deletion(member: Member, *, user_id: int, reason: str) -> PersonalDataRequest:
    """A member asks for their record to be deleted. Members can't write the registers; this
    one row is the exception, written for this flush only (like their contact details)."""
    if open_request_of(member) is not None:
        raise DataRequestError(
            _l("You have already asked for deletion; the secretary will decide.")
        )
    scope = current_scope()
    if not isinstance(scope, TenantScope) or scope.association_id != member.association_id:
        raise DataRequestError(_l("This record belongs to another association."))
    request = PersonalDataRequest(
        member_id=member.id, member_name=member.name, requested_by_id=user_id, reason=reason
    )
    with tenant_context(replace(scope, writable=True)):
        db.session.add(request)
        db.session.flush()
    return request


def list_requests(*, pending_only: bool = False) -> list[PersonalDataRequest]:
    query = select(PersonalDataRequest).order_by(
        PersonalDataRequest.status != DataRequestStatus.PENDING,
        PersonalDataRequest.created_at.desc(),
        PersonalDataRequest.id.desc(),
    )
    if pending_only:
        query = query.where(PersonalDataRequest.status == DataRequestStatus.PENDING)
    return db.session.scalars(query).all()


def load_request(request_id: int) -> PersonalDataRequest | None:
    return db.session.scalar(
        select(PersonalDataRequest).where(PersonalDataRequest.id == request_id)
    )


def _decide(request: PersonalDataRequest, status: DataRequestStatus, note: str, by_id: int):
    if request.status != DataRequestStatus.PENDING:
        raise DataRequestError(_l("This request has already been decided."))
    request.status = status
    request.decision_note = note or ""
    request.decided_by_id = by_id
    request.decided_at = utcnow()


def carry_out(request: PersonalDataRequest, *, by_id: int, note: str = "") -> None:
    """Delete the member record and what hangs on it (activity participation, sign-ups for this
    association's events, the member role here). Dues payments stay as accounting records,
    with the payer's name only (their member link is cleared by the foreign key)."""
    # A member the secretary deleted (restorable) is erased all the same.
    member = (
        db.session.get(Member, request.member_id, execution_options=INCLUDE_DELETED)
        if request.member_id
        else None
    )
    _decide(request, DataRequestStatus.CARRIED_OUT, note, by_id)
    request.member_id = None
    db.session.flush()
    if member is None:
        return
    login = None
    personal_data.erase(member)
    if member.user_id is not None:
        membership = db.session.scalar(
            select(Membership).where(
                Membership.user_id == member.user_id, Membership.role == Role.MEMBER
            )
        )
        if membership is not None:
            db.session.delete(membership)
        login = _login_of(member.user_id)
    audit.record("personal_data_deleted", association_id=member.association_id, target=request)
    services.erase_member(member)
    if login:
        notify(
            login,
            str(_l("Your data has been deleted")),
            str(_l("Your member record has been deleted at your request.")),
        )


def refuse(request: PersonalDataRequest, *, by_id: int, note: str) -> None:
    if not note.strip():
        raise DataRequestError(_l("Give the reason for refusing: the member will see it."))
    _decide(request, DataRequestStatus.REFUSED, note.strip(), by_id)
    db.session.flush()
    login = _login_of(request.requested_by_id)
    if login:
        notify(
            login,
            str(_l("Your deletion request was refused")),
            str(_l("Reason: %(reason)s", reason=note.strip())),
        )


def _login_of(user_id: int | None) -> str | None:
    user = db.session.get(User, user_id) if user_id else None
    return user.login if user else None
