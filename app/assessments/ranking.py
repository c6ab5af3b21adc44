"""The level above's part of the yearly assessment (考核): scoring each association directly
below it (or sending its assessment back), its scoring list, closing the year with a ranking
among the children of one kind, naming model associations (示范协会) from that ranking, and
reading the namings from above. Rules shared with the association's own steps are in
app/assessments/points.py (points) and app/assessments/self_assessment.py (the sheets' items).
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.assessments import notices
from app.assessments.models import (
    Assessment,
    AssessmentClosing,
    AssessmentEntry,
    ModelAssociation,
    State,
)
from app.assessments.points import parse_points
from app.assessments.problems import AssessmentError
from app.assessments.self_assessment import effective_items, load_assessment
from app.core.clock import utcnow
from app.extensions import db
from tenants.access import access_for
from tenants.context import scope_for, subtree_reads, tenant_context
from tenants.models import WRITE_ROLES, Association

# --- the level above --------------------------------------------------------------------------


def may_score(access) -> bool:
    """Only the level directly above scores, and nobody scores their own association."""
    parent_id = access.association.parent_id
    return (
        access.oversight_from is not None
        and access.oversight_from.id == parent_id
        and access.own_role not in WRITE_ROLES
    )


def score(
    association: Association,
    year: int,
    *,
    scorer_id: int,
    awards: dict[int, tuple[str, str]],
    comment: str,
    send_back: bool,
) -> Assessment:
    """Score every item (points and a comment each), or send the assessment back with a
    comment. Runs in a writable scope of the scored association only."""
    access = access_for(scorer_id, association)
    if not may_score(access):
        raise AssessmentError(
            _l("Only the level directly above this association scores its assessment."),
            status=403,
        )
    comment = comment.strip()
    with tenant_context(scope_for(association, writable=True)):
        assessment = load_assessment(year)
        if assessment is None or assessment.state not in (State.SUBMITTED, State.SCORED):
            raise AssessmentError(_l("There is no submitted assessment to score."), status=409)
        if send_back:
            if not comment:
                raise AssessmentError(
                    _l("Say what needs to change when sending the assessment back."),
                    field="comment",
                )
            if assessment.state != State.SUBMITTED:
                raise AssessmentError(_l("A scored assessment is not sent back."), status=409)
            assessment.state = State.RETURNED
            assessment.score_comment = comment
            db.session.flush()
            notices.returned(association, assessment, access.oversight_from, comment)
            return assessment
        items = {item.id: item for item, _name in effective_items(association, year)}
        entries = {e.sheet_item_id: e for e in assessment.entries}
        problems: dict[str, str] = {}
        awarded: dict[int, tuple[int, str]] = {}
        for item in items.values():
            points, item_comment = awards.get(item.id, ("", ""))
            try:
                tenths = parse_points(
                    points, maximum=item.points_tenths, field_name=f"points-{item.id}"
                )
            except AssessmentError as error:
                problems[error.field] = error.message
                continue
            if tenths is None:
                problems[f"points-{item.id}"] = _l("Score every item.")
                continue
            awarded[item.id] = (tenths, item_comment.strip()[:2000])
        if problems:
            first = next(iter(problems.items()))
            raise AssessmentError(first[1], field=first[0])
        for item_id, (tenths, item_comment) in awarded.items():
            entry = entries.get(item_id)
            if entry is None:
                entry = AssessmentEntry(assessment=assessment, sheet_item_id=item_id)
                db.session.add(entry)
            entry.awarded_tenths = tenths
            entry.comment = item_comment
        assessment.state = State.SCORED
        assessment.score_tenths = sum(tenths for tenths, _c in awarded.values())
        assessment.score_comment = comment
        assessment.scored_at = utcnow()
        assessment.scored_by_id = scorer_id
        db.session.flush()
        notices.scored(association, assessment, access.oversight_from)
    return assessment


@dataclass
class ChildRow:
    association: Association
    assessment: Assessment | None
    model: ModelAssociation | None

    @property
    def state(self) -> State:
        return self.assessment.state if self.assessment else State.DRAFT


@dataclass
class ScoringView:
    level: Association
    year: int
    kind: str | None
    kinds: list[str]
    rows: list[ChildRow]
    closing: AssessmentClosing | None
    points_tenths: int  # the sheet's total points for this kind at the children

    @property
    def pending(self) -> int:
        return sum(1 for row in self.rows if row.state == State.SUBMITTED)

    @property
    def ranking(self) -> list[ChildRow]:
        ranked = [row for row in self.rows if row.assessment and row.assessment.rank]
        return sorted(ranked, key=lambda row: (row.assessment.rank, row.association.name))


def scoring_view(level: Association, year: int, kind: str | None) -> ScoringView:
    """The level's children with their assessments: a fixed five queries whatever their
    number. Run with the level as the request's association."""
    children = list(
        db.session.scalars(
            select(Association).where(Association.parent_id == level.id).order_by(Association.name)
        )
    )
    kinds = sorted({child.kind.value for child in children})
    if kind not in kinds:
        kind = kinds[0] if kinds else None
    shown = [child for child in children if child.kind.value == kind]
    ids = [child.id for child in shown]
    with subtree_reads():
        assessments = {
            a.association_id: a
            for a in db.session.scalars(
                select(Assessment).where(
                    Assessment.association_id.in_(ids), Assessment.year == year
                )
            )
        }
        models = {
            m.association_id: m
            for m in db.session.scalars(
                select(ModelAssociation).where(
                    ModelAssociation.association_id.in_(ids), ModelAssociation.year == year
                )
            )
        }
        closing = db.session.scalar(
            select(AssessmentClosing).where(
                AssessmentClosing.association_id == level.id,
                AssessmentClosing.year == year,
                AssessmentClosing.kind == (kind or ""),
            )
        )
    points = 0
    if shown:
        points = sum(item.points_tenths for item, _name in effective_items(shown[0], year))
    return ScoringView(
        level=level,
        year=year,
        kind=kind,
        kinds=kinds,
        rows=[ChildRow(child, assessments.get(child.id), models.get(child.id)) for child in shown],
        closing=closing,
        points_tenths=points,
    )


def competition_ranks(scores: list[tuple[int, int]]) -> dict[int, int]:
    """{id: rank} for (id, score) pairs, highest first; equal scores share a rank (1, 2, 2, 4)."""
    ranks: dict[int, int] = {}
    ordered = sorted(scores, key=lambda pair: -pair[1])
    for position, (key, value) in enumerate(ordered, start=1):
        if position > 1 and value == ordered[position - 2][1]:
            ranks[key] = ranks[ordered[position - 2][0]]
        else:
            ranks[key] = position
    return ranks


def close(level: Association, year: int, kind: str, *, user_id: int | None) -> AssessmentClosing:
    """Freeze every assessment of the level's children of `kind` for the year, ranked by score.
    Refused while any waits for scoring; a child that never submitted is closed unranked."""
    view = scoring_view(level, year, kind)
    if view.kind != kind or not view.rows:
        raise AssessmentError(_l("There are no associations of that kind below."), field="kind")
    if view.closing is not None:
        raise AssessmentError(_l("This assessment is closed already."), status=409)
    if not view.points_tenths:
        raise AssessmentError(_l("No scoring sheet has been published for them this year."))
    if view.pending:
        raise AssessmentError(
            _l(
                "%(n)d assessment(s) still wait for scoring: score them or send them back.",
                n=view.pending,
            )
        )
    scored = [
        (row.association.id, row.assessment.score_tenths)
        for row in view.rows
        if row.state == State.SCORED
    ]
    if not scored:
        raise AssessmentError(_l("Nothing has been scored yet."))
    ranks = competition_ranks(scored)
    now = utcnow()
    for row in view.rows:
        with tenant_context(scope_for(row.association, writable=True)):
            assessment = row.assessment
            if assessment is None:
                assessment = Assessment(year=year, entries=[])
                db.session.add(assessment)
            assessment.rank = ranks.get(row.association.id)
            assessment.ranked_among = len(scored) if assessment.rank else None
            assessment.state = State.CLOSED
            assessment.closed_at = now
            db.session.flush()
    closing = AssessmentClosing(
        year=year, kind=kind, closed_at=now, closed_by_id=user_id, ranked=len(scored)
    )
    db.session.add(closing)
    db.session.flush()
    notices.closed(level, [row.association for row in view.rows], year, now)
    return closing


def name_model(
    level: Association, year: int, *, child_id: int | None, citation: str, user_id: int | None
) -> ModelAssociation:
    """Name a ranked child a model association (示范协会) for the year, with a citation."""
    citation = citation.strip()
    child = db.session.scalar(
        select(Association).where(
            Association.id == (child_id or 0), Association.parent_id == level.id
        )
    )
    if child is None:
        raise AssessmentError(_l("Choose an association from the ranking."), field="association")
    if not citation:
        raise AssessmentError(_l("Write the citation."), field="citation")
    with tenant_context(scope_for(child, writable=True)):
        assessment = db.session.scalar(select(Assessment).where(Assessment.year == year))
        if assessment is None or assessment.state != State.CLOSED or not assessment.rank:
            raise AssessmentError(
                _l("Only an association ranked in a closed assessment can be named."),
                field="association",
            )
        if db.session.scalar(select(ModelAssociation.id).where(ModelAssociation.year == year)):
            raise AssessmentError(
                _l(
                    "%(name)s is already a model association for %(year)d.",
                    name=child.name,
                    year=year,
                ),
                status=409,
            )
        model = ModelAssociation(
            year=year,
            citation=citation[:2000],
            rank=assessment.rank,
            score_tenths=assessment.score_tenths,
            named_by_association_id=level.id,
            named_by_id=user_id,
        )
        db.session.add(model)
        db.session.flush()
    notices.model_named(child, level, model)
    return model


# --- model associations, read from above ------------------------------------------------------


def model_of(year: int) -> ModelAssociation | None:
    """The current association's naming for the year, if it was named."""
    return db.session.scalar(select(ModelAssociation).where(ModelAssociation.year == year))


def model_marks() -> list[ModelAssociation]:
    return list(db.session.scalars(select(ModelAssociation).order_by(ModelAssociation.year.desc())))


def models_below(level: Association, year: int, children: list[Association]):
    """(count of model associations in the level's subtree, {child id: count in its subtree})
    in one query. Run inside subtree_reads()."""
    rows = db.session.execute(
        select(Association.id, Association.path)
        .join(ModelAssociation, ModelAssociation.association_id == Association.id)
        .where(ModelAssociation.year == year)
    ).all()
    per_child = {}
    for child in children:
        per_child[child.id] = sum(1 for _id, path in rows if path.startswith(child.path))
    return len(rows), per_child
