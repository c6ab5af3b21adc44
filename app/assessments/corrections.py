"""Correcting a year's results by the level that made them: withdrawing a model association
(示范协会) named by mistake, and reopening an assessment closed by mistake. Each needs a
written reason, is audit-logged and told to the associations concerned, and is possible only
until the year is final.

The year is final once the first quarter of the next year is closed (app/dashboards/periods.py:
the nightly job closes it the day after 31 March): the year's assessments close in January, the
namings are announced after, and three months are left to put a mistake right. After that the
results stand, as the figures they were scored on do.

Reopening keeps what had been frozen: the ranking as it stood (`AssessmentReopening.results`,
a row of the reopening level beside the reason), while every assessment goes back to where it
was before closing (scored, sent back or not submitted) and can be scored and closed again.
A ranking from which a model association was named is reopened only once that naming has been
withdrawn, so a naming never outlives the ranking it came from.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.assessments import notices
from app.assessments.models import (
    Assessment,
    AssessmentReopening,
    ModelAssociation,
    State,
)
from app.assessments.problems import AssessmentError
from app.assessments.ranking import scoring_view
from app.core import audit
from app.core.clock import utcnow
from app.dashboards import periods
from app.extensions import db
from app.members.idnumbers import without_personal_numbers
from tenants.context import scope_for, tenant_context
from tenants.models import Association

MAX_REASON = 1000


def year_is_final(year: int) -> bool:
    """Whether the year's results can no longer be corrected (see the module's docstring)."""
    return periods.is_closed(year + 1, 1) is not None


def _checked_reason(reason: str, year: int) -> str:
    if year_is_final(year):
        raise AssessmentError(
            _l("The results of %(year)d are final: they can no longer be corrected.", year=year),
            status=409,
        )
    reason = without_personal_numbers(reason.strip())[:MAX_REASON]
    if not reason:
        raise AssessmentError(_l("Say why."), field="reason")
    return reason


def withdraw_model(
    level: Association, year: int, *, child_id: int | None, reason: str, user_id: int | None
) -> None:
    """Withdraw the naming of a child as a model association for the year."""
    child = db.session.scalar(
        select(Association).where(
            Association.id == (child_id or 0), Association.parent_id == level.id
        )
    )
    if child is None:
        raise AssessmentError(_l("There is no such model association."), status=404)
    reason = _checked_reason(reason, year)
    with tenant_context(scope_for(child, writable=True)):
        model = db.session.scalar(
            select(ModelAssociation).where(
                ModelAssociation.year == year,
                ModelAssociation.named_by_association_id == level.id,
            )
        )
        if model is None:
            raise AssessmentError(_l("There is no such model association."), status=404)
        citation = model.citation
        db.session.delete(model)
        db.session.flush()
    now = utcnow()
    audit.record(
        "model_association_withdrawn",
        association_id=level.id,
        user_id=user_id,
        child=child.id,
        year=year,
        reason=reason,
        citation=citation[:200],
    )
    notices.model_withdrawn(child, level, year, reason, now)


def _state_before_closing(assessment: Assessment) -> State:
    if assessment.scored_at is not None and assessment.score_tenths is not None:
        return State.SCORED
    return State.RETURNED if assessment.submitted_at is not None else State.DRAFT


def reopen(
    level: Association, year: int, kind: str, *, reason: str, user_id: int | None
) -> AssessmentReopening:
    """Reopen the level's closed assessment of its children of `kind` for the year."""
    view = scoring_view(level, year, kind)
    if view.kind != kind or view.closing is None:
        raise AssessmentError(_l("This assessment is not closed."), status=409)
    reason = _checked_reason(reason, year)
    named = [row.association.name for row in view.rows if row.model is not None]
    if named:
        raise AssessmentError(
            _l(
                "Withdraw the model associations named from this ranking first: %(names)s.",
                names="、".join(named),
            ),
            status=409,
        )
    results = [
        [
            row.association.id,
            row.association.name,
            row.state.value,
            row.assessment.score_tenths if row.assessment else None,
            row.assessment.rank if row.assessment else None,
            row.assessment.ranked_among if row.assessment else None,
        ]
        for row in view.rows
    ]
    for row in view.rows:
        if row.assessment is None:
            continue
        with tenant_context(scope_for(row.association, writable=True)):
            assessment = row.assessment
            assessment.state = _state_before_closing(assessment)
            assessment.rank = None
            assessment.ranked_among = None
            assessment.closed_at = None
            db.session.flush()
    now = utcnow()
    reopening = AssessmentReopening(
        year=year,
        kind=kind,
        closed_at=view.closing.closed_at,
        reopened_at=now,
        reopened_by_id=user_id,
        reason=reason,
        results=results,
    )
    db.session.delete(view.closing)
    db.session.add(reopening)
    db.session.flush()
    audit.record(
        "assessment_reopened",
        association_id=level.id,
        user_id=user_id,
        year=year,
        kind=kind,
        reason=reason,
        ranked=sum(1 for result in results if result[4]),
    )
    notices.reopened(level, [row.association for row in view.rows], year, reason, now)
    return reopening


def reopenings_of(year: int, kind: str | None) -> list[AssessmentReopening]:
    """The current association's earlier reopenings of this year's assessment of `kind`,
    latest first."""
    if kind is None:
        return []
    return list(
        db.session.scalars(
            select(AssessmentReopening)
            .where(AssessmentReopening.year == year, AssessmentReopening.kind == kind)
            .order_by(AssessmentReopening.reopened_at.desc())
        )
    )
