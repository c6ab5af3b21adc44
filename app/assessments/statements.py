"""The year's 目标管理责任书 (responsibility statement): the targets in force as it lists
them, and the signatures (names, dates, a scan of the signed paper) recorded per association."""

from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.assessments.models import ResponsibilityStatement
from app.assessments.problems import AssessmentError
from app.core import uploads
from app.core.clock import utcnow
from app.dashboards import definitions
from app.dashboards.targets import BUILT_IN, targets_in_force
from app.extensions import db
from tenants.models import Association

# --- 目标管理责任书 ----------------------------------------------------------------------------


def target_lines(association: Association, year: int) -> list[dict]:
    """The targets in force as the statement lists them: [{"key", "name", "value"}]."""
    targets = targets_in_force(association, year)
    lines = []
    for key, kind in BUILT_IN.items():
        value = getattr(targets, key)
        text = definitions.target_text(value) if kind.measure == "share" else str(value)
        lines.append({"key": key, "name": None, "value": text})
    for own in targets.own:
        value = f"{(Decimal(own.value_centi) / 100).normalize():f}"
        lines.append({"key": own.key, "name": own.name, "value": f"{value} {own.unit}".strip()})
    return lines


def load_statement(year: int) -> ResponsibilityStatement | None:
    return db.session.scalar(
        select(ResponsibilityStatement).where(ResponsibilityStatement.year == year)
    )


def record_statement(
    association: Association,
    year: int,
    *,
    upper_signatory: str,
    upper_signed_on: date | None,
    own_signatory: str,
    own_signed_on: date | None,
    file,
    user_id: int | None,
) -> ResponsibilityStatement:
    """Record the signatures of the year's statement, with the targets as they stand now."""
    problems = {}
    if not upper_signatory.strip():
        problems["upper_signatory"] = _l("Name who signed for the level above.")
    if not own_signatory.strip():
        problems["own_signatory"] = _l("Name who signed for this association.")
    if upper_signed_on is None:
        problems["upper_signed_on"] = _l("Enter the date it was signed.")
    if own_signed_on is None:
        problems["own_signed_on"] = _l("Enter the date it was signed.")
    if problems:
        first = next(iter(problems.items()))
        raise AssessmentError(first[1], field=first[0])
    stored_file_id = None
    if file is not None and getattr(file, "filename", None):
        try:
            stored = uploads.store_upload(
                file, uploads.EVIDENCE, association_id=association.id, uploaded_by_id=user_id
            )
        except uploads.UploadRejected as rejected:
            raise AssessmentError(rejected.message, status=rejected.status, field="file") from None
        stored_file_id = stored.id
    lines = target_lines(association, year)
    statement = load_statement(year)
    if statement is None:
        statement = ResponsibilityStatement(year=year)
        db.session.add(statement)
    if stored_file_id is not None:
        statement.stored_file_id = stored_file_id
    statement.targets = lines
    statement.upper_signatory = upper_signatory.strip()[:60]
    statement.upper_signed_on = upper_signed_on
    statement.own_signatory = own_signatory.strip()[:60]
    statement.own_signed_on = own_signed_on
    statement.recorded_by_id = user_id
    statement.recorded_at = utcnow()
    db.session.flush()
    return statement


def target_name(key: str):
    """A built-in target's translated name (an own target's name is stored with it)."""
    kind = BUILT_IN.get(key)
    return kind.label if kind else key
