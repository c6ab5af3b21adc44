"""Statistics reports: defining a form, filling, checking, submitting and deciding a report,
summing the children's accepted reports, and who is missing or late.

Reads of the children's reports run inside `subtree_reads()` (the caller's association and
below). The level directly above decides a report: it writes the filing association's row
through a writable scope of that association, after checking it holds the secretary role of
the parent (as app/oversight does for 整改 tasks). Services flush, never commit.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from app.core import uploads
from app.core.clock import CHINA
from app.core.models import utcnow
from app.dashboards.models import AssociationFigures, ClosedPeriod, PeriodFigures
from app.extensions import db
from app.reports import notices
from app.reports.catalogue import FIELD_KINDS, FIGURES
from app.reports.models import PeriodKind, Report, ReportForm, ReportState
from tenants.access import access_for
from tenants.context import scope_for, subtree_reads, tenant_context
from tenants.models import Association, AssociationKind
from tenants.tree import subtree_bounds

MAX_FIELDS = 8
MAX_CHECKS = 6
MAX_CHOICES = 12
MAX_NUMBER = 10**9
GRASSROOTS_KINDS = tuple(kind for kind in AssociationKind if kind.is_grassroots)
FILED = (ReportState.SUBMITTED, ReportState.ACCEPTED, ReportState.SUPERSEDED)


class ReportError(ValueError):
    def __init__(self, message, status: int = 422):
        super().__init__(str(message))
        self.message = message
        self.status = status


class Invalid(ReportError):
    """Field → message problems, shown on the form."""

    def __init__(self, problems: dict):
        super().__init__(_l("Please correct the marked fields."))
        self.problems = problems


# --- periods -----------------------------------------------------------------------------------


def period_text(kind: PeriodKind, year: int, number: int) -> str:
    if kind == PeriodKind.MONTH:
        return _("%(year)d, month %(n)d", year=year, n=number)
    if kind == PeriodKind.QUARTER:
        return _("%(year)d Q%(n)d", year=year, n=number)
    return _("Year %(year)d", year=year)


def period_end(kind: PeriodKind, year: int, number: int) -> date:
    if kind == PeriodKind.YEAR:
        return date(year, 12, 31)
    last_month = number * 3 if kind == PeriodKind.QUARTER else number
    if last_month == 12:
        return date(year, 12, 31)
    return date(year, last_month + 1, 1) - timedelta(days=1)


def next_period(kind: PeriodKind, year: int, number: int) -> tuple[int, int]:
    """(year, number) of the period after this one."""
    if kind == PeriodKind.YEAR:
        return year + 1, 0
    last = 12 if kind == PeriodKind.MONTH else 4
    return (year + 1, 1) if number == last else (year, number + 1)


# --- defining a form ---------------------------------------------------------------------------


@dataclass
class FieldInput:
    label: str
    kind: str = "number"
    choices: str = ""  # one per line, or separated by 、 or commas
    required: bool = False


@dataclass
class CheckInput:
    kind: str
    left: str
    right: str = ""


@dataclass
class FormInput:
    name: str
    period_kind: str
    year: int | None
    period_number: int | None
    deadline_on: date | None
    figures: list[str] = field(default_factory=list)
    fields: list[FieldInput] = field(default_factory=list)
    checks: list[CheckInput] = field(default_factory=list)


def _choices(text: str) -> list[str]:
    parts = text.replace("、", "\n").replace(",", "\n").replace("，", "\n").splitlines()
    return [part.strip()[:40] for part in parts if part.strip()][:MAX_CHOICES]


def form_problems(data: FormInput, *, today: date) -> dict:
    problems = {}
    if not data.name.strip():
        problems["name"] = _l("Give the form a name.")
    if data.period_kind not in PeriodKind.__members__.values():
        problems["period_kind"] = _l("Choose monthly, quarterly or yearly.")
    if data.year is None or not 2000 <= data.year <= today.year + 1:
        problems["year"] = _l("Choose a year up to next year.")
    if data.period_kind == PeriodKind.MONTH and not 1 <= (data.period_number or 0) <= 12:
        problems["period_number"] = _l("Choose a month from 1 to 12.")
    if data.period_kind == PeriodKind.QUARTER and not 1 <= (data.period_number or 0) <= 4:
        problems["period_number"] = _l("Choose a quarter from 1 to 4.")
    if data.deadline_on is None:
        problems["deadline_on"] = _l("Set a deadline.")
    elif data.deadline_on < today:
        problems["deadline_on"] = _l("The deadline cannot be in the past.")
    unknown = [key for key in data.figures if key not in FIGURES]
    if unknown:
        problems["figures"] = _l("Choose figures from the list.")
    fields = [f for f in data.fields if f.label.strip()]
    if not data.figures and not fields:
        problems["figures"] = _l("Take at least one figure or add a field.")
    if len(fields) > MAX_FIELDS:
        problems["fields"] = _l("At most %(n)d fields.", n=MAX_FIELDS)
    for number, manual in enumerate(data.fields, start=1):
        if not manual.label.strip():
            continue
        if manual.kind not in FIELD_KINDS:
            problems[f"field_{number}"] = _l("Choose the kind of the field.")
        elif manual.kind == "choice" and len(_choices(manual.choices)) < 2:
            problems[f"field_{number}"] = _l("A choice needs at least two options.")
    keys = _field_keys(data)
    for number, check in enumerate(data.checks, start=1):
        if not check.kind:
            continue
        needs_right = check.kind in ("le", "required_if")
        if (
            check.kind not in ("le", "ge0", "required_if")
            or check.left not in keys
            or (needs_right and (check.right not in keys or check.right == check.left))
        ):
            problems[f"check_{number}"] = _l("Choose two different fields for this check.")
        elif check.kind in ("le", "ge0") and not (
            keys[check.left] == "number" and (check.kind == "ge0" or keys[check.right] == "number")
        ):
            problems[f"check_{number}"] = _l("This check compares numbers only.")
    return problems


def _field_keys(data: FormInput) -> dict[str, str]:
    """Every field a check may name, with its kind."""
    keys = {f"fig:{key}": "number" for key in data.figures if key in FIGURES}
    for number, manual in enumerate(data.fields, start=1):
        if manual.label.strip():
            keys[f"m{number}"] = manual.kind
    return keys


def define_form(
    owner: Association, data: FormInput, *, user_id: int, today: date, reused_from_id=None
) -> ReportForm:
    """Publish a form for the subtree below `owner`; its children's secretaries are told."""
    if owner.kind.is_grassroots:
        raise ReportError(_l("A grassroots association has no associations below it."), 404)
    problems = form_problems(data, today=today)
    if problems:
        raise Invalid(problems)
    kind = PeriodKind(data.period_kind)
    fields = [
        {
            "key": f"m{number}",
            "label": manual.label.strip()[:60],
            "kind": manual.kind,
            "choices": _choices(manual.choices) if manual.kind == "choice" else [],
            "required": bool(manual.required),
        }
        for number, manual in enumerate(data.fields, start=1)
        if manual.label.strip()
    ]
    form = ReportForm(
        association_id=owner.id,
        name=data.name.strip()[:80],
        period_kind=kind,
        year=data.year,
        period_number=0 if kind == PeriodKind.YEAR else data.period_number,
        deadline_on=data.deadline_on,
        figures=[key for key in FIGURES if key in data.figures],
        fields=fields,
        checks=[
            {"kind": c.kind, "left": c.left, "right": c.right if c.kind != "ge0" else ""}
            for c in data.checks
            if c.kind
        ],
        created_by_id=user_id,
        reused_from_id=reused_from_id,
    )
    db.session.add(form)
    db.session.flush()
    notices.form_published(form, owner)
    return form


def reuse_input(form: ReportForm) -> FormInput:
    """Last period's form as the next period's: the same figures, fields and checks, the
    deadline moved on by the period's length."""
    year, number = next_period(form.period_kind, form.year, form.period_number)
    shift = period_end(form.period_kind, year, number) - period_end(
        form.period_kind, form.year, form.period_number
    )
    labels = {f["key"]: f for f in form.fields}
    fields = [
        FieldInput(
            label=f["label"],
            kind=f["kind"],
            choices="\n".join(f.get("choices") or []),
            required=f.get("required", False),
        )
        for f in form.fields
    ]
    # The field keys are renumbered in order when the new form is saved: map the checks.
    renumber = {key: f"m{index}" for index, key in enumerate(labels, start=1)}
    checks = [
        CheckInput(
            kind=c["kind"],
            left=renumber.get(c["left"], c["left"]),
            right=renumber.get(c["right"], c["right"]),
        )
        for c in form.checks
    ]
    return FormInput(
        name=form.name,
        period_kind=form.period_kind.value,
        year=year,
        period_number=number,
        deadline_on=form.deadline_on + shift,
        figures=list(form.figures),
        fields=fields,
        checks=checks,
    )


def forms_defined_by(association: Association) -> list[ReportForm]:
    return list(
        db.session.scalars(
            select(ReportForm)
            .where(ReportForm.association_id == association.id)
            .order_by(ReportForm.deadline_on.desc(), ReportForm.id.desc())
        )
    )


def forms_to_file(association: Association) -> list[ReportForm]:
    """Forms of the levels above that this association files."""
    above = association.ancestor_ids[:-1]
    if not above:
        return []
    return list(
        db.session.scalars(
            select(ReportForm)
            .where(ReportForm.association_id.in_(above))
            .order_by(ReportForm.deadline_on.desc(), ReportForm.id.desc())
        )
    )


def own_form(form_id: int, association: Association) -> ReportForm | None:
    """A form the association defined (None for any other id)."""
    return db.session.scalar(
        select(ReportForm).where(
            ReportForm.id == form_id, ReportForm.association_id == association.id
        )
    )


def form_above(form_id: int, association: Association) -> ReportForm | None:
    """A form of a level above the association (None for any other id)."""
    return db.session.scalar(
        select(ReportForm).where(
            ReportForm.id == form_id,
            ReportForm.association_id.in_(association.ancestor_ids[:-1]),
        )
    )


# --- the values of a report --------------------------------------------------------------------


def is_late(form: ReportForm, report: Report | None, today: date) -> bool:
    """Past the deadline and not filed, or filed after it."""
    if report is None or report.submitted_at is None:
        return today > form.deadline_on
    return report.submitted_at.astimezone(CHINA).date() > form.deadline_on


def _closed(form: ReportForm) -> tuple[int, int] | None:
    """The closed quarter whose frozen figures fill the form, if the period is closed."""
    if form.period_kind == PeriodKind.MONTH:
        return None
    quarter = form.period_number if form.period_kind == PeriodKind.QUARTER else 4
    closed = db.session.scalar(
        select(ClosedPeriod.id).where(
            ClosedPeriod.year == form.year, ClosedPeriod.quarter == quarter
        )
    )
    return (form.year, quarter) if closed else None


def own_figures(form: ReportForm, association: Association) -> tuple[dict, str]:
    """The form's figures of one association, from the period's frozen figures where it is
    closed, else live; ({"fig:<key>": value}, source)."""
    closed = _closed(form)
    row = None
    if closed:
        row = db.session.scalar(
            select(PeriodFigures.frozen).where(
                PeriodFigures.association_id == association.id,
                PeriodFigures.year == closed[0],
                PeriodFigures.quarter == closed[1],
            )
        )
    source = "frozen" if row is not None else "live"
    if row is None:
        stored = db.session.scalar(
            select(AssociationFigures).where(
                AssociationFigures.association_id == association.id,
                AssociationFigures.year == form.year,
            )
        )
        row = (
            {c.key: getattr(stored, c.key) for c in AssociationFigures.__table__.columns}
            if stored
            else {}
        )
    return {
        f"fig:{key}": FIGURES[key].read(row, form.period_kind, form.period_number)
        for key in form.figures
    }, source


def summed_keys(form: ReportForm) -> list[str]:
    """The values a level above adds up: the figures and the numeric manual fields."""
    return [f"fig:{key}" for key in form.figures] + [
        f["key"] for f in form.fields if f["kind"] == "number"
    ]


def sum_reports(form: ReportForm, reports) -> dict[str, int]:
    keys = summed_keys(form)
    totals = dict.fromkeys(keys, 0)
    for report in reports:
        values = report.values or {}
        for key in keys:
            value = values.get(key)
            if isinstance(value, int):
                totals[key] += value
    return totals


@dataclass
class ChildStatus:
    association: Association
    report: Report | None  # the latest version
    accepted: Report | None  # the accepted version in force
    late: bool


def children_status(form: ReportForm, association: Association, today: date) -> list[ChildStatus]:
    """The association's direct children with their latest report and accepted one (three
    queries whatever the number of children). Call it in the association's scope."""
    children = list(
        db.session.scalars(
            select(Association)
            .where(Association.parent_id == association.id)
            .order_by(Association.name, Association.id)
        )
    )
    latest: dict[int, Report] = {}
    accepted: dict[int, Report] = {}
    if children:
        with subtree_reads():
            reports = db.session.scalars(
                select(Report)
                .where(
                    Report.form_id == form.id,
                    Report.association_id.in_([child.id for child in children]),
                )
                .order_by(Report.association_id, Report.version)
            )
            for report in reports:
                latest[report.association_id] = report
                if report.state == ReportState.ACCEPTED:
                    accepted[report.association_id] = report
    return [
        ChildStatus(
            association=child,
            report=latest.get(child.id),
            accepted=accepted.get(child.id),
            late=(
                accepted.get(child.id) is None
                and is_late(form, _filed(latest.get(child.id)), today)
            ),
        )
        for child in children
    ]


def _filed(report: Report | None) -> Report | None:
    return report if report is not None and report.state in FILED else None


def prefilled_values(
    form: ReportForm, association: Association, today: date
) -> tuple[dict, str, list[ChildStatus]]:
    """What a new report starts with: a grassroots association's own figures, or for a level
    with associations below it the sum of its children's accepted reports."""
    if association.kind.is_grassroots:
        values, source = own_figures(form, association)
        return values, source, []
    children = children_status(form, association, today)
    totals = sum_reports(form, [row.accepted for row in children if row.accepted])
    return totals, "children", children


# --- filling and submitting --------------------------------------------------------------------


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
        raise Invalid(problems)
    if submit:
        problems = check_values(form, values)
        missing = [row for row in children if row.accepted is None]
        if missing and not reason.strip():
            problems["incomplete_reason"] = _l(
                "%(n)d associations below have no accepted report: say why you submit now.",
                n=len(missing),
            )
        if problems:
            raise Invalid(problems)
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


# --- deciding ----------------------------------------------------------------------------------


def may_decide(user_id: int, association: Association) -> bool:
    """Only the level directly above decides: a secretary of the association's parent."""
    if association.parent_id is None:
        return False
    parent = db.session.get(Association, association.parent_id)
    return parent is not None and access_for(user_id, parent).is_secretary


def decide(
    report: Report,
    form: ReportForm,
    association: Association,
    *,
    user_id: int,
    accept: bool,
    comment: str,
) -> Report:
    """Accept (freeze) a submitted report, or return it with a comment."""
    if not may_decide(user_id, association):
        raise ReportError(_l("Only the level directly above can accept or return a report."), 403)
    if report.state != ReportState.SUBMITTED:
        raise ReportError(_l("Only a submitted report can be accepted or returned."), 409)
    comment = comment.strip()
    if not accept and not comment:
        raise Invalid({"comment": _l("Say what needs changing when returning a report.")})
    with tenant_context(scope_for(association, writable=True)):
        if accept:
            for earlier in db.session.scalars(
                select(Report).where(
                    Report.form_id == form.id, Report.state == ReportState.ACCEPTED
                )
            ):
                earlier.state = ReportState.SUPERSEDED
        report.state = ReportState.ACCEPTED if accept else ReportState.RETURNED
        report.decided_at = utcnow()
        report.decided_by_id = user_id
        report.decision_comment = comment[:2000]
        db.session.flush()
    notices.report_decided(form, report, association, accepted=accept, comment=comment)
    return report


# --- the subtree: sums and late reports ------------------------------------------------------


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
