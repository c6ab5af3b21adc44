"""The yearly assessment (考核): sheets, self-assessment, scoring, closing with a ranking, model
associations (示范协会) and the 目标管理责任书.

A level publishes a sheet for a year and a kind of association below it; every association of
that kind in its subtree is assessed against the items of all published sheets on its path
(a lower level inherits its ancestors' sheets and adds its own items). Items scored from the
figures are computed with the figures' one definition (app/dashboards) and the targets in force
at the association; the rest are claimed with evidence. The association submits; the level
directly above scores each item (or sends the assessment back); when that level closes the
year, every assessment of its children of that kind is frozen with its rank among them.

States: draft → submitted → scored | returned; returned → submitted; scored → submitted is
not possible (the scorer may score again until closing); any → closed at closing.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

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
from app.core import audit, uploads
from app.core.models import utcnow
from app.dashboards import definitions, periods, rollup
from app.dashboards.targets import BUILT_IN, Targets, targets_in_force
from app.extensions import db
from tenants.context import subtree_reads
from tenants.models import Association, AssociationKind
from tenants.tree import subtree_bounds

MAX_ITEM_TENTHS = 1000  # 100 points
RULE_LABELS = {
    Rule.MANUAL: _l("Scored by hand, with evidence"),
    Rule.QIYOU: _l("七有 qualified (share of qualified grassroots associations)"),
    Rule.ACTIVE_QUARTERS: _l("A quarter of the points per quarter meeting the activity target"),
    Rule.ACTIVITIES_YEAR: _l("Activities in the year reach the target"),
    Rule.MEMBER_RATIO: _l("Member ratio reaches the target"),
    Rule.COLLECTION_RATE: _l("Dues collection rate reaches the target"),
    Rule.LINKAGE: _l("Linkage coverage reaches the target"),
}
STATE_LABELS = {
    State.DRAFT: _l("not submitted"),
    State.SUBMITTED: _l("submitted, waiting for scoring"),
    State.RETURNED: _l("sent back"),
    State.SCORED: _l("scored"),
    State.CLOSED: _l("closed"),
}
EDITABLE = frozenset({State.DRAFT, State.RETURNED})


class AssessmentError(ValueError):
    """A step the rules do not allow: `message` is translated; `field` names the form field."""

    def __init__(self, message, status: int = 422, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


# --- points -----------------------------------------------------------------------------------


def parse_points(text: str | None, *, maximum: int, field_name: str) -> int | None:
    """ "2.5" → 25 tenths; blank → None; refuses anything else, below 0 or above `maximum`."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise AssessmentError(_l("Enter points as a number, e.g. 2.5."), field=field_name) from None
    if not value.is_finite() or value != value.quantize(Decimal("0.1")):
        raise AssessmentError(_l("Points are counted in tenths, e.g. 2.5."), field=field_name)
    tenths = int(value * 10)
    if tenths < 0 or tenths > maximum:
        raise AssessmentError(
            _l("Enter between 0 and %(max)s points.", max=points_text(maximum)), field=field_name
        )
    return tenths


def points_text(tenths: int | None) -> str:
    if tenths is None:
        return "—"
    return f"{tenths // 10}" if tenths % 10 == 0 else f"{tenths // 10}.{tenths % 10}"


def _share_of(points_tenths: int, part: int, whole: int) -> int:
    """points × part / whole in tenths, rounded half up."""
    if whole <= 0:
        return 0
    return (2 * points_tenths * part + whole) // (2 * whole)


# --- figures ----------------------------------------------------------------------------------


def figures_of(association: Association, year: int) -> rollup.Figures:
    """The association's (subtree's) figures for the year: the frozen ones once the year's Q4
    is closed, the live ones before."""
    with subtree_reads():
        if periods.is_closed(year, 4):
            closed = periods.read_period(association, year, 4)
            if closed is not None:
                return closed.dashboard.total
        figures, _as_of = rollup.read_total(association, year)
    return figures


@dataclass(frozen=True)
class AutoScore:
    tenths: int
    detail: str  # what the figure was, against which target


def auto_score(rule: Rule, points_tenths: int, figures: rollup.Figures, targets: Targets):
    """The points an item scored from the figures earns (None for a manual item)."""
    full = points_tenths

    def reaches(value: Fraction | None, target: Fraction, label) -> AutoScore:
        earned = full if value is not None and value >= target else 0
        return AutoScore(
            earned,
            str(
                _l(
                    "%(figure)s %(value)s (target %(target)s)",
                    figure=label,
                    value=definitions.percent_text(value),
                    target=definitions.target_text(target),
                )
            ),
        )

    if rule == Rule.QIYOU:
        return AutoScore(
            _share_of(full, figures.qualified, figures.grassroots),
            str(
                _l(
                    "七有 qualified: %(qualified)d of %(grassroots)d",
                    qualified=figures.qualified,
                    grassroots=figures.grassroots,
                )
            ),
        )
    if rule == Rule.ACTIVE_QUARTERS:
        met = sum(1 for count in figures.quarters if count >= targets.activities_per_quarter)
        return AutoScore(
            _share_of(full, met, 4),
            str(
                _l(
                    "Quarters with at least %(target)d activity: %(met)d of 4",
                    target=targets.activities_per_quarter,
                    met=met,
                )
            ),
        )
    if rule == Rule.ACTIVITIES_YEAR:
        earned = full if figures.activities >= targets.activities_per_year else 0
        return AutoScore(
            earned,
            str(
                _l(
                    "Activities: %(count)d (target %(target)d)",
                    count=figures.activities,
                    target=targets.activities_per_year,
                )
            ),
        )
    if rule == Rule.MEMBER_RATIO:
        return reaches(figures.member_ratio, targets.member_ratio, BUILT_IN["member_ratio"].label)
    if rule == Rule.COLLECTION_RATE:
        return reaches(
            figures.collection_rate, targets.collection_rate, BUILT_IN["collection_rate"].label
        )
    if rule == Rule.LINKAGE:
        return reaches(
            figures.linkage_coverage, targets.linkage_coverage, BUILT_IN["linkage_coverage"].label
        )
    return None


# --- sheets (the publishing level) -------------------------------------------------------------


def assessable_kinds(level: Association) -> list[AssociationKind]:
    """The kinds a level may publish a sheet for: every kind below its own level."""
    return [kind for kind in AssociationKind if kind.level > level.level]


def sheets_of(level: Association, year: int) -> list[AssessmentSheet]:
    return list(
        db.session.scalars(
            select(AssessmentSheet)
            .where(AssessmentSheet.association_id == level.id, AssessmentSheet.year == year)
            .order_by(AssessmentSheet.kind)
        )
    )


def load_sheet(level: Association, sheet_id: int) -> AssessmentSheet | None:
    """A sheet of this level only: another level's id is not found."""
    return db.session.scalar(
        select(AssessmentSheet).where(
            AssessmentSheet.id == sheet_id, AssessmentSheet.association_id == level.id
        )
    )


def sheet_items(sheet: AssessmentSheet) -> list[SheetItem]:
    return list(
        db.session.scalars(
            select(SheetItem).where(SheetItem.sheet_id == sheet.id).order_by(SheetItem.position)
        )
    )


def create_sheet(
    level: Association, *, year: int, kind: str, title: str, user_id: int | None
) -> AssessmentSheet:
    if kind not in {k.value for k in assessable_kinds(level)}:
        raise AssessmentError(_l("Choose a kind of association below this one."), field="kind")
    title = title.strip()
    if not title:
        raise AssessmentError(_l("Give the sheet a title."), field="title")
    existing = db.session.scalar(
        select(AssessmentSheet.id).where(
            AssessmentSheet.association_id == level.id,
            AssessmentSheet.year == year,
            AssessmentSheet.kind == kind,
        )
    )
    if existing is not None:
        raise AssessmentError(
            _l("This level already has a sheet for that kind and year."), field="kind"
        )
    sheet = AssessmentSheet(
        association_id=level.id, year=year, kind=kind, title=title[:120], created_by_id=user_id
    )
    db.session.add(sheet)
    db.session.flush()
    return sheet


def _refuse_if_published(sheet: AssessmentSheet) -> None:
    if sheet.published_at is not None:
        raise AssessmentError(
            _l("A published sheet cannot be changed: the associations are assessed against it.")
        )


def add_item(
    sheet: AssessmentSheet, *, title: str, points: str, rule: str, guidance: str
) -> SheetItem:
    _refuse_if_published(sheet)
    title = title.strip()
    if not title:
        raise AssessmentError(_l("Say what the item scores."), field="title")
    if rule not in {r.value for r in Rule}:
        raise AssessmentError(_l("Choose how the item is scored."), field="rule")
    tenths = parse_points(points, maximum=MAX_ITEM_TENTHS, field_name="points")
    if not tenths:
        raise AssessmentError(_l("An item is worth more than 0 points."), field="points")
    position = len(sheet_items(sheet)) + 1
    item = SheetItem(
        sheet_id=sheet.id,
        position=position,
        title=title[:200],
        points_tenths=tenths,
        rule=Rule(rule),
        guidance=guidance.strip()[:2000],
    )
    db.session.add(item)
    db.session.flush()
    return item


def remove_item(sheet: AssessmentSheet, item_id: int) -> None:
    _refuse_if_published(sheet)
    item = db.session.scalar(
        select(SheetItem).where(SheetItem.id == item_id, SheetItem.sheet_id == sheet.id)
    )
    if item is None:
        raise AssessmentError(_l("There is no such item."), status=404)
    db.session.delete(item)
    db.session.flush()


def publish(
    sheet: AssessmentSheet,
    level: Association,
    *,
    user_id: int | None,
    due_on: date | None,
    today: date,
) -> None:
    """Publish the sheet with the date self-assessments are due: it is fixed from now on, and
    every association of its kind below hears of it (and is reminded before and after the
    due date: app/assessments/reminders.py)."""
    _refuse_if_published(sheet)
    if not sheet_items(sheet):
        raise AssessmentError(_l("Add at least one item before publishing."))
    if due_on is None:
        raise AssessmentError(_l("Set the date self-assessments are due."), field="due_on")
    if due_on < today:
        raise AssessmentError(_l("The due date cannot be in the past."), field="due_on")
    sheet.due_on = due_on
    sheet.published_at = utcnow()
    sheet.published_by_id = user_id
    audit.record(
        "assessment_sheet_published",
        association_id=level.id,
        user_id=user_id,
        sheet=sheet.id,
        year=sheet.year,
        kind=sheet.kind,
        due_on=due_on.isoformat(),
    )
    db.session.flush()
    notices.sheet_published(sheet, level, _secretaries_of_kind_below(level, sheet.kind))


def _secretaries_of_kind_below(level: Association, kind: str):
    """[(association, its secretaries)] of every association of `kind` below the level, in
    three queries. Run with the level as the request's association."""
    low, high = subtree_bounds(level.path)
    associations = list(
        db.session.scalars(
            select(Association)
            .where(Association.kind == kind, Association.path >= low, Association.path < high)
            .order_by(Association.path)
        )
    )
    with subtree_reads():
        found = notices.secretaries_below([association.id for association in associations])
    return [(a, found[a.id]) for a in associations if a.id in found]


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
    from sqlalchemy.orm import selectinload

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
