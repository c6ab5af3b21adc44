"""Finding members in the register: the filters, the search query, one page of members and
the tags in use."""

import re
from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select

from app.core import crypto
from app.core.pagination import Page
from app.extensions import db
from app.members.models import BACKBONE_TAGS, Household, Member, MemberStatus


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
                    Member.name.like(f"%{escape_like(text)}%", escape="\\"),
                )
            )
        else:
            conditions.append(Member.name.like(f"%{escape_like(text)}%", escape="\\"))
    if filters.status in MemberStatus.__members__.values():
        conditions.append(Member.status == MemberStatus(filters.status))
    if filters.tag:
        conditions.append(Member.tags_text.like(f"%|{escape_like(filters.tag)}|%", escape="\\"))
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


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class MemberPage(Page):
    active_members: int = 0  # in the whole register, whatever the filters


def member_page(
    filters: MemberFilters,
    *,
    page: int,
    per_page: int,
    register: tuple[int, int] | None = None,
) -> MemberPage:
    """One page of members, in two queries: one count that answers both the page's total and
    the register's active members (one pass over a 10,000-member register, not two), then the
    page. The total counts members alone (the household join cannot change it, and counting
    through it costs SQLite a scan). `register`, the register's (live, active) members when the
    caller knows them (app/members/register_figures.py), spares the count of an unfiltered
    page and the active members of a filtered one."""
    page = max(1, page)
    conditions = member_conditions(filters)
    if register is not None and not conditions:
        total, active = register
    elif register is not None:
        total = db.session.scalar(select(func.count(Member.id)).where(*conditions))
        active = register[1]
    else:
        total, active = member_totals(conditions)
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


def member_totals(conditions: list | None = None) -> tuple[int, int]:
    """(members matching the conditions, active members of the register) in one pass."""
    matching = func.count(Member.id)
    if conditions:
        matching = matching.filter(*conditions)
    total, active = db.session.execute(
        select(matching, func.count(Member.id).filter(Member.status == MemberStatus.ACTIVE))
    ).one()
    return total or 0, active or 0


def tags_in_use() -> list[str]:
    """Tags to filter by: the 五老 categories first, then every other tag in use."""
    seen: dict[str, None] = dict.fromkeys(BACKBONE_TAGS)
    for text in db.session.scalars(
        select(Member.tags_text).where(Member.tags_text != "").distinct()
    ):
        seen.update(dict.fromkeys(tag for tag in text.split("|") if tag))
    return list(seen)
