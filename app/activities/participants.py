"""Which registered members took part in an activity (links the activity log to the register)."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from app.activities.models import Activity
from app.core.models import BigId, same_association_fk
from app.core.problems import Problem
from app.core.soft_delete import hide_with_owner
from app.extensions import db
from app.members.models import Member, MemberStatus, member_is_live
from app.members.search import MemberFilters, member_search
from tenants.models import TenantMixin

SEARCH_LIMIT = 10


class ActivityParticipant(TenantMixin, db.Model):
    """One member's part in one activity; both rows belong to the same association."""

    __tablename__ = "activity_participants"
    __table_args__ = (
        same_association_fk("activity_id", "activities", ondelete="CASCADE"),
        same_association_fk("member_id", "members", ondelete="CASCADE"),
        UniqueConstraint("association_id", "activity_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    activity_id: Mapped[int] = mapped_column(BigId, index=True)
    member_id: Mapped[int] = mapped_column(BigId, index=True)


# A deleted member leaves the activities' participant lists until she is restored.
hide_with_owner(ActivityParticipant, lambda cls: member_is_live(cls.member_id))


class UnknownMembers(Problem):
    """Member ids (`member_ids`) that are not in the current association's register."""

    def __init__(self, member_ids: list[int]):
        super().__init__(
            _l("Some of the chosen members are not in this association's register."), "member_ids"
        )
        self.member_ids = member_ids


def check_members(member_ids) -> list[Member]:
    """The members behind `member_ids`, all from the current association (the query is scoped,
    so another association's ids are simply not found)."""
    wanted = set(member_ids)
    if not wanted:
        return []
    members = list(
        db.session.scalars(select(Member).where(Member.id.in_(wanted)).order_by(Member.name))
    )
    if len(members) != len(wanted):
        raise UnknownMembers(sorted(wanted - {m.id for m in members}))
    return members


def set_participants(activity: Activity, member_ids) -> None:
    check_members(member_ids)
    # A deleted member's part stays for her restore: the form never showed it.
    db.session.execute(
        delete(ActivityParticipant).where(
            ActivityParticipant.activity_id == activity.id,
            member_is_live(ActivityParticipant.member_id),
        )
    )
    for member_id in sorted(set(member_ids)):
        db.session.add(ActivityParticipant(activity_id=activity.id, member_id=member_id))
    db.session.flush()


def participants_of(activity_id: int) -> list[Member]:
    return list(
        db.session.scalars(
            select(Member)
            .join(ActivityParticipant, ActivityParticipant.member_id == Member.id)
            .where(ActivityParticipant.activity_id == activity_id)
            .order_by(Member.name)
        )
    )


def names_by_activity(activity_ids) -> dict[int, list[str]]:
    """Participants' names for many activities in one query (the yearly report)."""
    names: dict[int, list[str]] = {}
    if not activity_ids:
        return names
    rows = db.session.execute(
        select(ActivityParticipant.activity_id, Member.name)
        .join(Member, Member.id == ActivityParticipant.member_id)
        .where(ActivityParticipant.activity_id.in_(activity_ids))
        .order_by(Member.name)
    )
    for activity_id, name in rows:
        names.setdefault(activity_id, []).append(name)
    return names


def search_members(text: str, *, exclude=()) -> list[Member]:
    """Active members matching a name, pinyin initials or phone tail, for the picker."""
    if not text.strip():
        return []
    query = member_search(MemberFilters(query=text, status=MemberStatus.ACTIVE.value))
    if exclude:
        query = query.where(Member.id.not_in(set(exclude)))
    return [row[0] for row in db.session.execute(query.limit(SEARCH_LIMIT))]
