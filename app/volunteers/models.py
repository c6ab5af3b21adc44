"""Volunteers (志愿者): profiles, teams with standing duties, shifts with sign-ups and the hours
served, reminders already sent, and the association's volunteer settings."""

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    exists,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import BigId, CreatedAtMixin, UTCDateTime, same_association_fk, string_enum
from app.core.soft_delete import hide_with_owner
from app.extensions import db
from app.members.models import Member, member_is_live
from tenants.models import TenantMixin

# Backbone roles a volunteer may carry (五老 veterans, 院楼长 building leaders, 单元组长 unit
# leaders, 信息员 information officers): domain labels, shown as they are.
BACKBONE_TAGS = ("五老", "院楼长", "单元组长", "信息员")
WEEKDAYS = ("1", "2", "3", "4", "5", "6", "7")  # ISO weekday numbers
TIMES_OF_DAY = ("morning", "afternoon", "evening")


class AssignmentStatus(enum.StrEnum):
    SIGNED_UP = "signed_up"
    CANCELLED = "cancelled"


def _split(text: str) -> list[str]:
    return [item for item in (text or "").split("|") if item]


def _join(values) -> str:
    unique = list(dict.fromkeys(v.strip() for v in values if v and v.strip()))
    return "|" + "|".join(unique) + "|" if unique else ""


class Volunteer(TenantMixin, CreatedAtMixin, db.Model):
    """A volunteer profile: a member of the register (member_id) or a person the association
    registers who is not a member (name and phone of their own, the phone encrypted)."""

    __tablename__ = "volunteers"
    __table_args__ = (
        UniqueConstraint("association_id", "id"),
        UniqueConstraint("association_id", "member_id"),
        same_association_fk(
            "member_id", "members", name="fk_volunteers_member", ondelete="CASCADE"
        ),
        Index("ix_volunteers_association_name", "association_id", "name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int | None] = mapped_column(BigId)
    # The member's name for member volunteers (kept in step when the profile is saved).
    name: Mapped[str] = mapped_column(String(60))
    phone_encrypted: Mapped[str | None] = mapped_column(Text)
    phone_hash: Mapped[str | None] = mapped_column(String(64))
    phone_masked: Mapped[str | None] = mapped_column(String(11))
    skills: Mapped[str] = mapped_column(String(400), default="")
    availability: Mapped[str] = mapped_column(String(400), default="")
    weekdays_text: Mapped[str] = mapped_column(String(40), default="")  # "|1|3|"
    times_text: Mapped[str] = mapped_column(String(60), default="")  # "|morning|evening|"
    tags_text: Mapped[str] = mapped_column(String(200), default="")  # "|五老|院楼长|"
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    member: Mapped[Member | None] = relationship(
        Member,
        primaryjoin="and_(Volunteer.member_id == foreign(Member.id), "
        "Volunteer.association_id == foreign(Member.association_id))",
        viewonly=True,
        lazy="joined",
    )

    @property
    def tags(self) -> list[str]:
        return _split(self.tags_text)

    @tags.setter
    def tags(self, values) -> None:
        self.tags_text = _join(values)

    @property
    def weekdays(self) -> list[str]:
        return _split(self.weekdays_text)

    @weekdays.setter
    def weekdays(self, values) -> None:
        self.weekdays_text = _join(values)

    @property
    def times_of_day(self) -> list[str]:
        return _split(self.times_text)

    @times_of_day.setter
    def times_of_day(self, values) -> None:
        self.times_text = _join(values)

    @property
    def display_name(self) -> str:
        return self.member.name if self.member is not None else self.name

    @property
    def masked_phone(self) -> str:
        if self.member is not None:
            return self.member.phone_masked or ""
        return self.phone_masked or ""


class Team(TenantMixin, CreatedAtMixin, db.Model):
    """A volunteer team and what it looks after; its leader is the member marked `is_leader`."""

    __tablename__ = "volunteer_teams"
    __table_args__ = (
        UniqueConstraint("association_id", "id"),
        UniqueConstraint("association_id", "name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    duties: Mapped[str] = mapped_column(Text, default="")


class TeamMember(TenantMixin, CreatedAtMixin, db.Model):
    """A volunteer in a team, with their standing duty (e.g. the building a 院楼长 looks after)."""

    __tablename__ = "volunteer_team_members"
    __table_args__ = (
        UniqueConstraint("association_id", "team_id", "volunteer_id"),
        same_association_fk(
            "team_id", "volunteer_teams", name="fk_volunteer_team_members_team", ondelete="CASCADE"
        ),
        same_association_fk(
            "volunteer_id",
            "volunteers",
            name="fk_volunteer_team_members_volunteer",
            ondelete="CASCADE",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(Integer, index=True)
    volunteer_id: Mapped[int] = mapped_column(Integer, index=True)
    duty: Mapped[str] = mapped_column(String(200), default="")
    # The team leader (one per team, kept so by the services): a row here rather than a
    # column on the team, so a volunteer's profile can be deleted with their member record.
    is_leader: Mapped[bool] = mapped_column(Boolean, default=False)


class Shift(TenantMixin, CreatedAtMixin, db.Model):
    """A stint of work needing a number of people: for an event, or a task of its own. Its row
    is locked while places are handed out."""

    __tablename__ = "volunteer_shifts"
    __table_args__ = (
        UniqueConstraint("association_id", "id"),
        same_association_fk("team_id", "volunteer_teams", name="fk_volunteer_shifts_team"),
        same_association_fk("event_id", "events", name="fk_volunteer_shifts_event"),
        CheckConstraint("people_needed > 0", name="people_needed"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_volunteer_shifts_association_starts_at", "association_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    team_id: Mapped[int | None] = mapped_column(Integer)
    event_id: Mapped[int | None] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(120), default="")
    people_needed: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class Assignment(TenantMixin, CreatedAtMixin, db.Model):
    """A volunteer on a shift (signed up themselves, or assigned), and the hours they served
    once confirmed. Hours are whole minutes; `served_on` is the Beijing date of the shift."""

    __tablename__ = "volunteer_assignments"
    __table_args__ = (
        UniqueConstraint("association_id", "shift_id", "volunteer_id"),
        same_association_fk(
            "shift_id",
            "volunteer_shifts",
            name="fk_volunteer_assignments_shift",
            ondelete="CASCADE",
        ),
        same_association_fk(
            "volunteer_id",
            "volunteers",
            name="fk_volunteer_assignments_volunteer",
            ondelete="CASCADE",
        ),
        CheckConstraint("minutes IS NULL OR minutes > 0", name="minutes_positive"),
        Index("ix_volunteer_assignments_shift_status", "shift_id", "status"),
        Index("ix_volunteer_assignments_association_served", "association_id", "served_on"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shift_id: Mapped[int] = mapped_column(Integer, index=True)
    volunteer_id: Mapped[int] = mapped_column(Integer, index=True)
    status: Mapped[AssignmentStatus] = mapped_column(string_enum(AssignmentStatus))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    minutes: Mapped[int | None] = mapped_column(Integer)
    served_on: Mapped[date | None] = mapped_column(Date)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EventReminder(TenantMixin, CreatedAtMixin, db.Model):
    """That the reminder before an event went to one registration (never sent twice)."""

    __tablename__ = "event_reminders"
    __table_args__ = (UniqueConstraint("association_id", "registration_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("event_registrations.id", ondelete="CASCADE")
    )


class VolunteerSettings(TenantMixin, db.Model):
    """Per-association volunteer settings."""

    __tablename__ = "volunteer_settings"
    __table_args__ = (UniqueConstraint("association_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Whether members may see the yearly hours ranking (staff always can).
    ranking_visible_to_members: Mapped[bool] = mapped_column(Boolean, default=False)


def volunteer_is_live(volunteer_id) -> ColumnElement[bool]:
    """The volunteer is not a member whose record is deleted (a NOT EXISTS over aliases of the
    tables: see app.members.models.member_is_live)."""
    volunteers = Volunteer.__table__.alias("deleted_member_volunteer")
    deleted = Member.__table__.alias("deleted_member")
    return ~(
        exists()
        .where(
            volunteers.c.id == volunteer_id,
            deleted.c.id == volunteers.c.member_id,
            deleted.c.deleted_at.is_not(None),
        )
        .correlate_except(volunteers, deleted)
    )


# A deleted member's volunteer profile, team places, shift sign-ups and hours leave the lists,
# rankings, reminders and figures with her until she is restored (app.core.soft_delete).
hide_with_owner(Volunteer, lambda cls: member_is_live(cls.member_id))
hide_with_owner(TeamMember, lambda cls: volunteer_is_live(cls.volunteer_id))
hide_with_owner(Assignment, lambda cls: volunteer_is_live(cls.volunteer_id))
