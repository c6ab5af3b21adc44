"""What is still open and what came in: the arrears of a year (for a central household's
group too) and the year's collection figures the dashboards read."""

from dataclasses import dataclass

from sqlalchemy import and_, func, select

from app.dues.central_collection import group_household_ids
from app.dues.models import Charge
from app.extensions import db
from app.members.models import Household, Member

# --- arrears and figures ---------------------------------------------------------------------


def arrears_query(year: int, *, central_household_id: int | None = None):
    """Charges of the year still (partly) open and not exempt, with member and household."""
    query = (
        select(Charge, Member, Household)
        .join(Member, Member.id == Charge.member_id)
        .outerjoin(Household, Household.id == Member.household_id)
        .where(
            Charge.year == year,
            Charge.exempt.is_(False),
            Charge.paid_fen < Charge.amount_due_fen,
        )
        .order_by(Member.name, Member.id)
    )
    if central_household_id is not None:
        query = query.where(Member.household_id.in_(group_household_ids(central_household_id)))
    return query


def arrears(year: int, *, central_household_id: int | None = None) -> list:
    return list(
        db.session.execute(arrears_query(year, central_household_id=central_household_id)).all()
    )


@dataclass(frozen=True)
class CollectionFigures:
    """A year's collection: what is due (exempt charges left out), what is paid against it,
    how many members are exempt, and the rate paid ÷ due (None when nothing is due)."""

    year: int
    due_fen: int
    paid_fen: int
    exempt_count: int
    charges: int = 0
    paid_in_full: int = 0

    @property
    def open_fen(self) -> int:
        return self.due_fen - self.paid_fen

    @property
    def rate(self) -> float | None:
        return self.paid_fen / self.due_fen if self.due_fen else None


def collection_figures(year: int) -> CollectionFigures:
    """The current association's (or, inside `subtree_reads()`, the subtree's) collection
    figures for a year, in one query. For the dashboards: rate = paid ÷ due, exemptions
    excluded from due; a payment beyond a charge's amount never counts above it."""
    paid_capped = func.min(Charge.paid_fen, Charge.amount_due_fen)
    if db.session.get_bind().dialect.name == "postgresql":
        paid_capped = func.least(Charge.paid_fen, Charge.amount_due_fen)
    not_exempt = Charge.exempt.is_(False)
    row = db.session.execute(
        select(
            func.coalesce(func.sum(Charge.amount_due_fen).filter(not_exempt), 0),
            func.coalesce(func.sum(paid_capped).filter(not_exempt), 0),
            func.count(Charge.id).filter(Charge.exempt.is_(True)),
            func.count(Charge.id).filter(not_exempt),
            func.count(Charge.id).filter(
                and_(not_exempt, Charge.paid_fen >= Charge.amount_due_fen)
            ),
        ).where(Charge.year == year)
    ).one()
    return CollectionFigures(
        year=year,
        due_fen=int(row[0]),
        paid_fen=int(row[1]),
        exempt_count=int(row[2]),
        charges=int(row[3]),
        paid_in_full=int(row[4]),
    )
