"""The daily self-assessment reminders: "due in 3 days" and "overdue" (from the day after the
due date), each sent once per published sheet to the secretaries of every association it
assesses that has not submitted yet.

Once: the job claims a sheet's step by setting its `due_soon_sent_at` / `overdue_sent_at` with
an UPDATE that only succeeds while it is empty, then sends, in the same transaction; a second
run (or a second worker) finds nothing to claim. A day the job did not run is caught up the
next morning ("due soon" while the date has not passed, "overdue" within a week of it).

An association is reminded by the sheet whose due date is its own (`due_date_of`: the nearest
level above that published one), never twice for one year by two sheets.
"""

from datetime import date

from sqlalchemy import select

from app.assessments import notices
from app.assessments.models import Assessment, AssessmentSheet, State
from app.core.clock import china_today
from app.core.deadlines import due_steps
from app.core.jobs import periodic
from app.extensions import db
from tenants.context import scope_for, subtree_reads, tenant_context
from tenants.models import Association
from tenants.tree import subtree_bounds

NOT_SUBMITTED = (State.DRAFT, State.RETURNED)


def _assessed_by(sheet: AssessmentSheet, level: Association) -> list[int]:
    """Ids of the associations of the sheet's kind below the level whose due date is this
    sheet's (a level below that published its own due date takes its subtree) and that have
    not submitted their self-assessment. Run in the level's scope."""
    low, high = subtree_bounds(level.path)
    nearer = list(
        db.session.scalars(
            select(Association.path)
            .join(AssessmentSheet, AssessmentSheet.association_id == Association.id)
            .where(
                AssessmentSheet.year == sheet.year,
                AssessmentSheet.kind == sheet.kind,
                AssessmentSheet.published_at.is_not(None),
                AssessmentSheet.due_on.is_not(None),
                Association.path > low,
                Association.path < high,
            )
        )
    )
    assessed = [
        association_id
        for association_id, path in db.session.execute(
            select(Association.id, Association.path).where(
                Association.kind == sheet.kind, Association.path > low, Association.path < high
            )
        )
        if not any(path.startswith(other) and path != other for other in nearer)
    ]
    with subtree_reads():
        done = set(
            db.session.scalars(
                select(Assessment.association_id).where(
                    Assessment.year == sheet.year, Assessment.state.not_in(NOT_SUBMITTED)
                )
            )
        )
    return [association_id for association_id in assessed if association_id not in done]


def _remind(sheet: AssessmentSheet, *, overdue: bool) -> int:
    level = db.session.get(Association, sheet.association_id)
    sent = 0
    with tenant_context(scope_for(level, writable=False)):
        ids = _assessed_by(sheet, level)
        with subtree_reads():
            secretaries = notices.secretaries_below(ids)
        by_id = {
            association.id: association
            for association in db.session.scalars(
                select(Association).where(Association.id.in_(list(secretaries)))
            )
        }
        for association_id, users in secretaries.items():
            notices.reminder(by_id[association_id], users, sheet, overdue=overdue)
            sent += len(users)
    return sent


@periodic(minute="40", hour="8")
def send_assessment_reminders(on: date | None = None) -> int:
    """Every morning: the reminders due, each once per sheet; returns the notices sent."""
    today = on or china_today()
    steps = due_steps(
        AssessmentSheet,
        AssessmentSheet.due_on,
        AssessmentSheet.due_soon_sent_at,
        AssessmentSheet.overdue_sent_at,
        today,
        where=(AssessmentSheet.published_at.is_not(None),),
    )
    return sum(_remind(sheet, overdue=overdue) for sheet, overdue in steps)
