"""Rules of the member register: adding, editing, deleting and restoring members, their
encrypted numbers, the purge of what was deleted 30 days ago, and the register's counts.
Households and the 中心户/联户 linkage are in app.members.households, finding members in
app.members.search.

No `request`, no `flask.g`: callers pass what they act on; the tenant scope is the caller's.
Services flush, never commit.
"""

from dataclasses import dataclass, field, replace
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select, update

from app.core import audit, crypto
from app.core.clock import china_today, utcnow
from app.core.dates import date_problem
from app.core.phones import mask_phone
from app.core.problems import Problem
from app.core.soft_delete import INCLUDE_DELETED, RESTORABLE_FOR
from app.extensions import db
from app.members.idnumbers import birth_date_of, gender_of, mask_id_number
from app.members.models import Gender, Household, Member, MemberStatus
from app.members.pinyin import pinyin_initials
from tenants.context import TenantScope, current_scope, tenant_context


class RegisterError(Problem):
    """A rule of the registers refused an action; `message` is translated, `field` names the
    form field it belongs to (None: the whole form)."""


# ---- members --------------------------------------------------------------------------------


@dataclass
class MemberInput:
    """Validated values of a member (ID number and phone already normalised)."""

    name: str
    gender: Gender | None = None
    phone: str | None = None
    id_number: str | None = None
    household_id: int | None = None
    joined_on: date | None = None
    status: MemberStatus = MemberStatus.ACTIVE
    status_on: date | None = None
    tags: list[str] = field(default_factory=list)
    user_id: int | None = None


def check_duplicates(
    *, id_number: str | None, phone: str | None, exclude_id: int | None = None
) -> None:
    """Refuse an ID number or phone already registered in this association, naming who has it."""
    checks = (
        ("id_number", Member.id_number_hash, crypto.lookup_hash(id_number)),
        ("phone", Member.phone_hash, crypto.lookup_hash(phone)),
    )
    for field_name, column, value in checks:
        if value is None:
            continue
        # Deleted members still hold their numbers until they are purged.
        query = (
            select(Member.id, Member.name, Member.deleted_at)
            .where(column == value)
            .execution_options(**INCLUDE_DELETED)
        )
        if exclude_id is not None:
            query = query.where(Member.id != exclude_id)
        existing = db.session.execute(query.limit(1)).first()
        if existing is None:
            continue
        if existing.deleted_at is not None:
            message = _l(
                "%(name)s, deleted recently, holds this number: restore the record from "
                "Recently deleted instead.",
                name=existing.name,
            )
        elif field_name == "id_number":
            message = _l(
                "This ID number is already registered for %(name)s (member no. %(number)d).",
                name=existing.name,
                number=existing.id,
            )
        else:
            message = _l(
                "This phone number is already registered for %(name)s (member no. %(number)d).",
                name=existing.name,
                number=existing.id,
            )
        raise RegisterError(message, field_name)


def member_columns(data: MemberInput) -> dict:
    """Column values of a member from validated input (encrypted, hashed and masked forms)."""
    name = data.name.strip()
    tags = list(dict.fromkeys(tag.strip() for tag in data.tags if tag and tag.strip()))
    gender = data.gender or (Gender(gender_of(data.id_number)) if data.id_number else None)
    return {
        "name": name,
        "name_initials": pinyin_initials(name),
        "id_number_encrypted": crypto.encrypt(data.id_number),
        "id_number_hash": crypto.lookup_hash(data.id_number),
        "id_number_masked": mask_id_number(data.id_number) or None,
        "birth_date": birth_date_of(data.id_number) if data.id_number else None,
        "gender": gender,
        **phone_columns(data.phone),
        "household_id": data.household_id,
        "joined_on": data.joined_on,
        "tags_text": "|" + "|".join(tags) + "|" if tags else "",
        "user_id": data.user_id,
    }


def _apply(member: Member, data: MemberInput) -> None:
    for column, value in member_columns(data).items():
        setattr(member, column, value)
    if data.status_on:
        member.status_on = data.status_on
    elif member.status is not None and member.status != data.status:
        member.status_on = china_today()
    member.status = data.status


def phone_columns(phone: str | None) -> dict:
    return {
        "phone_encrypted": crypto.encrypt(phone),
        "phone_hash": crypto.lookup_hash(phone),
        "phone_masked": mask_phone(phone) or None,
        "phone_tail": phone[-4:] if phone else None,
    }


def set_phone(member: Member, phone: str | None) -> None:
    for column, value in phone_columns(phone).items():
        setattr(member, column, value)


def _check_household(household_id: int | None) -> None:
    if household_id is not None and (
        db.session.scalar(select(Household.id).where(Household.id == household_id)) is None
    ):
        raise RegisterError(_l("Choose a household of this association."), "household_id")


def _check_dates(data: MemberInput) -> None:
    """Joined and status dates lie in the sensible range. The member form and the import also
    refuse a date after today; the service accepts one (a member recorded ahead of joining)."""
    for field_name in ("joined_on", "status_on"):
        if problem := date_problem(getattr(data, field_name)):
            raise RegisterError(problem, field_name)


def create_member(data: MemberInput) -> Member:
    _check_dates(data)
    check_duplicates(id_number=data.id_number, phone=data.phone)
    _check_household(data.household_id)
    member = Member(status=None)
    _apply(member, data)
    db.session.add(member)
    db.session.flush()
    return member


def update_member(member: Member, data: MemberInput) -> Member:
    _check_dates(data)
    check_duplicates(id_number=data.id_number, phone=data.phone, exclude_id=member.id)
    _check_household(data.household_id)
    _apply(member, data)
    db.session.flush()
    return member


def update_contact_details(member: Member, *, phone: str | None) -> None:
    """Member self-service: a member corrects their own phone. Her household is not hers to
    choose: she asks to move (app.members.moves) and the secretary or staff decide."""
    check_duplicates(id_number=None, phone=phone, exclude_id=member.id)
    scope = current_scope()
    if not isinstance(scope, TenantScope) or scope.association_id != member.association_id:
        raise RegisterError(_l("This record belongs to another association."))
    # Members may not write the registers; their own contact details are the one exception,
    # so the write is allowed for this flush only.
    with tenant_context(replace(scope, writable=True)):
        set_phone(member, phone)
        db.session.flush()


def delete_member(member: Member) -> None:
    """The secretary's delete: the member leaves every list, search, figure and export at once,
    and can be restored for 30 days (app.core.soft_delete), after which the purge job erases
    the record. A deletion the member asks for (PIPL) is `erase_member`, at once."""
    member.deleted_at = utcnow()
    audit.record("member_deleted", association_id=member.association_id, target=member)
    db.session.flush()


def erase_member(member: Member) -> None:
    """Deletion on request (PIPL) and the purge after the grace period: the row and its
    encrypted fields go, with what hangs on it; the audit log keeps only that a member was
    deleted."""
    db.session.delete(member)
    db.session.flush()


def restore_member(member: Member) -> None:
    """Put a deleted member back. Refused when another live record has since taken the ID
    number or the phone (the register keeps each once)."""
    for column, value in (
        (Member.id_number_hash, member.id_number_hash),
        (Member.phone_hash, member.phone_hash),
    ):
        if value is not None and db.session.scalar(
            select(Member.name).where(column == value, Member.id != member.id)
        ):
            raise RegisterError(
                _l(
                    "Another member now holds this ID number or phone: %(name)s cannot be "
                    "restored.",
                    name=member.name,
                )
            )
    member.deleted_at = None
    audit.record("member_restored", association_id=member.association_id, target=member)
    db.session.flush()


def load_deleted_member(member_id: int) -> Member | None:
    return db.session.scalar(
        select(Member)
        .where(Member.id == member_id, Member.deleted_at.is_not(None))
        .execution_options(**INCLUDE_DELETED)
    )


def recently_deleted() -> tuple[list[Member], list[Household]]:
    """The association's deleted members and households still restorable, newest first."""
    members = db.session.scalars(
        select(Member)
        .where(Member.deleted_at.is_not(None))
        .order_by(Member.deleted_at.desc(), Member.id.desc())
        .execution_options(**INCLUDE_DELETED)
    )
    households = db.session.scalars(
        select(Household)
        .where(Household.deleted_at.is_not(None))
        .order_by(Household.deleted_at.desc(), Household.id.desc())
        .execution_options(**INCLUDE_DELETED)
    )
    return list(members), list(households)


def load_member(member_id: int) -> Member | None:
    return db.session.scalar(select(Member).where(Member.id == member_id))


def member_of_user(user_id: int, *, include_deleted: bool = False) -> Member | None:
    """The user's record in the register of the association in scope; `include_deleted` finds
    it also while the secretary's delete can be undone (her own data download)."""
    return db.session.scalar(
        select(Member)
        .where(Member.user_id == user_id)
        .execution_options(include_deleted=include_deleted)
    )


def id_number_of(member: Member) -> str | None:
    return crypto.decrypt(member.id_number_encrypted)


def phone_of(member: Member) -> str | None:
    return crypto.decrypt(member.phone_encrypted)


def reveal_id_number(member: Member) -> str | None:
    """The full ID number, for a secretary who asked for it on purpose: logged."""
    audit.record("reveal", association_id=member.association_id, target=member, field="id_number")
    return id_number_of(member)


def record_person_view(member: Member) -> None:
    """A higher level opened a person's record: logged (PIPL)."""
    audit.record("view_person", association_id=member.association_id, target=member)


def purge_deleted(now: datetime) -> tuple[int, int]:
    """Erase the members and households deleted more than 30 days before `now` (in the
    caller's scope); returns how many of each."""
    cutoff = now - RESTORABLE_FOR
    members = list(
        db.session.scalars(
            select(Member)
            .where(Member.deleted_at.is_not(None), Member.deleted_at < cutoff)
            .execution_options(**INCLUDE_DELETED)
        )
    )
    for member in members:
        erase_member(member)
    households = list(
        db.session.scalars(
            select(Household)
            .where(Household.deleted_at.is_not(None), Household.deleted_at < cutoff)
            .execution_options(**INCLUDE_DELETED)
        )
    )
    for household in households:
        # Members deleted with it, or linked since by an import, keep no pointer to it.
        db.session.execute(
            update(Member)
            .where(Member.household_id == household.id)
            .values(household_id=None)
            .execution_options(**INCLUDE_DELETED)
        )
        db.session.delete(household)
    db.session.flush()
    return len(members), len(households)


# ---- counts for other modules ---------------------------------------------------------------


def register_counts(*, active_members: int | None = None) -> dict:
    """Counts for the current tenant scope (the association, or its subtree inside
    subtree_reads()): active members, households, central and linked households. A caller that
    counted the active members already (member_page) passes them in."""
    members = active_members
    if members is None:
        members = db.session.scalar(
            select(func.count(Member.id)).where(Member.status == MemberStatus.ACTIVE)
        )
    return {"members": members or 0, **household_counts()}


def household_counts() -> dict:
    """Households, central households and linked households in the current tenant scope (one
    query)."""
    households = db.session.execute(
        select(
            func.count(Household.id),
            func.coalesce(func.sum(case((Household.is_central.is_(True), 1), else_=0)), 0),
            func.count(Household.central_household_id),
        )
    ).one()
    return {
        "households": households[0] or 0,
        "central_households": int(households[1] or 0),
        "linked_households": households[2] or 0,
    }
