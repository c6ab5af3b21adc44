"""The subtree's view of a form: the sum of the accepted reports below a level (the export's
total row), and the forms past their deadline that associations of the subtree have not
filed."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.reports.models import Report, ReportForm, ReportState
from app.reports.values import FILED, summed_keys
from tenants.context import subtree_reads
from tenants.models import Association, AssociationKind
from tenants.tree import subtree_bounds

GRASSROOTS_KINDS = tuple(kind for kind in AssociationKind if kind.is_grassroots)


def subtree_sum(form: ReportForm, association: Association) -> tuple[dict[str, int], int]:
    """The sum of the accepted reports of the association's subtree below it, and how many
    there are (the export's total row). Only the values are read: no report objects."""
    low, high = subtree_bounds(association.path)
    with subtree_reads():
        rows = db.session.execute(
            select(Report.values)
            .join(Association, Association.id == Report.association_id)
            .where(
                Report.form_id == form.id,
                Report.state == ReportState.ACCEPTED,
                Association.path >= low,
                Association.path < high,
                Association.kind.in_(GRASSROOTS_KINDS),
            )
        ).scalars()
        keys = summed_keys(form)
        totals = dict.fromkeys(keys, 0)
        count = 0
        for values in rows:
            count += 1
            for key in keys:
                value = (values or {}).get(key)
                if isinstance(value, int):
                    totals[key] += value
    return totals, count


@dataclass
class LateForm:
    form: ReportForm
    owner: Association
    late: int  # associations of this subtree that have not filed, past the deadline
    expected: int


def late_reports(association: Association, today: date) -> list[LateForm]:
    """Forms past their deadline (in the last year) that associations of this subtree have not
    filed: those of the levels above and of this subtree. Four queries whatever the count."""
    low, high = subtree_bounds(association.path)
    owners = select(Association.id).where(Association.path >= low, Association.path < high)
    forms = list(
        db.session.scalars(
            select(ReportForm)
            .where(
                ReportForm.deadline_on < today,
                ReportForm.deadline_on >= today - timedelta(days=366),
                ReportForm.association_id.in_(association.ancestor_ids)
                | ReportForm.association_id.in_(owners),
            )
            .order_by(ReportForm.deadline_on.desc())
        )
    )
    if not forms:
        return []
    owners_by_id = {
        owner.id: owner
        for owner in db.session.scalars(
            select(Association).where(Association.id.in_({f.association_id for f in forms}))
        )
    }
    with subtree_reads():
        filed = dict(
            db.session.execute(
                select(Report.form_id, func.count(func.distinct(Report.association_id)))
                .where(Report.form_id.in_([f.id for f in forms]), Report.state.in_(FILED))
                .group_by(Report.form_id)
            ).all()
        )
    # Who files each form here: everyone of this subtree below the form's owner.
    here = db.session.scalar(
        select(func.count(Association.id)).where(Association.path >= low, Association.path < high)
    )
    below = {owner.id for owner in owners_by_id.values() if owner.id != association.id}
    below -= set(association.ancestor_ids)
    area = aliased(Association)
    sizes = dict(
        db.session.execute(
            select(Association.id, func.count(area.id))
            .join(area, area.path.startswith(Association.path))
            .where(Association.id.in_(below))
            .group_by(Association.id)
        ).all()
        if below
        else []
    )
    result = []
    for form in forms:
        owner = owners_by_id.get(form.association_id)
        if owner is None:
            continue
        if owner.id in sizes:
            expected = sizes[owner.id] - 1
        else:
            expected = (here or 0) - (1 if owner.id == association.id else 0)
        late = expected - filed.get(form.id, 0)
        if late > 0:
            result.append(LateForm(form, owner, late, expected))
    return result
