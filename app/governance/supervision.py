"""Supervision (监督) of the self-governance cycle by the level above: its comments on a plan, and
where each association below stands in the year's cycle (plans and reports published, residents'
satisfaction), per child and rolled up over the subtree."""

from dataclasses import dataclass
from fractions import Fraction

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.dashboards.definitions import share
from app.extensions import db
from app.governance.models import (
    SupervisionComment,
    Survey,
    SurveyResponse,
    YearPlan,
    YearReport,
)
from app.governance.plans import GovernanceError
from app.governance.surveys import SATISFIED
from app.oversight.services import may_act_on as may_supervise  # oversight, no role in it
from tenants.access import access_for
from tenants.context import scope_for, tenant_context
from tenants.models import Association
from tenants.tree import subtree_filter

# --- supervision (监督) -----------------------------------------------------------------------


def comment_from_above(
    association: Association, year: int, body: str, *, author_id: int
) -> SupervisionComment:
    """The level above comments on the plan of a year: checked against the author's own
    oversight, then written in a writable scope of the association commented on only."""
    access = access_for(author_id, association)
    if not may_supervise(access):
        raise GovernanceError(
            _l("Only a higher association overseeing this one can comment on its plan."),
            status=403,
        )
    if not body.strip():
        raise GovernanceError(_l("Write the comment."), field="body")
    with tenant_context(scope_for(association, writable=True)):
        comment = SupervisionComment(
            year=year,
            body=body.strip(),
            author_id=author_id,
            author_association_id=access.oversight_from.id,
        )
        db.session.add(comment)
        db.session.flush()
    return comment


def supervision_comments(year: int) -> list[SupervisionComment]:
    return list(
        db.session.scalars(
            select(SupervisionComment)
            .where(SupervisionComment.year == year)
            .order_by(SupervisionComment.id)
        )
    )


# --- the view from above (监督): each association below and the subtree in total -------------


@dataclass
class CycleFigures:
    """Where a subtree stands in the year's cycle."""

    associations: int = 0
    plans_published: int = 0
    reports_published: int = 0
    responses: int = 0
    satisfied: int = 0

    @property
    def satisfaction(self) -> Fraction | None:
        return share(self.satisfied, self.responses)

    def add(self, other: "CycleFigures") -> None:
        self.associations += other.associations
        self.plans_published += other.plans_published
        self.reports_published += other.reports_published
        self.responses += other.responses
        self.satisfied += other.satisfied


def cycle_below(association: Association, year: int) -> tuple[list, CycleFigures]:
    """Each direct child with its subtree's plans and reports published and its residents'
    satisfaction, and the same over the whole subtree (itself included). Five queries whatever
    the size of the tree; every answer of the subtree counts once in the total (satisfaction
    rolls up as satisfied ÷ responses, not as an average of rates). Run inside
    subtree_reads()."""
    depth = len(association.path.strip("/").split("/"))
    children = list(
        db.session.scalars(
            select(Association)
            .where(Association.parent_id == association.id)
            .order_by(Association.name)
        )
    )
    paths = dict(
        db.session.execute(
            select(Association.id, Association.path).where(subtree_filter(association.path))
        ).all()
    )
    per_association: dict[int, CycleFigures] = {i: CycleFigures(associations=1) for i in paths}
    for (association_id,) in db.session.execute(
        select(YearPlan.association_id).where(
            YearPlan.year == year, YearPlan.published_at.is_not(None)
        )
    ):
        per_association[association_id].plans_published += 1
    for (association_id,) in db.session.execute(
        select(YearReport.association_id).where(
            YearReport.year == year, YearReport.published_at.is_not(None)
        )
    ):
        per_association[association_id].reports_published += 1
    answered = db.session.execute(
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
        .where(Survey.year == year)
        .group_by(SurveyResponse.association_id)
    )
    for association_id, responses, satisfied in answered:
        per_association[association_id].responses += responses
        per_association[association_id].satisfied += satisfied
    rows = {child.id: CycleFigures() for child in children}
    total = CycleFigures()
    for association_id, figures in per_association.items():
        total.add(figures)
        parts = paths[association_id].strip("/").split("/")
        if len(parts) > depth and int(parts[depth]) in rows:
            rows[int(parts[depth])].add(figures)
    return [(child, rows[child.id]) for child in children], total


def cycle_total(association: Association, year: int) -> CycleFigures:
    """The subtree's totals of `cycle_below` in four counts, for the dashboard tile: no row per
    association comes back to Python (a province's tile read 21,622 of them, 290 ms a view).
    Run inside subtree_reads(): the scope keeps the counts to the subtree."""
    total = CycleFigures()
    total.associations = db.session.scalar(
        select(func.count()).select_from(Association).where(subtree_filter(association.path))
    )
    total.plans_published = db.session.scalar(
        select(func.count())
        .select_from(YearPlan)
        .where(YearPlan.year == year, YearPlan.published_at.is_not(None))
    )
    total.reports_published = db.session.scalar(
        select(func.count())
        .select_from(YearReport)
        .where(YearReport.year == year, YearReport.published_at.is_not(None))
    )
    total.responses, total.satisfied = db.session.execute(
        select(func.count(), func.count().filter(SurveyResponse.overall.in_(SATISFIED)))
        .join(
            Survey,
            (Survey.id == SurveyResponse.survey_id)
            & (Survey.association_id == SurveyResponse.association_id),
        )
        .where(Survey.year == year)
    ).one()
    return total
