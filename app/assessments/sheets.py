"""The scoring sheets a level publishes for a year and a kind of association below it: their
items (scored by hand or from the figures), and publishing with the date self-assessments are
due, told to every association of that kind below."""

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.assessments import notices
from app.assessments.models import AssessmentSheet, Rule, SheetItem
from app.assessments.points import MAX_ITEM_TENTHS, parse_points
from app.assessments.problems import AssessmentError
from app.core import audit
from app.core.clock import utcnow
from app.extensions import db
from tenants.context import subtree_reads
from tenants.models import Association, AssociationKind
from tenants.tree import subtree_bounds


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
