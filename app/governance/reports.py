"""The year-end report to residents (报告): drafted from the year's figures and the commitments'
outcomes, edited by the secretary, published with the figures it quotes frozen in it."""

from datetime import date

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.core.clock import china_today, utcnow
from app.dashboards.definitions import percent
from app.extensions import db
from app.governance.models import (
    YearPlan,
    YearReport,
)
from app.governance.plans import (
    DONE,
    STATE_LABELS,
    GovernanceError,
    plan_for,
    progress,
    year_figures,
)
from app.governance.surveys import survey_for, survey_results
from tenants.models import Association

# --- the report to residents (报告) -----------------------------------------------------------


def report_for(year: int) -> YearReport | None:
    return db.session.scalar(select(YearReport).where(YearReport.year == year))


def report_figures(association: Association, plan: YearPlan, today: date) -> dict:
    """What the report quotes: the year's figures and each commitment's outcome, as plain
    values (kept in the report when it is published)."""
    figures = year_figures(association, plan.year)
    survey = survey_for(plan.year)
    results = survey_results(survey) if survey else None
    rate = results.satisfaction if results else None
    return {
        "members": figures.members,
        "activities": figures.activities,
        "dues_collected_fen": figures.dues_collected_fen if figures.dues_expected_fen else None,
        "volunteer_hours": None
        if figures.volunteer_hours is None
        else int(figures.volunteer_hours),
        "commitments": [
            {
                "text": row.commitment.text,
                "state": row.state,
                "value": None if row.value is None else str(row.value),
                "target": row.commitment.target,
            }
            for row in progress(plan, figures, today)
        ],
        "responses": results.responses if results else None,
        "satisfaction": None if rate is None else str(percent(rate)),
        "target_percent": survey.target_percent if survey else None,
    }


def draft_report_text(association: Association, year: int, quoted: dict) -> str:
    """A first draft from the figures, in the secretary's language, for her to edit."""
    done = sum(1 for c in quoted["commitments"] if c["state"] == DONE)
    lines = [
        gettext(
            "In %(year)d, %(name)s had %(members)d members and held %(activities)d activities.",
            year=year,
            name=association.name,
            members=quoted["members"],
            activities=quoted["activities"],
        ),
        gettext(
            "Of our %(total)d commitments, %(done)d are fulfilled.",
            total=len(quoted["commitments"]),
            done=done,
        ),
    ]
    for commitment in quoted["commitments"]:
        lines.append(f"- {commitment['text']}: {STATE_LABELS[commitment['state']]}")
    if quoted["satisfaction"] is not None:
        lines.append(
            gettext(
                "%(n)d households answered the residents' evaluation; %(rate)s%% are satisfied.",
                n=quoted["responses"],
                rate=quoted["satisfaction"],
            )
        )
    return "\n".join(lines)


def save_report(year: int, body: str) -> YearReport:
    report = report_for(year)
    if report is None:
        report = YearReport(year=year, body="")
        db.session.add(report)
    if report.is_published:
        raise GovernanceError(_l("The report is published and can no longer change."), status=409)
    report.body = body.strip()
    db.session.flush()
    return report


def publish_report(association: Association, year: int, *, user_id: int | None) -> YearReport:
    """Publish the report with the figures it quotes frozen in it."""
    plan = plan_for(year)
    if plan is None or not plan.is_published:
        raise GovernanceError(_l("Publish the year's plan before its report."))
    report = report_for(year)
    if report is None or not report.body:
        raise GovernanceError(_l("Write the report before publishing it."))
    if report.is_published:
        raise GovernanceError(_l("The report is published and can no longer change."), status=409)
    report.frozen = report_figures(association, plan, china_today())
    report.published_at = utcnow()
    report.published_by_id = user_id
    db.session.flush()
    return report
