"""The daily report reminders: a deadline in three days, and a deadline missed (from the day
after), each sent once per form to the secretaries of every association below the form's level
that has not filed it yet.

Once: the job claims a form's step by setting its `due_soon_sent_at` / `overdue_sent_at` with
an UPDATE that only succeeds while it is empty, then sends, in the same transaction; a second
run finds nothing to claim. A day the job did not run is caught up the next morning ("due soon"
while the deadline has not passed, "overdue" within a week of it).
"""

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from app.core.clock import china_today
from app.core.deadlines import due_steps
from app.core.jobs import periodic
from app.extensions import db
from app.reports.models import Report, ReportForm
from app.reports.notices import secretaries, send
from app.reports.periods import period_text
from app.reports.values import FILED
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Association
from tenants.tree import subtree_bounds


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
    steps = due_steps(
        ReportForm,
        ReportForm.deadline_on,
        ReportForm.due_soon_sent_at,
        ReportForm.overdue_sent_at,
        today,
    )
    return sum(_remind(form, overdue=overdue) for form, overdue in steps)
