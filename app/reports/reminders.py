"""The daily report reminders: a deadline in three days, and a deadline missed (the day after),
to the secretaries of every association below the form's level that has not filed it yet."""

from datetime import date, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.core import inbox
from app.core.clock import china_today
from app.core.jobs import periodic
from app.core.notifications import notify
from app.extensions import db
from app.reports.models import Report, ReportForm
from app.reports.notices import secretaries
from app.reports.services import FILED, period_text
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Association
from tenants.tree import subtree_bounds

DAYS_BEFORE = 3


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


@periodic(minute="30", hour="8")
def send_report_reminders(on: date | None = None) -> int:
    """Every morning: "due in 3 days" and "overdue" for each association yet to file."""
    today = on or china_today()
    due_soon = today + timedelta(days=DAYS_BEFORE)
    overdue = today - timedelta(days=1)
    forms = list(
        db.session.scalars(
            select(ReportForm).where(ReportForm.deadline_on.in_((due_soon, overdue)))
        )
    )
    sent = 0
    for form in forms:
        owner = db.session.get(Association, form.association_id)
        ids = _unfiled(form, owner)
        for association_id, users in secretaries(ids).items():
            for user in users:
                with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
                    period = period_text(form.period_kind, form.year, form.period_number)
                    if form.deadline_on == due_soon:
                        subject = _("Report due in 3 days: %(form)s", form=form.name)
                        body = _(
                            "“%(form)s” (%(period)s) from %(owner)s is due on %(deadline)s "
                            "and has not been submitted yet.",
                            form=form.name,
                            period=period,
                            owner=owner.name,
                            deadline=form.deadline_on.isoformat(),
                        )
                    else:
                        subject = _("Report overdue: %(form)s", form=form.name)
                        body = _(
                            "“%(form)s” (%(period)s) from %(owner)s was due on %(deadline)s "
                            "and has not been submitted. Submit it as soon as you can.",
                            form=form.name,
                            period=period,
                            owner=owner.name,
                            deadline=form.deadline_on.isoformat(),
                        )
                notify(user.login, subject, body)
                inbox.keep(
                    user.id,
                    subject,
                    body,
                    key=f"report:{form.id}:{form.deadline_on}:{today}",
                    association_id=association_id,
                )
                sent += 1
    return sent
