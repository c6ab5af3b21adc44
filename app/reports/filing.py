"""Filling and submitting a report: the association's open version (a correction is a new
version), the values typed in and checked by the form's rules, and submitting to the level
above."""

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.core import uploads
from app.core.clock import utcnow
from app.extensions import db
from app.reports import notices
from app.reports.catalogue import FIGURES
from app.reports.models import Report, ReportForm, ReportState
from app.reports.problems import ReportError, ReportInvalid
from app.reports.values import prefilled_values
from tenants.models import Association

MAX_NUMBER = 10**9


def latest_report(form: ReportForm, association: Association) -> Report | None:
    return db.session.scalar(
        select(Report)
        .where(Report.form_id == form.id, Report.association_id == association.id)
        .order_by(Report.version.desc())
        .limit(1)
    )


def start_report(form: ReportForm, association: Association, *, today: date) -> Report:
    """The association's report for a form of a level above: its open version, or a new one
    pre-filled (a correction when the last one was accepted: a new version, the accepted one
    kept as it was)."""
    latest = latest_report(form, association)
    if latest is not None and latest.state != ReportState.ACCEPTED:
        return latest
    if latest is not None:
        values, source = dict(latest.values), latest.figures_source
    else:
        values, source, _children = prefilled_values(form, association, today)
    report = Report(
        form_id=form.id,
        version=(latest.version + 1) if latest else 1,
        state=ReportState.DRAFT,
        values=values,
        figures_source=source,
        remarks=latest.remarks if latest else "",
        incomplete_reason="",
        decision_comment="",
    )
    db.session.add(report)
    db.session.flush()
    return report


def parse_values(form: ReportForm, report: Report, raw: dict[str, str]) -> tuple[dict, dict]:
    """The manual fields typed in (numbers as whole numbers, a choice among its options);
    a file field keeps its stored file. Returns (values, problems)."""
    values = dict(report.values or {})
    problems = {}
    for manual in form.fields:
        key, kind = manual["key"], manual["kind"]
        if kind == "file":
            continue
        text = (raw.get(key) or "").strip()
        if not text:
            values.pop(key, None)
            continue
        if kind == "number":
            try:
                number = int(text.replace(",", ""))
            except ValueError:
                problems[key] = _l("Enter a whole number.")
                continue
            if abs(number) > MAX_NUMBER:
                problems[key] = _l("That number is too large.")
                continue
            values[key] = number
        elif kind == "choice":
            if text not in manual.get("choices", []):
                problems[key] = _l("Choose one of the options.")
                continue
            values[key] = text
        else:
            values[key] = text[:500]
    return values, problems


def _label(form: ReportForm, key: str) -> str:
    if key.startswith("fig:"):
        figure = FIGURES.get(key[4:])
        return str(figure.label) if figure else key
    manual = form.field(key)
    return manual["label"] if manual else key


def check_values(form: ReportForm, values: dict) -> dict:
    """The form's checks and required fields on the values to submit: field → message."""
    problems = {}
    for manual in form.fields:
        if manual.get("required") and values.get(manual["key"]) in (None, ""):
            problems[manual["key"]] = _("%(field)s is required.", field=manual["label"])
    for check in form.checks:
        left, right = values.get(check["left"]), values.get(check.get("right") or "")
        message = None
        if check["kind"] == "ge0" and isinstance(left, int) and left < 0:
            message = _("%(field)s cannot be negative.", field=_label(form, check["left"]))
        elif (
            check["kind"] == "le"
            and isinstance(left, int)
            and isinstance(right, int)
            and left > right
        ):
            message = _(
                "%(left)s (%(a)d) cannot be more than %(right)s (%(b)d).",
                left=_label(form, check["left"]),
                right=_label(form, check["right"]),
                a=left,
                b=right,
            )
        elif check["kind"] == "required_if" and right not in (None, "") and left in (None, ""):
            message = _(
                "%(left)s is required when %(right)s is filled in.",
                left=_label(form, check["left"]),
                right=_label(form, check["right"]),
            )
        if message and check["left"] not in problems:
            problems[check["left"]] = message
    return problems


def save_report(
    report: Report,
    form: ReportForm,
    association: Association,
    *,
    raw: dict[str, str],
    files: dict,
    remarks: str,
    reason: str,
    submit: bool,
    user_id: int,
    today: date,
) -> Report:
    """Keep what was typed (a draft), or submit it to the level above when every check
    passes. An intermediate level's sums are taken again from its children's accepted
    reports; it submits before every child's is accepted only with a written reason."""
    if not report.is_open:
        raise ReportError(_l("This report has been submitted and cannot be changed."), 409)
    values, problems = parse_values(form, report, raw)
    children = []
    if not association.kind.is_grassroots:
        totals, _source, children = prefilled_values(form, association, today)
        values.update(totals)
    for manual in form.fields:
        upload = files.get(manual["key"]) if manual["kind"] == "file" else None
        if upload is None or not getattr(upload, "filename", ""):
            continue
        try:
            stored = uploads.store_upload(
                upload, uploads.EVIDENCE, association_id=association.id, uploaded_by_id=user_id
            )
        except uploads.UploadRejected as rejected:
            problems[manual["key"]] = rejected.message
            continue
        values[manual["key"]] = stored.id
    if problems:
        raise ReportInvalid(problems)
    if submit:
        problems = check_values(form, values)
        missing = [row for row in children if row.accepted is None]
        if missing and not reason.strip():
            problems["incomplete_reason"] = _l(
                "%(n)d associations below have no accepted report: say why you submit now.",
                n=len(missing),
            )
        if problems:
            raise ReportInvalid(problems)
    report.values = values
    report.remarks = remarks.strip()[:2000]
    report.incomplete_reason = reason.strip()[:2000] if children else ""
    if submit:
        report.state = ReportState.SUBMITTED
        report.submitted_at = utcnow()
        report.submitted_by_id = user_id
    db.session.flush()
    if submit:
        notices.report_submitted(form, report, association)
    return report
