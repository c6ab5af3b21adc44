"""Defining a report form: the figures, fields and checks a level asks of the associations
below it, last period's form as the next one's, and finding the forms a level defined or
files."""

from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.reports import notices
from app.reports.catalogue import FIELD_KINDS, FIGURES
from app.reports.models import PeriodKind, ReportForm
from app.reports.periods import next_period, period_end
from app.reports.problems import ReportError, ReportInvalid
from tenants.models import Association

MAX_FIELDS = 8
MAX_CHECKS = 6
MAX_CHOICES = 12


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
        raise ReportInvalid(problems)
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
