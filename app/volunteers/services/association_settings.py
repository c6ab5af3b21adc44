"""The association's volunteering settings, and small helpers of times and hours."""

from datetime import UTC, date, datetime, time

from sqlalchemy import select

from app.core.clock import CHINA
from app.extensions import db
from app.volunteers.models import (
    VolunteerSettings,
)


def settings() -> VolunteerSettings | None:
    return db.session.scalar(select(VolunteerSettings))


def ranking_visible_to_members() -> bool:
    current = settings()
    return bool(current and current.ranking_visible_to_members)


def set_ranking_visible(visible: bool) -> None:
    current = settings()
    if current is None:
        current = VolunteerSettings()
        db.session.add(current)
    current.ranking_visible_to_members = visible
    db.session.flush()


def hours_text(minutes: int) -> str:
    """Minutes as hours with at most one decimal: 90 → "1.5", 120 → "2"."""
    hours = round(minutes / 60, 1)
    return f"{hours:g}"


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=CHINA).astimezone(UTC)
