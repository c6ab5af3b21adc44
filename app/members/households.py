"""Rules of households and the 中心户/联户 linkage: adding and editing households, deleting and
restoring them, marking central households (中心户), linking households (联户) to them within
the association's limit, their visits, and the household lists.

No `request`, no `flask.g`; services flush, never commit.
"""

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update

from app.core import audit
from app.core.clock import china_today, utcnow
from app.core.dates import date_problem
from app.core.pagination import Page, paginate_rows
from app.core.soft_delete import INCLUDE_DELETED
from app.extensions import db
from app.members.models import (
    DEFAULT_LINKED_HOUSEHOLD_LIMIT,
    CentralHouseholdVisit,
    Household,
    Member,
    RegisterSettings,
)
from app.members.search import escape_like
from app.members.services import RegisterError


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
        pattern = f"%{escape_like(text)}%"
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
