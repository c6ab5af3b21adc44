"""The self-governance cycle's figures of one association and year, as a figure group of the
dashboards (app/dashboards/figures.py): its plan published (0/1), its report to residents
published (0/1), the residents' evaluation's responses and those satisfied or very satisfied.

Stored per association and year and summed over every subtree like every other figure, so the
dashboard, the subtree sheet, the .xlsx and the supervision page (governance.below) read sums
instead of counting the subtree's plans and answers. Also 满意率 for the targets measured by
hand (app/dashboards/manual.py): each association's satisfaction in the year's evaluation.
Registered from here (app/registry.py): the dashboards cannot import this package, which reads
them.
"""

from datetime import date
from fractions import Fraction

from sqlalchemy import Integer, Subquery, and_, cast, func, select

from app.core.id_lists import one_of
from app.dashboards.figures import FigureGroup, Rows, register_group
from app.dashboards.manual import EvaluationReaders, register_evaluation
from app.extensions import db
from app.governance.models import Survey, SurveyResponse, YearPlan, YearReport
from app.governance.surveys import SATISFIED

COLUMNS = ("plan_published", "report_published", "survey_responses", "satisfied_responses")


def _restrict(column, association_ids: list[int] | None):
    return one_of(column, association_ids) if association_ids is not None else True


def cycle_figures(year: int, association_ids: list[int] | None, as_of: date | None = None) -> Rows:
    """The cycle of `year` as it stands: plans and reports published whenever (a report is
    published after the year ends), every response to the year's evaluation. Three grouped
    queries whatever the number of associations."""
    rows: Rows = {}
    for model, column in ((YearPlan, "plan_published"), (YearReport, "report_published")):
        published = db.session.scalars(
            select(model.association_id).where(
                _restrict(model.association_id, association_ids),
                model.year == year,
                model.published_at.is_not(None),
            )
        )
        for association_id in published:
            rows.setdefault(association_id, {})[column] = 1
    answered = db.session.execute(
        select(
            SurveyResponse.association_id,
            func.count(),
            func.count().filter(SurveyResponse.overall.in_(SATISFIED)),
        )
        .join(
            Survey,
            and_(
                Survey.id == SurveyResponse.survey_id,
                Survey.association_id == SurveyResponse.association_id,
            ),
        )
        .where(_restrict(SurveyResponse.association_id, association_ids), Survey.year == year)
        .group_by(SurveyResponse.association_id)
    )
    for association_id, responses, satisfied in answered:
        row = rows.setdefault(association_id, {})
        row["survey_responses"] = int(responses)
        row["satisfied_responses"] = int(satisfied or 0)
    return rows


def evaluation_satisfaction(association_ids, year: int) -> dict[int, tuple[Fraction, int]]:
    """{association id: (satisfaction in per cent, responses)} of the residents' evaluations
    of `year` with answers (one query)."""
    rows = db.session.execute(
        select(
            SurveyResponse.association_id,
            func.count(),
            func.count().filter(SurveyResponse.overall.in_(SATISFIED)),
        )
        .join(
            Survey,
            (Survey.id == SurveyResponse.survey_id)
            & (Survey.association_id == SurveyResponse.association_id),
        )
        .where(Survey.year == year, SurveyResponse.association_id.in_(list(association_ids)))
        .group_by(SurveyResponse.association_id)
    )
    return {
        association_id: (Fraction(satisfied * 100, responses), responses)
        for association_id, responses, satisfied in rows
        if responses
    }


def evaluation_columns(year: int) -> Subquery:
    """A subquery: per association with a residents' evaluation of `year` with answers, its
    satisfaction (`value_centi`, rounded as `manual.evaluation_centi`) and its number of answers."""
    responses = func.count()
    satisfied = func.count().filter(SurveyResponse.overall.in_(SATISFIED))
    return (
        select(
            SurveyResponse.association_id,
            # An integer on both databases (PostgreSQL's floor division gives a numeric).
            cast(func.floor(satisfied * 10_000 / func.nullif(responses, 0)), Integer).label(
                "value_centi"
            ),
            responses.label("responses"),
        )
        .join(
            Survey,
            (Survey.id == SurveyResponse.survey_id)
            & (Survey.association_id == SurveyResponse.association_id),
        )
        .where(Survey.year == year)
        .group_by(SurveyResponse.association_id)
        .subquery()
    )


register_group(
    FigureGroup(
        "governance",
        COLUMNS,
        cycle_figures,
        (YearPlan, YearReport, Survey, SurveyResponse),
        yearly=True,
    )
)
register_evaluation(
    EvaluationReaders(satisfaction=evaluation_satisfaction, columns=evaluation_columns)
)
