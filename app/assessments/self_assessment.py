"""An association's own assessment (自评): the items of every sheet published on its path above
it (a lower level inherits its ancestors' sheets and adds its own items), points claimed with
evidence for the items scored by hand, and submitting to the level directly above, which
scores it (app/assessments/ranking.py).

States: draft → submitted → scored | returned; returned → submitted; scored → submitted is
not possible (the scorer may score again until closing); any → closed at closing.
"""

from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.activities.models import Activity
from app.assessments import notices
from app.assessments.models import (
    Assessment,
    AssessmentEntry,
    AssessmentSheet,
    ModelAssociation,
    Rule,
    SheetItem,
    State,
)
from app.assessments.points import AutoScore, auto_score, figures_of, parse_points
from app.assessments.problems import AssessmentError
from app.core import uploads
from app.core.clock import utcnow
from app.dashboards.targets import targets_in_force
from app.extensions import db
from tenants.models import Association

STATE_LABELS = {
    State.DRAFT: _l("not submitted"),
    State.SUBMITTED: _l("submitted, waiting for scoring"),
    State.RETURNED: _l("sent back"),
    State.SCORED: _l("scored"),
    State.CLOSED: _l("closed"),
}
EDITABLE = frozenset({State.DRAFT, State.RETURNED})

# --- what an association is assessed against -------------------------------------------------


@dataclass
class EffectiveItem:
    item: SheetItem
    publisher_name: str
    entry: AssessmentEntry | None = None
    auto: AutoScore | None = None  # live, before submission

    @property
    def manual(self) -> bool:
        return self.item.rule == Rule.MANUAL


def effective_items(association: Association, year: int) -> list[tuple[SheetItem, str]]:
    """Every item of the sheets published on the association's path above it for its kind,
    the root's first (one query)."""
    above = association.ancestor_ids[:-1]
    if not above:
        return []
    rows = db.session.execute(
        select(SheetItem, Association.name, Association.depth)
        .join(AssessmentSheet, AssessmentSheet.id == SheetItem.sheet_id)
        .join(Association, Association.id == AssessmentSheet.association_id)
        .where(
            AssessmentSheet.association_id.in_(above),
            AssessmentSheet.year == year,
            AssessmentSheet.kind == association.kind.value,
            AssessmentSheet.published_at.is_not(None),
        )
        .order_by(Association.depth, SheetItem.position)
    ).all()
    return [(item, name) for item, name, _depth in rows]


def load_assessment(year: int) -> Assessment | None:
    """The current association's assessment for the year, with its entries."""
    return db.session.scalar(
        select(Assessment).where(Assessment.year == year).options(selectinload(Assessment.entries))
    )


def _ensure_assessment(year: int) -> Assessment:
    assessment = load_assessment(year)
    if assessment is None:
        assessment = Assessment(year=year, state=State.DRAFT, entries=[])
        db.session.add(assessment)
        db.session.flush()
    return assessment


@dataclass
class AssessmentView:
    association: Association
    year: int
    items: list[EffectiveItem]
    assessment: Assessment | None
    model: ModelAssociation | None
    activities: list[Activity] = field(default_factory=list)
    due_on: date | None = None  # the self-assessment's due date (due_date_of)

    @property
    def state(self) -> State:
        return self.assessment.state if self.assessment else State.DRAFT

    @property
    def editable(self) -> bool:
        return self.state in EDITABLE

    @property
    def total_tenths(self) -> int:
        return sum(view.item.points_tenths for view in self.items)

    @property
    def claimed_tenths(self) -> int:
        total = 0
        for view in self.items:
            if self.editable and view.auto is not None:
                total += view.auto.tenths
            elif view.entry is not None and view.entry.claimed_tenths is not None:
                total += view.entry.claimed_tenths
        return total


def assessment_view(association: Association, year: int) -> AssessmentView:
    """The association's own assessment page: run in its own scope. The figures are computed
    only while the assessment can still change; after submission the stored values count."""
    assessment = load_assessment(year)
    entries = {e.sheet_item_id: e for e in assessment.entries} if assessment else {}
    items = [
        EffectiveItem(item, name, entries.get(item.id))
        for item, name in effective_items(association, year)
    ]
    state = assessment.state if assessment else State.DRAFT
    if items and state in EDITABLE and any(not view.manual for view in items):
        figures = figures_of(association, year)
        targets = targets_in_force(association, year)
        for view in items:
            view.auto = auto_score(view.item.rule, view.item.points_tenths, figures, targets)
    activities = []
    if items and state in EDITABLE:
        activities = list(
            db.session.scalars(
                select(Activity)
                .where(Activity.held_on >= date(year, 1, 1), Activity.held_on <= date(year, 12, 31))
                .order_by(Activity.held_on.desc())
                .limit(200)
            )
        )
    model = db.session.scalar(select(ModelAssociation).where(ModelAssociation.year == year))
    due_on = due_date_of(association, year) if items else None
    return AssessmentView(association, year, items, assessment, model, activities, due_on)


def due_date_of(association: Association, year: int) -> date | None:
    """When the association's self-assessment is due: the date set by the nearest level above
    that published a sheet for its kind and the year (the level that scores it, or the one
    closest to it), one query."""
    above = association.ancestor_ids[:-1]
    if not above:
        return None
    return db.session.scalar(
        select(AssessmentSheet.due_on)
        .join(Association, Association.id == AssessmentSheet.association_id)
        .where(
            AssessmentSheet.association_id.in_(above),
            AssessmentSheet.year == year,
            AssessmentSheet.kind == association.kind.value,
            AssessmentSheet.published_at.is_not(None),
            AssessmentSheet.due_on.is_not(None),
        )
        .order_by(Association.depth.desc())
        .limit(1)
    )


# --- the association's steps ------------------------------------------------------------------


def _editable(association: Association, year: int) -> tuple[Assessment, dict[int, SheetItem]]:
    items = {item.id: item for item, _name in effective_items(association, year)}
    if not items:
        raise AssessmentError(_l("No scoring sheet has been published for this year."))
    assessment = _ensure_assessment(year)
    if assessment.state not in EDITABLE:
        raise AssessmentError(
            _l(
                "The assessment is %(state)s: it cannot be changed now.",
                state=STATE_LABELS[assessment.state],
            ),
            status=409,
        )
    return assessment, items


def claim(
    association: Association,
    year: int,
    *,
    item_id: int | None,
    points: str,
    note: str,
    file,
    activity_id: int | None,
    user_id: int | None,
) -> AssessmentEntry:
    """Claim points for a manual item, with evidence: an uploaded file or one of the year's
    activities (a new file replaces the earlier one while the assessment is a draft)."""
    assessment, items = _editable(association, year)
    item = items.get(item_id or 0)
    if item is None:
        raise AssessmentError(_l("There is no such item on this year's sheet."), field="item")
    if item.rule != Rule.MANUAL:
        raise AssessmentError(
            _l("This item is scored from the figures: there is nothing to claim."), field="item"
        )
    tenths = parse_points(points, maximum=item.points_tenths, field_name="points")
    entry = next((e for e in assessment.entries if e.sheet_item_id == item.id), None)
    if entry is None:
        entry = AssessmentEntry(assessment=assessment, sheet_item_id=item.id)
        db.session.add(entry)
    if activity_id:
        found = db.session.scalar(
            select(Activity.id).where(
                Activity.id == activity_id,
                Activity.held_on >= date(year, 1, 1),
                Activity.held_on <= date(year, 12, 31),
            )
        )
        if found is None:
            raise AssessmentError(_l("Choose one of this year's activities."), field="activity")
    if file is not None and getattr(file, "filename", None):
        try:
            stored = uploads.store_upload(
                file, uploads.EVIDENCE, association_id=association.id, uploaded_by_id=user_id
            )
        except uploads.UploadRejected as rejected:
            raise AssessmentError(rejected.message, status=rejected.status, field="file") from None
        entry.stored_file_id = stored.id
    entry.activity_id = activity_id or None
    entry.claimed_tenths = tenths
    entry.note = note.strip()[:2000]
    if tenths and entry.stored_file_id is None and entry.activity_id is None:
        raise AssessmentError(
            _l("Claimed points need evidence: upload a file or choose an activity."),
            field="file",
        )
    db.session.flush()
    return entry


def submit(association: Association, year: int, *, user_id: int | None) -> Assessment:
    """Submit for scoring: the items scored from the figures are filled as they stand now,
    every claim must carry its evidence."""
    assessment, items = _editable(association, year)
    entries = {e.sheet_item_id: e for e in assessment.entries}
    figures = targets = None
    total = 0
    for item in items.values():
        entry = entries.get(item.id)
        if entry is None:
            entry = AssessmentEntry(assessment=assessment, sheet_item_id=item.id)
            db.session.add(entry)
            entries[item.id] = entry
        if item.rule == Rule.MANUAL:
            if entry.claimed_tenths and entry.stored_file_id is None and entry.activity_id is None:
                raise AssessmentError(
                    _l("“%(item)s” has points claimed without evidence.", item=item.title)
                )
        else:
            if figures is None:
                figures = figures_of(association, year)
                targets = targets_in_force(association, year)
            auto = auto_score(item.rule, item.points_tenths, figures, targets)
            entry.claimed_tenths = auto.tenths
            entry.note = auto.detail
        total += entry.claimed_tenths or 0
    assessment.state = State.SUBMITTED
    assessment.submitted_at = utcnow()
    assessment.self_tenths = total
    db.session.flush()
    notices.submitted(association, assessment)
    return assessment
