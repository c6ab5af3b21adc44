"""The yearly assessment's results as one .xlsx: every assessed association of the subtree with
its state, self-assessment, score, rank and whether it was named a model association (示范协会)."""

import io

from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select

from app.assessments.models import Assessment, ModelAssociation
from app.assessments.points import points_text
from app.assessments.self_assessment import STATE_LABELS
from app.core.labels import KIND_LABELS
from app.core.spreadsheets import safe_cell
from app.extensions import db
from tenants.models import Association


def result_rows(year: int) -> list[tuple]:
    """(association, its parent's name, assessment, model or None) for every assessment of the
    subtree, by parent then rank: three queries. Run inside subtree_reads()."""
    rows = db.session.execute(
        select(Assessment, Association)
        .join(Association, Association.id == Assessment.association_id)
        .where(Assessment.year == year)
        .order_by(Association.parent_id, Assessment.rank, Association.name)
    ).all()
    models = {
        model.association_id: model
        for model in db.session.scalars(
            select(ModelAssociation).where(ModelAssociation.year == year)
        )
    }
    parent_ids = {association.parent_id for _a, association in rows if association.parent_id}
    parents = dict(
        db.session.execute(
            select(Association.id, Association.name).where(Association.id.in_(parent_ids))
        ).all()
    )
    return [
        (
            association,
            parents.get(association.parent_id, ""),
            assessment,
            models.get(association.id),
        )
        for assessment, association in rows
    ]


def results_workbook(level: Association, year: int, rows: list[tuple]) -> bytes:
    with force_locale("zh_Hans_CN"):
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = _("Assessment results")
        sheet.append(
            [
                _("Under"),
                _("Association"),
                _("Kind"),
                _("State"),
                _("Self-assessment"),
                _("Score"),
                _("Rank"),
                _("Ranked among"),
                _("Model associations (示范协会)"),
                _("Citation"),
            ]
        )
        for association, parent, assessment, model in rows:
            sheet.append(
                [
                    safe_cell(parent),
                    safe_cell(association.name),
                    str(KIND_LABELS[association.kind]),
                    str(STATE_LABELS[assessment.state]),
                    _number(assessment.self_tenths),
                    _number(assessment.score_tenths),
                    assessment.rank,
                    assessment.ranked_among,
                    _("yes") if model else "",
                    safe_cell(model.citation) if model else "",
                ]
            )
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        sheet.column_dimensions["A"].width = 24
        sheet.column_dimensions["B"].width = 28
        workbook.properties.title = _(
            "%(name)s assessment results %(year)d", name=level.name, year=year
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _number(tenths: int | None) -> float | None:
    return None if tenths is None else float(points_text(tenths))
