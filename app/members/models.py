"""Tables of the registers: members (会员), households (户) with the 中心户/联户 linkage,
central-household visit logs, per-association register settings and import staging."""

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ColumnElement,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    exists,
)
from sqlalchemy import text as sa_text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import BigId, CreatedAtMixin, UTCDateTime, same_association_fk, string_enum
from app.core.soft_delete import SoftDeleteMixin, hide_with_owner
from app.extensions import db
from app.members.pinyin import initials_default
from tenants.models import TenantMixin


class MemberStatus(enum.StrEnum):
    ACTIVE = "active"
    LAPSED = "lapsed"
    LEFT = "left"
    DECEASED = "deceased"


class Gender(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"


# The "五老" backbone categories, offered first among the tags.
BACKBONE_TAGS = ("老党员", "老干部", "老模范", "老职工", "老长辈")
DEFAULT_LINKED_HOUSEHOLD_LIMIT = 10


class Household(TenantMixin, SoftDeleteMixin, CreatedAtMixin, db.Model):
    """户: an address with grid / building / unit; may be a central household (中心户) or be
    linked (联户) under exactly one central household.

    The database holds the linkage rules: one nullable column names the central household, so
    a household has at most one; `central_link` (TRUE when linked) joins the composite foreign
    key to the target's `is_central`, so the target must be a central household, and a central
    household cannot stop being one while households are linked to it; a check forbids a
    central household from being linked under another."""

    __tablename__ = "households"
    __table_args__ = (
        UniqueConstraint("association_id", "id"),
        UniqueConstraint("association_id", "id", "is_central", name="uq_households_central_target"),
        ForeignKeyConstraint(
            ["association_id", "central_household_id", "central_link"],
            ["households.association_id", "households.id", "households.is_central"],
            name="fk_households_central_household",
        ),
        CheckConstraint(
            "(central_household_id IS NULL AND central_link IS NULL) OR "
            "(central_household_id IS NOT NULL AND central_link = true)",
            name="central_link",
        ),
        CheckConstraint(
            "NOT (is_central = true AND central_household_id IS NOT NULL)",
            name="central_not_linked",
        ),
        Index("ix_households_association_central", "association_id", "central_household_id"),
        Index("ix_households_association_address", "association_id", "address"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    address: Mapped[str] = mapped_column(String(200))
    grid: Mapped[str | None] = mapped_column(String(60))  # 网格
    building: Mapped[str | None] = mapped_column(String(60))  # 楼栋
    unit: Mapped[str | None] = mapped_column(String(60))  # 单元
    is_central: Mapped[bool] = mapped_column(Boolean, default=False)
    central_household_id: Mapped[int | None] = mapped_column(BigId)
    central_link: Mapped[bool | None] = mapped_column(Boolean)
    # While deleted: the links its deletion undid, put back on restore
    # ({"members": [ids], "central_household_id": id}).
    restore_links: Mapped[dict | None] = mapped_column(JSON)

    def __repr__(self) -> str:
        return f"<Household {self.id} {self.address}>"


class Member(TenantMixin, SoftDeleteMixin, CreatedAtMixin, db.Model):
    """会员. The ID number (身份证号) and phone are encrypted at rest (app.core.crypto); keyed
    hashes find duplicates, and the masked forms are kept for lists that must not decrypt."""

    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("association_id", "id"),
        UniqueConstraint("association_id", "id_number_hash"),
        UniqueConstraint("association_id", "phone_hash"),
        UniqueConstraint("association_id", "user_id"),
        same_association_fk("household_id", "households", name="fk_members_household"),
        Index("ix_members_association_name", "association_id", "name"),
        Index("ix_members_association_initials", "association_id", "name_initials"),
        Index("ix_members_association_phone_tail", "association_id", "phone_tail"),
        Index("ix_members_association_status", "association_id", "status"),
        # The few deleted members, which every list of what hangs off a member leaves out.
        Index(
            "ix_members_deleted",
            "id",
            sqlite_where=sa_text("deleted_at IS NOT NULL"),
            postgresql_where=sa_text("deleted_at IS NOT NULL"),
        ),
        # The member list of a large association: its counts read this index alone (the ids
        # are in it), and the tags in use read the few tagged members' entries.
        Index(
            "ix_members_live_status",
            "association_id",
            "status",
            postgresql_include=["id"],
            sqlite_where=sa_text("deleted_at IS NULL"),
            postgresql_where=sa_text("deleted_at IS NULL"),
        ),
        Index(
            "ix_members_live_tags",
            "association_id",
            "tags_text",
            sqlite_where=sa_text("deleted_at IS NULL AND tags_text <> ''"),
            postgresql_where=sa_text("deleted_at IS NULL AND tags_text <> ''"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    name_initials: Mapped[str] = mapped_column(String(60), default=initials_default)  # "zs"
    gender: Mapped[Gender | None] = mapped_column(string_enum(Gender))
    birth_date: Mapped[date | None] = mapped_column(Date)
    id_number_encrypted: Mapped[str | None] = mapped_column(Text)
    id_number_hash: Mapped[str | None] = mapped_column(String(64))
    id_number_masked: Mapped[str | None] = mapped_column(String(18))
    phone_encrypted: Mapped[str | None] = mapped_column(Text)
    phone_hash: Mapped[str | None] = mapped_column(String(64))
    phone_masked: Mapped[str | None] = mapped_column(String(11))
    phone_tail: Mapped[str | None] = mapped_column(String(4))
    household_id: Mapped[int | None] = mapped_column(BigId)
    joined_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[MemberStatus] = mapped_column(
        string_enum(MemberStatus), default=MemberStatus.ACTIVE
    )
    status_on: Mapped[date | None] = mapped_column(Date)  # when the status last changed
    # "|老党员|志愿者|": delimited so one LIKE finds a tag.
    tags_text: Mapped[str] = mapped_column(String(400), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def tags(self) -> list[str]:
        return [tag for tag in self.tags_text.split("|") if tag]

    @tags.setter
    def tags(self, values) -> None:
        unique = list(dict.fromkeys(tag.strip() for tag in values if tag and tag.strip()))
        self.tags_text = "|" + "|".join(unique) + "|" if unique else ""

    def __repr__(self) -> str:
        return f"<Member {self.id}>"


class CentralHouseholdVisit(TenantMixin, CreatedAtMixin, db.Model):
    """One visit round of a central household to its linked households (走访记录)."""

    __tablename__ = "central_household_visits"
    __table_args__ = (
        UniqueConstraint("association_id", "id"),
        same_association_fk(
            "central_household_id",
            "households",
            name="fk_central_household_visits_household",
            ondelete="CASCADE",
        ),
        Index("ix_visits_central", "association_id", "central_household_id", "visited_on"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    central_household_id: Mapped[int] = mapped_column(BigId)
    visited_on: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    # Household ids visited (a snapshot: households can later move to another central one).
    visited_household_ids: Mapped[list] = mapped_column(JSON, default=list)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class RegisterSettings(TenantMixin, db.Model):
    """Per-association settings of the registers."""

    __tablename__ = "register_settings"
    __table_args__ = (
        UniqueConstraint("association_id"),
        CheckConstraint("linked_household_limit BETWEEN 1 AND 50", name="limit_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    linked_household_limit: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_LINKED_HOUSEHOLD_LIMIT
    )


class ImportStatus(enum.StrEnum):
    MAPPING = "mapping"  # uploaded, waiting for the user to confirm the column mapping
    VALIDATING = "validating"
    VALIDATED = "validated"  # row report ready, waiting for confirmation
    IMPORTING = "importing"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class MemberImport(TenantMixin, CreatedAtMixin, db.Model):
    """One spreadsheet import, from upload to confirmation. The uploaded file lives outside
    the web root under a server-generated name and is deleted once its rows are read."""

    __tablename__ = "member_imports"
    __table_args__ = (UniqueConstraint("association_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[ImportStatus] = mapped_column(
        string_enum(ImportStatus), default=ImportStatus.MAPPING
    )
    headers: Mapped[list] = mapped_column(JSON, default=list)
    samples: Mapped[list] = mapped_column(JSON, default=list)  # a few rows, masked
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)  # column index -> field
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    valid_rows: Mapped[int] = mapped_column(Integer, default=0)
    rejected_rows: Mapped[int] = mapped_column(Integer, default=0)
    imported_rows: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where the table is in the file (sheet, heading rows, rows skipped with the reason, the
    # first rows for choosing the heading) and whether the sheet was chosen by the user.
    layout: Mapped[dict] = mapped_column(JSON, default=dict)
    # The step ("validate" or "apply") that failed, so that it can be retried.
    failed_step: Mapped[str | None] = mapped_column(String(20))

    @property
    def in_progress(self) -> bool:
        return self.status in (ImportStatus.VALIDATING, ImportStatus.IMPORTING)


class ImportMapping(TenantMixin, db.Model):
    """The columns an association chose in its last import (heading → field), offered the
    next time a file with the same headings comes."""

    __tablename__ = "import_mappings"
    __table_args__ = (UniqueConstraint("association_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "members"
    # header_key(heading) -> field name, "" for a column the user chose to ignore
    fields: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MemberImportRow(TenantMixin, db.Model):
    """A row of an import after normalising: values encrypted (they hold ID numbers), the
    problems found as codes with parameters, translated when shown."""

    __tablename__ = "member_import_rows"
    __table_args__ = (
        UniqueConstraint("association_id", "import_id", "row_number"),
        same_association_fk(
            "import_id", "member_imports", name="fk_member_import_rows_import", ondelete="CASCADE"
        ),
        Index("ix_member_import_rows_problems", "association_id", "import_id", "valid"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    import_id: Mapped[int] = mapped_column(Integer)
    row_number: Mapped[int] = mapped_column(Integer)
    values_encrypted: Mapped[str] = mapped_column(Text)
    problems: Mapped[list] = mapped_column(JSON, default=list)
    valid: Mapped[bool] = mapped_column(Boolean, default=True)


class DataRequestStatus(enum.StrEnum):
    PENDING = "pending"
    CARRIED_OUT = "carried_out"
    REFUSED = "refused"


class PersonalDataRequest(TenantMixin, CreatedAtMixin, db.Model):
    """A member's request to delete their data (PIPL art. 47). The secretary carries it out or
    refuses it with a reason; the row outlives the member record (name kept as a snapshot) so
    both sides can see what was decided."""

    __tablename__ = "personal_data_requests"
    __table_args__ = (
        same_association_fk("member_id", "members", name="fk_personal_data_requests_member"),
        # One open request per member at a time.
        Index(
            "uq_personal_data_requests_pending",
            "association_id",
            "member_id",
            unique=True,
            sqlite_where=sa_text("status = 'pending'"),
            postgresql_where=sa_text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Cleared when the request is carried out: the member row is then gone.
    member_id: Mapped[int | None] = mapped_column(BigId)
    member_name: Mapped[str] = mapped_column(String(60))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[DataRequestStatus] = mapped_column(
        string_enum(DataRequestStatus), default=DataRequestStatus.PENDING
    )
    decision_note: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class MoveRequestStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class HouseholdMoveRequest(TenantMixin, CreatedAtMixin, db.Model):
    """A member's request to move to another household (迁户申请). She types the new address;
    the secretary or staff approve it, choosing or creating the household in the register (the
    member moves then), or decline it with a reason she sees. Addresses are kept as text
    snapshots: the households themselves may be edited or deleted later."""

    __tablename__ = "household_move_requests"
    __table_args__ = (
        same_association_fk(
            "member_id", "members", name="fk_household_move_requests_member", ondelete="CASCADE"
        ),
        # One open request per member at a time.
        Index(
            "uq_household_move_requests_pending",
            "association_id",
            "member_id",
            unique=True,
            sqlite_where=sa_text("status = 'pending'"),
            postgresql_where=sa_text("status = 'pending'"),
        ),
        Index("ix_household_move_requests_status", "association_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(BigId)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    from_address: Mapped[str] = mapped_column(String(200), default="")
    new_address: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[MoveRequestStatus] = mapped_column(
        string_enum(MoveRequestStatus), default=MoveRequestStatus.PENDING
    )
    moved_to_address: Mapped[str] = mapped_column(String(200), default="")
    decision_note: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


def member_is_live(member_id) -> ColumnElement[bool]:
    """No deleted member holds `member_id` (true for NULL): the condition under which a row that
    hangs off a member stays visible (app.core.soft_delete.hide_with_owner).

    A NOT EXISTS probing the primary key once per row (an uncorrelated NOT IN measured 40 times
    slower on PostgreSQL under row-level security). It reads an alias of the table, not the
    class, so the criterion hiding deleted members does not hide the ones it looks for, and a
    query that joins members itself does not swallow it by correlation."""
    deleted = Member.__table__.alias("deleted_member")
    return ~(
        exists()
        .where(deleted.c.id == member_id, deleted.c.deleted_at.is_not(None))
        .correlate_except(deleted)
    )


def user_member_is_live(user_id, association_id) -> ColumnElement[bool]:
    """The same for rows that name the person by login and association (event sign-ups)."""
    deleted = Member.__table__.alias("deleted_member")
    return ~(
        exists()
        .where(
            deleted.c.association_id == association_id,
            deleted.c.user_id == user_id,
            deleted.c.deleted_at.is_not(None),
        )
        .correlate_except(deleted)
    )


# A deleted member's pending request to move house leaves the secretary's queue with her. Her
# data-deletion requests (PIPL) stay: they must be carried out even for a deleted record.
hide_with_owner(HouseholdMoveRequest, lambda cls: member_is_live(cls.member_id))
