"""The values a report starts from: a grassroots association's own figures (frozen where the
period is closed), or for a level above the sum of its children's accepted reports; and which
children have filed, and whether late."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from app.core.clock import CHINA
from app.dashboards.models import AssociationFigures, ClosedPeriod, PeriodFigures
from app.extensions import db
from app.reports.catalogue import FIGURES
from app.reports.models import PeriodKind, Report, ReportForm, ReportState
from tenants.context import subtree_reads
from tenants.models import Association

FILED = (ReportState.SUBMITTED, ReportState.ACCEPTED, ReportState.SUPERSEDED)


def is_late(form: ReportForm, report: Report | None, today: date) -> bool:
    """Past the deadline and not filed, or filed after it."""
    if report is None or report.submitted_at is None:
        return today > form.deadline_on
    return report.submitted_at.astimezone(CHINA).date() > form.deadline_on


def _closed(form: ReportForm) -> tuple[int, int] | None:
    """The closed quarter whose frozen figures fill the form, if the period is closed."""
    if form.period_kind == PeriodKind.MONTH:
        return None
    quarter = form.period_number if form.period_kind == PeriodKind.QUARTER else 4
    closed = db.session.scalar(
        select(ClosedPeriod.id).where(
            ClosedPeriod.year == form.year, ClosedPeriod.quarter == quarter
        )
    )
    return (form.year, quarter) if closed else None


def own_figures(form: ReportForm, association: Association) -> tuple[dict, str]:
    """The form's figures of one association, from the period's frozen figures where it is
    closed, else live; ({"fig:<key>": value}, source)."""
    closed = _closed(form)
    row = None
    if closed:
        row = db.session.scalar(
            select(PeriodFigures.frozen).where(
                PeriodFigures.association_id == association.id,
                PeriodFigures.year == closed[0],
                PeriodFigures.quarter == closed[1],
            )
        )
    source = "frozen" if row is not None else "live"
    if row is None:
        stored = db.session.scalar(
            select(AssociationFigures).where(
                AssociationFigures.association_id == association.id,
                AssociationFigures.year == form.year,
            )
        )
        row = (
            {c.key: getattr(stored, c.key) for c in AssociationFigures.__table__.columns}
            if stored
            else {}
        )
    return {
        f"fig:{key}": FIGURES[key].read(row, form.period_kind, form.period_number)
        for key in form.figures
    }, source


def summed_keys(form: ReportForm) -> list[str]:
    """The values a level above adds up: the figures and the numeric manual fields."""
    return [f"fig:{key}" for key in form.figures] + [
        f["key"] for f in form.fields if f["kind"] == "number"
    ]


def sum_reports(form: ReportForm, reports) -> dict[str, int]:
    keys = summed_keys(form)
    totals = dict.fromkeys(keys, 0)
    for report in reports:
        values = report.values or {}
        for key in keys:
            value = values.get(key)
            if isinstance(value, int):
                totals[key] += value
    return totals


@dataclass
class ChildStatus:
    association: Association
    report: Report | None  # the latest version
    accepted: Report | None  # the accepted version in force
    late: bool


def children_status(form: ReportForm, association: Association, today: date) -> list[ChildStatus]:
    """The association's direct children with their latest report and accepted one (three
    queries whatever the number of children). Call it in the association's scope."""
    children = list(
        db.session.scalars(
            select(Association)
            .where(Association.parent_id == association.id)
            .order_by(Association.name, Association.id)
        )
    )
    latest: dict[int, Report] = {}
    accepted: dict[int, Report] = {}
    if children:
        with subtree_reads():
            reports = db.session.scalars(
                select(Report)
                .where(
                    Report.form_id == form.id,
                    Report.association_id.in_([child.id for child in children]),
                )
                .order_by(Report.association_id, Report.version)
            )
            for report in reports:
                latest[report.association_id] = report
                if report.state == ReportState.ACCEPTED:
                    accepted[report.association_id] = report
    return [
        ChildStatus(
            association=child,
            report=latest.get(child.id),
            accepted=accepted.get(child.id),
            late=(
                accepted.get(child.id) is None
                and is_late(form, _filed(latest.get(child.id)), today)
            ),
        )
        for child in children
    ]


def _filed(report: Report | None) -> Report | None:
    return report if report is not None and report.state in FILED else None


def prefilled_values(
    form: ReportForm, association: Association, today: date
) -> tuple[dict, str, list[ChildStatus]]:
    """What a new report starts with: a grassroots association's own figures, or for a level
    with associations below it the sum of its children's accepted reports."""
    if association.kind.is_grassroots:
        values, source = own_figures(form, association)
        return values, source, []
    children = children_status(form, association, today)
    totals = sum_reports(form, [row.accepted for row in children if row.accepted])
    return totals, "children", children
