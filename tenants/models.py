"""The tenant (Association), its place in the tree, and who holds which role in it."""

import enum
import secrets
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from app.core.models import CreatedAtMixin, UTCDateTime
from app.extensions import db

# Materialised paths compare byte-wise: PostgreSQL's default collations would ignore the "/".
PathString = String(400).with_variant(String(400, collation="C"), "postgresql")


class AssociationKind(enum.StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    COMMUNITY = "community"
    VILLAGE = "village"
    ENTERPRISE = "enterprise"
    MIGRANT = "migrant"

    @property
    def level(self) -> int:
        return KIND_LEVELS[self]

    @property
    def is_grassroots(self) -> bool:
        return self.level == GRASSROOTS_LEVEL


GRASSROOTS_LEVEL = 5
KIND_LEVELS = {
    AssociationKind.PROVINCE: 1,
    AssociationKind.CITY: 2,
    AssociationKind.COUNTY: 3,
    AssociationKind.TOWNSHIP: 4,
    AssociationKind.COMMUNITY: GRASSROOTS_LEVEL,
    AssociationKind.VILLAGE: GRASSROOTS_LEVEL,
    AssociationKind.ENTERPRISE: GRASSROOTS_LEVEL,
    AssociationKind.MIGRANT: GRASSROOTS_LEVEL,
}


def new_stamp() -> str:
    return secrets.token_hex(16)


class Association(CreatedAtMixin, db.Model):
    """The tenant: one family-planning association (计生协) at any level of the tree.

    `path` is the materialised path of ids from the root, e.g. "/1/5/23/": the subtree of an
    association is one indexed range scan on it (see tenants.tree.subtree_bounds).
    """

    __tablename__ = "associations"
    __table_args__ = (
        UniqueConstraint("parent_id", "name"),
        Index("ix_associations_path", "path"),
        CheckConstraint("served_population IS NULL OR served_population > 0", name="population"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[AssociationKind] = mapped_column(
        db.Enum(
            AssociationKind,
            native_enum=False,
            length=20,
            values_callable=lambda kinds: [k.value for k in kinds],
        )
    )
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("associations.id", ondelete="RESTRICT"), index=True
    )
    path: Mapped[str] = mapped_column(PathString, default="")
    depth: Mapped[int] = mapped_column(Integer, default=0)
    division_code: Mapped[str | None] = mapped_column(String(12))
    served_population: Mapped[int | None] = mapped_column(Integer)
    contact_name: Mapped[str | None] = mapped_column(String(60))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A new random value with every committed change to the association's register (members,
    # households, move requests; app/members/register_figures.py): the key under which each
    # worker keeps the figures above the member list. Random, not a counter, so a restored
    # backup or a rebuilt test database never hands an old key to different rows.
    register_stamp: Mapped[str | None] = mapped_column(String(32), default=new_stamp)

    parent: Mapped["Association | None"] = relationship(remote_side=[id], lazy="raise")

    @property
    def level(self) -> int:
        return self.kind.level

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to this association itself, read off the path."""
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def __repr__(self) -> str:
        return f"<Association {self.id} {self.slug}>"


class TenantMixin:
    """Marks a table as owned by one association: every ORM query on it is scoped.

    Class flag `tenant_append_only`: rows are written by the platform on behalf of whoever acts
    (the audit log), not by the association, so the write guard lets any reader append them.
    """

    tenant_append_only = False

    @declared_attr
    def association_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("associations.id", ondelete="CASCADE"), index=True)


class Role(enum.StrEnum):
    SECRETARY = "secretary"  # 秘书长/管理员: runs the association
    STAFF = "staff"  # 工作人员
    MEMBER = "member"  # 会员
    AUDITOR = "auditor"  # 上级审核: reads the subtree below, writes nothing


WRITE_ROLES = frozenset({Role.SECRETARY, Role.STAFF})
# Roles held at a higher association that give read-only oversight of everything below it.
OVERSIGHT_ROLES = frozenset({Role.SECRETARY, Role.STAFF, Role.AUDITOR})


class Membership(TenantMixin, CreatedAtMixin, db.Model):
    """A user's role in one association. One person may hold roles in several."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("association_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(
        db.Enum(Role, native_enum=False, length=20, values_callable=lambda r: [x.value for x in r])
    )

    association: Mapped[Association] = relationship(lazy="joined", innerjoin=True)
