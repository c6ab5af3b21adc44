"""The daily report reminders: a deadline in three days, and a deadline missed (from the day
after), each sent once per form to the secretaries of every association below the form's level
that has not filed it yet.

Once: the job claims a form's step by setting its `due_soon_sent_at` / `overdue_sent_at` with
an UPDATE that only succeeds while it is empty, then sends, in the same transaction; a second
run finds nothing to claim. A day the job did not run is caught up the next morning ("due soon"
while the deadline has not passed, "overdue" within a week of it).
"""

from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update

from app.core.clock import china_today
from app.core.jobs import periodic
from app.core.models import utcnow
from app.extensions import db
from app.reports.models import Report, ReportForm
from app.reports.notices import secretaries, send
from app.reports.services import FILED, period_text
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Association
from tenants.tree import subtree_bounds

DAYS_BEFORE = 3
CATCH_UP_DAYS = 7


def _unfiled(form: ReportForm, owner: Association) -> list[int]:
    low, high = subtree_bounds(owner.path)
    with UNSCOPED_BYPASS("the reminder job finds who has not filed a form of the whole subtree"):
        filed = set(
            db.session.scalars(
                select(Report.association_id).where(
                    Report.form_id == form.id, Report.state.in_(FILED)
                )
            )
        )
    below = db.session.scalars(
        select(Association.id).where(
            Association.path >= low, Association.path < high, Association.id != owner.id
        )
    )
    return [association_id for association_id in below if association_id not in filed]


def _claim(form_id: int, column) -> bool:
    """Mark the step sent if nobody has: True for the one run that may send it."""
    claimed = db.session.execute(
        update(ReportForm)
        .where(ReportForm.id == form_id, column.is_(None))
        .values({column.key: utcnow()})
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1


def _remind(form: ReportForm, *, overdue: bool) -> int:
    owner = db.session.get(Association, form.association_id)

    def write():
        period = period_text(form.period_kind, form.year, form.period_number)
        if overdue:
            return (
                _("Report overdue: %(form)s", form=form.name),
                _(
                    "“%(form)s” (%(period)s) from %(owner)s was due on %(deadline)s "
                    "and has not been submitted. Submit it as soon as you can.",
                    form=form.name,
                    period=period,
                    owner=owner.name,
                    deadline=form.deadline_on.isoformat(),
                ),
            )
        return (
            _("Report due in 3 days: %(form)s", form=form.name),
            _(
                "“%(form)s” (%(period)s) from %(owner)s is due on %(deadline)s "
                "and has not been submitted yet.",
                form=form.name,
                period=period,
                owner=owner.name,
                deadline=form.deadline_on.isoformat(),
            ),
        )

    step = "overdue" if overdue else "due-soon"
    sent = 0
    for association_id, users in secretaries(_unfiled(form, owner)).items():
        key = f"report-form:{form.id}:{step}:{association_id}"
        send(users, write, key=key, association_id=association_id)
        sent += len({user.login for user in users})
    return sent


@periodic(minute="30", hour="8")
def send_report_reminders(on: date | None = None) -> int:
    """Every morning: "due in 3 days" and "overdue" for each association yet to file, each
    once per form; returns the notices sent."""
    today = on or china_today()
    due_soon = select(ReportForm).where(
        ReportForm.deadline_on >= today,
        ReportForm.deadline_on <= today + timedelta(days=DAYS_BEFORE),
        ReportForm.due_soon_sent_at.is_(None),
    )
    overdue = select(ReportForm).where(
        ReportForm.deadline_on < today,
        ReportForm.deadline_on >= today - timedelta(days=CATCH_UP_DAYS),
        ReportForm.overdue_sent_at.is_(None),
    )
    sent = 0
    for query, column, is_overdue in (
        (due_soon, ReportForm.due_soon_sent_at, False),
        (overdue, ReportForm.overdue_sent_at, True),
    ):
        for form in list(db.session.scalars(query.order_by(ReportForm.id))):
            if _claim(form.id, column):
                sent += _remind(form, overdue=is_overdue)
    return sent
