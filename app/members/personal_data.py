"""A person's rights over their data (PIPL arts. 44–47): see everything the association holds
about them, download it, and ask for it to be deleted.

`SECTIONS` is the one list of where a member's personal data lives; a domain that stores
personal data about members adds its section here, so the download stays complete.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass, replace

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from sqlalchemy import delete, select

from app.accounts.models import User
from app.activities.models import Activity
from app.activities.participants import ActivityParticipant
from app.core import audit
from app.core.i18n import local_date, local_datetime, money
from app.core.models import utcnow
from app.core.notifications import notify
from app.core.problems import Problem
from app.core.spreadsheets import safe_cell
from app.dues.models import Charge, Payment
from app.events.models import Event, Registration, RegistrationStatus
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
from app.volunteers.models import Assignment, Shift, Volunteer
from tenants.context import TenantScope, current_scope, tenant_context
from tenants.models import Membership, Role

REGISTRATION_STATUS_LABELS = {
    RegistrationStatus.CONFIRMED: _l("Signed up"),
    RegistrationStatus.WAITLISTED: _l("On the waitlist"),
    RegistrationStatus.CANCELLED: _l("Cancelled"),
}


class DataRequestError(Problem):
    """A request that can't be made or decided; the message is shown to the user."""


@dataclass(frozen=True)
class Section:
    title: str
    headers: list[str]
    rows: list[list]


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


def _activities(member: Member) -> Section:
    activities = db.session.scalars(
        select(Activity)
        .join(ActivityParticipant, ActivityParticipant.activity_id == Activity.id)
        .where(ActivityParticipant.member_id == member.id)
        .order_by(Activity.held_on, Activity.id)
    ).all()
    return Section(
        str(_l("Activities taken part in")),
        [str(_l("Date")), str(_l("Title")), str(_l("Place"))],
        [[local_date(a.held_on), a.title, a.place] for a in activities],
    )


def _event_registrations(member: Member) -> Section:
    rows = []
    if member.user_id is not None:
        found = db.session.execute(
            select(Event, Registration)
            .join(Registration, Registration.event_id == Event.id)
            .where(Registration.user_id == member.user_id)
            .order_by(Event.starts_at, Event.id)
        ).all()
        rows = [
            [
                local_datetime(event.starts_at),
                event.title,
                str(REGISTRATION_STATUS_LABELS.get(registration.status, registration.status)),
            ]
            for event, registration in found
        ]
    return Section(
        str(_l("Event sign-ups")), [str(_l("Starts")), str(_l("Event")), str(_l("Status"))], rows
    )


def _dues(member: Member) -> Section:
    charges = db.session.scalars(
        select(Charge).where(Charge.member_id == member.id).order_by(Charge.year)
    ).all()
    payments = db.session.scalars(
        select(Payment).where(Payment.member_id == member.id).order_by(Payment.paid_on, Payment.id)
    ).all()
    rows = [[_l("Dues %(year)d", year=c.year), money(c.amount_due_fen), "", ""] for c in charges]
    rows += [
        [
            local_date(p.paid_on),
            money(p.amount_fen),
            p.receipt_number,
            _l("Void") if p.voided_at else "",
        ]
        for p in payments
    ]
    return Section(
        str(_l("Dues and payments")),
        [str(_l("Dues or date paid")), str(_l("Amount")), str(_l("Receipt")), ""],
        rows,
    )


def _volunteering(member: Member) -> Section:
    volunteer = db.session.scalar(select(Volunteer).where(Volunteer.member_id == member.id))
    rows = []
    if volunteer is not None:
        rows.append([_l("Skills"), volunteer.skills, ""])
        rows.append([_l("Availability"), volunteer.availability, ""])
        shifts = db.session.execute(
            select(Shift, Assignment)
            .join(Assignment, Assignment.shift_id == Shift.id)
            .where(Assignment.volunteer_id == volunteer.id)
            .order_by(Shift.starts_at, Shift.id)
        ).all()
        rows += [
            [
                local_datetime(shift.starts_at),
                shift.title,
                f"{assignment.minutes / 60:g}" if assignment.minutes else "",
            ]
            for shift, assignment in shifts
        ]
    return Section(
        str(_l("Volunteering")),
        [str(_l("Item or shift")), str(_l("Details")), str(_l("Hours"))],
        rows,
    )


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


SECTIONS: list[Callable[[Member], Section]] = [
    _register_record,
    _activities,
    _event_registrations,
    _dues,
    _volunteering,
    _household_moves,
]


def sections_for(member: Member) -> list[Section]:
    return [section(member) for section in SECTIONS]


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
    member = db.session.get(Member, request.member_id) if request.member_id else None
    _decide(request, DataRequestStatus.CARRIED_OUT, note, by_id)
    request.member_id = None
    db.session.flush()
    if member is None:
        return
    login = None
    if member.user_id is not None:
        db.session.execute(delete(Registration).where(Registration.user_id == member.user_id))
        membership = db.session.scalar(
            select(Membership).where(
                Membership.user_id == member.user_id, Membership.role == Role.MEMBER
            )
        )
        if membership is not None:
            db.session.delete(membership)
        login = _login_of(member.user_id)
    audit.record("personal_data_deleted", association_id=member.association_id, target=request)
    services.delete_member(member)
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
