"""The two reminders of a deadline — "due in a few days" and "overdue" — each sent once per
deadline, whatever the number of runs (a second scheduler, a re-run, a missed morning)."""

from collections.abc import Iterator
from datetime import date, timedelta

from sqlalchemy import select, update

from app.core.clock import utcnow
from app.extensions import db

DAYS_BEFORE = 3  # "due in 3 days"
CATCH_UP_DAYS = 7  # an "overdue" step missed for up to a week is still sent


def due_steps(
    model, due_on, due_soon_sent_at, overdue_sent_at, today: date, *, where=()
) -> Iterator[tuple[object, bool]]:
    """(row, overdue) for each row of `model` (filtered by `where`) whose deadline `due_on` falls
    in the next DAYS_BEFORE days or passed at most CATCH_UP_DAYS ago, and whose step this run
    claimed: its `…_sent_at` column is set by a conditional UPDATE, so one run only sends it."""
    rows = select(model).where(*where)
    steps = (
        (
            rows.where(due_on >= today, due_on <= today + timedelta(days=DAYS_BEFORE)),
            due_soon_sent_at,
            False,
        ),
        (
            rows.where(due_on < today, due_on >= today - timedelta(days=CATCH_UP_DAYS)),
            overdue_sent_at,
            True,
        ),
    )
    for query, sent_at, overdue in steps:
        for row in list(db.session.scalars(query.where(sent_at.is_(None)).order_by(model.id))):
            if _claim(model, row.id, sent_at):
                yield row, overdue


def _claim(model, row_id: int, sent_at) -> bool:
    """Mark the step sent if nobody has: True for the one run that may send it."""
    claimed = db.session.execute(
        update(model)
        .where(model.id == row_id, sent_at.is_(None))
        .values({sent_at.key: utcnow()})
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1
