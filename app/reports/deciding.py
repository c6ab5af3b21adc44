"""Deciding a report: the level directly above accepts a submitted report (freezing it) or
returns it with a comment. It writes the filing association's row through a writable scope of
that association, after checking it holds the secretary role of the parent (as app/oversight
does for 整改 tasks)."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.core.clock import utcnow
from app.extensions import db
from app.reports import notices
from app.reports.models import Report, ReportForm, ReportState
from app.reports.problems import ReportError, ReportInvalid
from tenants.access import access_for
from tenants.context import scope_for, tenant_context
from tenants.models import Association


def may_decide(user_id: int, association: Association) -> bool:
    """Only the level directly above decides: a secretary of the association's parent."""
    if association.parent_id is None:
        return False
    parent = db.session.get(Association, association.parent_id)
    return parent is not None and access_for(user_id, parent).is_secretary


def decide(
    report: Report,
    form: ReportForm,
    association: Association,
    *,
    user_id: int,
    accept: bool,
    comment: str,
) -> Report:
    """Accept (freeze) a submitted report, or return it with a comment."""
    if not may_decide(user_id, association):
        raise ReportError(_l("Only the level directly above can accept or return a report."), 403)
    if report.state != ReportState.SUBMITTED:
        raise ReportError(_l("Only a submitted report can be accepted or returned."), 409)
    comment = comment.strip()
    if not accept and not comment:
        raise ReportInvalid({"comment": _l("Say what needs changing when returning a report.")})
    with tenant_context(scope_for(association, writable=True)):
        if accept:
            for earlier in db.session.scalars(
                select(Report).where(
                    Report.form_id == form.id, Report.state == ReportState.ACCEPTED
                )
            ):
                earlier.state = ReportState.SUPERSEDED
        report.state = ReportState.ACCEPTED if accept else ReportState.RETURNED
        report.decided_at = utcnow()
        report.decided_by_id = user_id
        report.decision_comment = comment[:2000]
        db.session.flush()
    notices.report_decided(form, report, association, accepted=accept, comment=comment)
    return report
