"""Supervision (监督) of the self-governance cycle by the level above: its comments on a plan, and
where each association below stands in the year's cycle (plans and reports published, residents'
satisfaction), per child and rolled up over the subtree."""

from dataclasses import dataclass
from fractions import Fraction

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.dashboards.definitions import share
from app.dashboards.rollup import Figures, read_dashboard
from app.extensions import db
from app.governance.models import SupervisionComment
from app.governance.plans import GovernanceError
from app.oversight.overseeing import may_act_on as may_supervise  # oversight, no role in it
from tenants.access import access_for
from tenants.context import scope_for, tenant_context
from tenants.models import Association

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

    @classmethod
    def of(cls, figures: Figures) -> "CycleFigures":
        return cls(
            associations=figures.associations,
            plans_published=figures.plans_published,
            reports_published=figures.reports_published,
            responses=figures.survey_responses,
            satisfied=figures.satisfied_responses,
        )


def cycle_below(association: Association, year: int) -> tuple[list, CycleFigures]:
    """Each direct child with its subtree's plans and reports published and its residents'
    satisfaction, and the same over the whole subtree (itself included): the dashboard's
    stored sums (app/governance/figures.py), two queries whatever the size of the tree.
    Satisfaction rolls up as satisfied ÷ responses, not as an average of rates. Run inside
    subtree_reads()."""
    dashboard = read_dashboard(association, year)
    rows = [(row.association, CycleFigures.of(row.figures)) for row in dashboard.children]
    return rows, CycleFigures.of(dashboard.total)
