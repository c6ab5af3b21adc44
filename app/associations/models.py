"""An association's own settings and the history of the population it serves."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.models import CreatedAtMixin, UTCDateTime
from app.extensions import db
from tenants.models import TenantMixin


class PopulationRecord(TenantMixin, CreatedAtMixin, db.Model):
    """The population an association serves from `from_year` on (the member ratio's base).

    The population in force for a year is the record with the latest `from_year` not after it,
    so changing the figure this year leaves earlier years' ratios as they were.
    """

    __tablename__ = "population_records"
    __table_args__ = (
        UniqueConstraint("association_id", "from_year"),
        CheckConstraint("population > 0", name="population"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    from_year: Mapped[int] = mapped_column(Integer)
    population: Mapped[int] = mapped_column(Integer)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class AssociationSettings(TenantMixin, db.Model):
    """Settings a secretary changes that have no column on the association itself (the
    linked-households limit belongs to the registers: app/members, RegisterSettings)."""

    __tablename__ = "association_settings"
    __table_args__ = (UniqueConstraint("association_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_email: Mapped[str | None] = mapped_column(String(120))
    address: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
