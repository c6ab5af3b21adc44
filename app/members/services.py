"""Rules of the registers: members, households, the 中心户/联户 linkage, counts and ratio.

No `request`, no `flask.g`: callers pass what they act on; the tenant scope is the caller's.
Services flush, never commit.
"""

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, or_, select, update

from app.core import audit, crypto
from app.core.clock import china_today
from app.core.dates import date_problem
from app.core.models import utcnow
from app.core.pagination import Page, paginate_rows
from app.core.phones import mask_phone
from app.core.problems import Problem
from app.core.soft_delete import INCLUDE_DELETED, RESTORABLE_FOR
from app.extensions import db
from app.members.idnumbers import birth_date_of, gender_of, mask_id_number
from app.members.models import (
    BACKBONE_TAGS,
    DEFAULT_LINKED_HOUSEHOLD_LIMIT,
    CentralHouseholdVisit,
    Gender,
    Household,
    Member,
    MemberStatus,
    RegisterSettings,
)
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
    if household_id is not None and load_household(household_id) is None:
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


@dataclass(frozen=True)
class MemberFilters:
    query: str = ""
    status: str = ""
    tag: str = ""
    household_id: int | None = None


def member_conditions(filters: MemberFilters) -> list:
    """WHERE conditions for the filters: name (Chinese characters), pinyin initials (letters),
    phone tail (up to 4 digits) or a whole phone number (11 digits), tag, status, household."""
    conditions = []
    text = (filters.query or "").strip()
    if text:
        if text.isdigit() and len(text) <= 4:
            conditions.append(Member.phone_tail.like(f"%{text}"))
        elif text.isdigit() and len(text) == 11:
            conditions.append(Member.phone_hash == crypto.lookup_hash(text))
        elif re.fullmatch(r"[A-Za-z]+", text):
            conditions.append(
                or_(
                    Member.name_initials.like(f"{text.lower()}%"),
                    Member.name.like(f"%{_escape_like(text)}%", escape="\\"),
                )
            )
        else:
            conditions.append(Member.name.like(f"%{_escape_like(text)}%", escape="\\"))
    if filters.status in MemberStatus.__members__.values():
        conditions.append(Member.status == MemberStatus(filters.status))
    if filters.tag:
        conditions.append(Member.tags_text.like(f"%|{_escape_like(filters.tag)}|%", escape="\\"))
    if filters.household_id:
        conditions.append(Member.household_id == filters.household_id)
    return conditions


def member_search(filters: MemberFilters) -> Select:
    """Members with their household's address, newest first, filtered."""
    return (
        select(Member, Household.address)
        .outerjoin(
            Household,
            (Household.id == Member.household_id)
            & (Household.association_id == Member.association_id),
        )
        .where(*member_conditions(filters))
        .order_by(Member.id.desc())
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class MemberPage(Page):
    active_members: int = 0  # in the whole register, whatever the filters


def member_page(filters: MemberFilters, *, page: int, per_page: int) -> MemberPage:
    """One page of members, in two queries: one count that answers both the page's total and
    the register's active members (one pass over a 10,000-member register, not two), then the
    page. The total counts members alone (the household join cannot change it, and counting
    through it costs SQLite a scan)."""
    page = max(1, page)
    conditions = member_conditions(filters)
    matching = func.count(Member.id)
    if conditions:
        matching = matching.filter(*conditions)
    total, active = db.session.execute(
        select(matching, func.count(Member.id).filter(Member.status == MemberStatus.ACTIVE))
    ).one()
    rows = db.session.execute(
        member_search(filters).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return MemberPage(
        items=list(rows),
        page=page,
        per_page=per_page,
        total=total or 0,
        active_members=active or 0,
    )


def tags_in_use() -> list[str]:
    """Tags to filter by: the 五老 categories first, then every other tag in use."""
    seen: dict[str, None] = dict.fromkeys(BACKBONE_TAGS)
    for text in db.session.scalars(
        select(Member.tags_text).where(Member.tags_text != "").distinct()
    ):
        seen.update(dict.fromkeys(tag for tag in text.split("|") if tag))
    return list(seen)


# ---- households and the 中心户/联户 linkage --------------------------------------------------


@dataclass
class HouseholdInput:
    address: str
    grid: str | None = None
    building: str | None = None
    unit: str | None = None


def load_household(household_id: int, *, for_update: bool = False) -> Household | None:
    query = select(Household).where(Household.id == household_id)
    if for_update:
        query = query.with_for_update()
    return db.session.scalar(query)


def create_household(data: HouseholdInput) -> Household:
    household = Household(is_central=False)
    _apply_household(household, data)
    db.session.add(household)
    db.session.flush()
    return household


def update_household(household: Household, data: HouseholdInput) -> Household:
    _apply_household(household, data)
    db.session.flush()
    return household


def _apply_household(household: Household, data: HouseholdInput) -> None:
    household.address = data.address.strip()
    household.grid = (data.grid or "").strip() or None
    household.building = (data.building or "").strip() or None
    household.unit = (data.unit or "").strip() or None


def delete_household(household: Household) -> None:
    """The secretary's delete: its members and its link to a central household are undone (and
    remembered), and the household can be restored for 30 days; then the purge job erases it."""
    if household.is_central and linked_count(household.id):
        raise RegisterError(_l("Unlink its households before deleting a central household."))
    member_ids = list(
        db.session.scalars(select(Member.id).where(Member.household_id == household.id))
    )
    db.session.execute(
        update(Member).where(Member.household_id == household.id).values(household_id=None)
    )
    household.restore_links = {
        "members": member_ids,
        "central_household_id": household.central_household_id,
    }
    household.central_household_id = None
    household.central_link = None
    household.deleted_at = utcnow()
    audit.record("household_deleted", association_id=household.association_id, target=household)
    db.session.flush()


def restore_household(household: Household) -> None:
    """Put a deleted household back, with those of its members who have no household now and
    its link to its central household while that is still one (and has room)."""
    links = household.restore_links or {}
    household.deleted_at = None
    household.restore_links = None
    if links.get("members"):
        db.session.execute(
            update(Member)
            .where(Member.id.in_(links["members"]), Member.household_id.is_(None))
            .values(household_id=household.id)
        )
    central = (
        load_household(links["central_household_id"]) if links.get("central_household_id") else None
    )
    if central is not None and central.is_central and linked_count(central.id) < linkage_limit():
        household.central_household_id = central.id
        household.central_link = True
    audit.record("household_restored", association_id=household.association_id, target=household)
    db.session.flush()


def load_deleted_household(household_id: int) -> Household | None:
    return db.session.scalar(
        select(Household)
        .where(Household.id == household_id, Household.deleted_at.is_not(None))
        .execution_options(**INCLUDE_DELETED)
    )


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


def linkage_limit() -> int:
    value = db.session.scalar(select(RegisterSettings.linked_household_limit))
    return value or DEFAULT_LINKED_HOUSEHOLD_LIMIT


def set_linkage_limit(limit: int) -> None:
    if not 1 <= limit <= 50:
        raise RegisterError(_l("The limit must be between 1 and 50."), "limit")
    settings = db.session.scalar(select(RegisterSettings))
    if settings is None:
        settings = RegisterSettings()
        db.session.add(settings)
    settings.linked_household_limit = limit
    db.session.flush()


def linked_count(central_household_id: int) -> int:
    return db.session.scalar(
        select(func.count(Household.id)).where(
            Household.central_household_id == central_household_id
        )
    )


def mark_central(household: Household) -> None:
    """Make a household a central household (中心户); it leaves any central household first."""
    if household.is_central:
        return
    household.central_household_id = None
    household.central_link = None
    db.session.flush()
    household.is_central = True
    db.session.flush()


def unmark_central(household: Household) -> None:
    if not household.is_central:
        return
    if linked_count(household.id):
        raise RegisterError(
            _l("Move or unlink its linked households before it stops being a central household.")
        )
    household.is_central = False
    db.session.flush()


def link_household(household: Household, central: Household) -> None:
    """Link a household (联户) to a central household, or move it from its current one."""
    if household.id == central.id:
        raise RegisterError(_l("A household cannot be linked to itself."), "central_household_id")
    if household.is_central:
        raise RegisterError(
            _l("A central household cannot be linked under another central household."),
            "central_household_id",
        )
    central = load_household(central.id, for_update=True)
    if central is None or not central.is_central:
        raise RegisterError(
            _l("Choose a central household of this association."), "central_household_id"
        )
    if household.central_household_id == central.id:
        return
    limit = linkage_limit()
    if linked_count(central.id) >= limit:
        raise RegisterError(
            _l(
                "%(address)s already has %(limit)d linked households, the limit.",
                address=central.address,
                limit=limit,
            ),
            "central_household_id",
        )
    household.central_household_id = central.id
    household.central_link = True
    db.session.flush()


def unlink_household(household: Household) -> None:
    household.central_household_id = None
    household.central_link = None
    db.session.flush()


@dataclass(frozen=True)
class HouseholdFilters:
    view: str = "all"  # all | central | unlinked | overloaded
    query: str = ""


def household_page(filters: HouseholdFilters, *, page: int, per_page: int) -> Page:
    """Households with their member count, linked count and central household's address."""
    members = (
        select(Member.household_id, func.count(Member.id).label("members"))
        .group_by(Member.household_id)
        .subquery()
    )
    linked = (
        select(Household.central_household_id, func.count(Household.id).label("linked"))
        .where(Household.central_household_id.is_not(None))
        .group_by(Household.central_household_id)
        .subquery()
    )
    central = db.aliased(Household)
    query = (
        select(
            Household,
            func.coalesce(members.c.members, 0).label("members"),
            func.coalesce(linked.c.linked, 0).label("linked"),
            central.address.label("central_address"),
        )
        .outerjoin(members, members.c.household_id == Household.id)
        .outerjoin(linked, linked.c.central_household_id == Household.id)
        .outerjoin(central, central.id == Household.central_household_id)
    )
    if filters.view == "central":
        query = query.where(Household.is_central.is_(True))
    elif filters.view == "unlinked":
        query = query.where(
            Household.is_central.is_(False), Household.central_household_id.is_(None)
        )
    elif filters.view == "overloaded":
        query = query.where(
            Household.is_central.is_(True),
            func.coalesce(linked.c.linked, 0) > linkage_limit(),
        )
    text = (filters.query or "").strip()
    if text:
        pattern = f"%{_escape_like(text)}%"
        query = query.where(
            or_(
                Household.address.like(pattern, escape="\\"),
                Household.grid.like(pattern, escape="\\"),
                Household.building.like(pattern, escape="\\"),
            )
        )
    return paginate_rows(
        query.order_by(Household.address, Household.id), page=page, per_page=per_page
    )


def household_members(household_id: int) -> list[Member]:
    return list(
        db.session.scalars(
            select(Member).where(Member.household_id == household_id).order_by(Member.name)
        )
    )


def linked_households(central_household_id: int) -> list[Household]:
    return list(
        db.session.scalars(
            select(Household)
            .where(Household.central_household_id == central_household_id)
            .order_by(Household.address)
        )
    )


def central_households() -> list[tuple[Household, int]]:
    """Every central household with how many households are linked to it."""
    linked = db.aliased(Household)
    rows = db.session.execute(
        select(Household, func.count(linked.id))
        .outerjoin(linked, linked.central_household_id == Household.id)
        .where(Household.is_central.is_(True))
        .group_by(Household.id)
        .order_by(Household.address)
    ).all()
    return [(row[0], row[1]) for row in rows]


def record_visit(
    central: Household,
    *,
    visited_on: date,
    household_ids: list[int],
    notes: str,
    recorded_by_id: int | None,
) -> CentralHouseholdVisit:
    if not central.is_central:
        raise RegisterError(_l("Visits are logged for central households only."))
    if problem := date_problem(visited_on):
        raise RegisterError(problem, "visited_on")
    if visited_on > china_today():
        raise RegisterError(_l("The visit date cannot be in the future."), "visited_on")
    allowed = {household.id for household in linked_households(central.id)}
    chosen = [household_id for household_id in household_ids if household_id in allowed]
    if not chosen:
        raise RegisterError(_l("Tick at least one linked household visited."), "households")
    visit = CentralHouseholdVisit(
        central_household_id=central.id,
        visited_on=visited_on,
        notes=notes.strip(),
        visited_household_ids=sorted(chosen),
        recorded_by_id=recorded_by_id,
    )
    db.session.add(visit)
    db.session.flush()
    return visit


def visits_of(central_household_id: int, limit: int = 50) -> list[CentralHouseholdVisit]:
    return list(
        db.session.scalars(
            select(CentralHouseholdVisit)
            .where(CentralHouseholdVisit.central_household_id == central_household_id)
            .order_by(CentralHouseholdVisit.visited_on.desc(), CentralHouseholdVisit.id.desc())
            .limit(limit)
        )
    )


def households_by_id(ids) -> dict[int, Household]:
    ids = list(set(ids))
    if not ids:
        return {}
    return {
        household.id: household
        for household in db.session.scalars(select(Household).where(Household.id.in_(ids)))
    }


def household_choices() -> list[tuple[int, str]]:
    return [
        (row.id, row.address)
        for row in db.session.execute(
            select(Household.id, Household.address).order_by(Household.address)
        )
    ]


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
    households = db.session.execute(
        select(
            func.count(Household.id),
            func.coalesce(func.sum(case((Household.is_central.is_(True), 1), else_=0)), 0),
            func.count(Household.central_household_id),
        )
    ).one()
    return {
        "members": members or 0,
        "households": households[0] or 0,
        "central_households": int(households[1] or 0),
        "linked_households": households[2] or 0,
    }
