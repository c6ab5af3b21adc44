"""Reports pages: the forms a level defines, each association's report, the decision of the
level above, the subtree's export and the printable form."""

from datetime import date

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.accounts.models import User
from app.core.audit import record
from app.core.clock import china_today
from app.core.uploads import StoredFile
from app.core.views import (
    can_read_registers,
    can_write,
    private_download,
    render,
    secretary_only,
)
from app.extensions import db
from app.reports import deciding, defining, exporting, filing, subtree, values
from app.reports.catalogue import CHECK_KINDS, FIELD_KINDS, FIGURES, PERIOD_KINDS
from app.reports.models import PeriodKind, Report, ReportForm, ReportState
from app.reports.problems import ReportError, ReportInvalid
from tenants.models import Association


def _int(name: str) -> int | None:
    try:
        return int(request.form.get(name, ""))
    except ValueError:
        return None


def _form_input() -> defining.FormInput:
    try:
        deadline = date.fromisoformat(request.form.get("deadline_on", ""))
    except ValueError:
        deadline = None
    return defining.FormInput(
        name=request.form.get("name", ""),
        period_kind=request.form.get("period_kind", ""),
        year=_int("year"),
        period_number=_int("period_number"),
        deadline_on=deadline,
        figures=request.form.getlist("figures"),
        fields=[
            defining.FieldInput(
                label=request.form.get(f"field_label_{n}", ""),
                kind=request.form.get(f"field_kind_{n}", "number"),
                choices=request.form.get(f"field_choices_{n}", ""),
                required=bool(request.form.get(f"field_required_{n}")),
            )
            for n in range(1, defining.MAX_FIELDS + 1)
        ],
        checks=[
            defining.CheckInput(
                kind=request.form.get(f"check_kind_{n}", ""),
                left=request.form.get(f"check_left_{n}", ""),
                right=request.form.get(f"check_right_{n}", ""),
            )
            for n in range(1, defining.MAX_CHECKS + 1)
        ],
    )


def _definition_page(data: defining.FormInput, problems: dict, status: int = 200):
    fields = list(data.fields) + [
        defining.FieldInput(label="") for _ in range(defining.MAX_FIELDS - len(data.fields))
    ]
    checks = list(data.checks) + [
        defining.CheckInput(kind="", left="") for _ in range(defining.MAX_CHECKS - len(data.checks))
    ]
    return render(
        "reports/new_form.html",
        status=status,
        data=data,
        fields=fields[: defining.MAX_FIELDS],
        checks=checks[: defining.MAX_CHECKS],
        problems=problems,
        figures=FIGURES,
        field_kinds=FIELD_KINDS,
        check_kinds=CHECK_KINDS,
        period_kinds=PERIOD_KINDS,
        reuse=request.values.get("reuse", type=int),
    )


# --- the list ---------------------------------------------------------------------------------


@can_read_registers
def index():
    today = china_today()
    to_file = defining.forms_to_file(g.association)
    own = {}
    if to_file:
        for report in db.session.scalars(
            select(Report)
            .where(Report.form_id.in_([form.id for form in to_file]))
            .order_by(Report.version)
        ):
            own[report.form_id] = report
    defined = [] if g.association.kind.is_grassroots else defining.forms_defined_by(g.association)
    owners = dict(
        db.session.execute(
            select(Association.id, Association.name).where(
                Association.id.in_({form.association_id for form in to_file})
            )
        ).all()
    )
    return render(
        "reports/index.html",
        to_file=to_file,
        own=own,
        owners=owners,
        defined=defined,
        late=subtree.late_reports(g.association, today),
        today=today,
    )


# --- defining a form --------------------------------------------------------------------------


@secretary_only
def new_form():
    if g.association.kind.is_grassroots:
        abort(404)
    today = china_today()
    reuse_id = request.values.get("reuse", type=int)
    if request.method == "GET":
        if reuse_id:
            earlier = defining.own_form(reuse_id, g.association)
            if earlier is None:
                abort(404)
            data = defining.reuse_input(earlier)
        else:
            data = defining.FormInput(
                name="",
                period_kind=PeriodKind.QUARTER.value,
                year=today.year,
                period_number=(today.month - 1) // 3 + 1,
                deadline_on=None,
                figures=["members", "new_members", "activities"],
            )
        return _definition_page(data, {})
    data = _form_input()
    if reuse_id and defining.own_form(reuse_id, g.association) is None:
        reuse_id = None
    try:
        form = defining.define_form(
            g.association, data, user_id=current_user.id, today=today, reused_from_id=reuse_id
        )
    except ReportInvalid as invalid:
        return _definition_page(data, invalid.problems, status=422)
    flash(_("The report form is published to the associations below."), "success")
    return redirect(url_for("reports.form", form_id=form.id), 303)


# --- a form's submissions (the defining level) ------------------------------------------------


def _own_form_or_404(form_id: int) -> ReportForm:
    form = defining.own_form(form_id, g.association)
    if form is None:
        abort(404)
    return form


@can_read_registers
def form(form_id: int):
    form = _own_form_or_404(form_id)
    today = china_today()
    children = values.children_status(form, g.association, today)
    totals = values.sum_reports(form, [row.accepted for row in children if row.accepted])
    return render(
        "reports/form.html",
        form=form,
        children=children,
        totals=totals,
        accepted=sum(1 for row in children if row.accepted),
        late=sum(1 for row in children if row.late),
        today=today,
    )


@can_read_registers
def export(form_id: int):
    form = _own_form_or_404(form_id)
    data = exporting.workbook(form, g.association, exporting.export_rows(form, g.association))
    record("export", association_id=g.association.id, what="report", form_id=form.id)
    return private_download(data, f"report-{form.id}-{g.association.slug}.xlsx")


# --- the association's own report -------------------------------------------------------------


@can_write
def start(form_id: int):
    form = defining.form_above(form_id, g.association)
    if form is None:
        abort(404)
    report = filing.start_report(form, g.association, today=china_today())
    return redirect(url_for("reports.report", report_id=report.id), 303)


def _load(report_id: int) -> tuple[Report, ReportForm]:
    report = db.session.scalar(select(Report).where(Report.id == report_id))
    if report is None:
        abort(404)
    form = defining.form_above(report.form_id, g.association)
    if form is None:
        abort(404)
    return report, form


def _report_page(report: Report, form: ReportForm, problems: dict | None = None, status=200):
    today = china_today()
    versions = list(
        db.session.scalars(
            select(Report).where(Report.form_id == form.id).order_by(Report.version.desc())
        )
    )
    children = []
    if not g.association.kind.is_grassroots:
        children = values.children_status(form, g.association, today)
    file_ids = [
        report.values.get(f["key"])
        for f in form.fields
        if f["kind"] == "file" and isinstance(report.values.get(f["key"]), int)
    ]
    files = (
        {
            stored.id: stored
            for stored in db.session.scalars(select(StoredFile).where(StoredFile.id.in_(file_ids)))
        }
        if file_ids
        else {}
    )
    people = [report.submitted_by_id, report.decided_by_id]
    names = dict(
        db.session.execute(
            select(User.id, User.name).where(User.id.in_([p for p in people if p]))
        ).all()
    )
    owner = db.session.get(Association, form.association_id)
    parent = db.session.get(Association, g.association.parent_id)
    return render(
        "reports/report.html",
        parent_name=parent.name if parent else "",
        status=status,
        form=form,
        owner=owner,
        report=report,
        versions=versions,
        children=children,
        missing=sum(1 for row in children if row.accepted is None),
        files=files,
        names=names,
        problems=problems or {},
        raw=request.form if problems else {},
        may_edit=g.access.can_write and report.is_open,
        may_decide=report.state == ReportState.SUBMITTED
        and deciding.may_decide(current_user.id, g.association),
        may_correct=g.access.can_write
        and report.state == ReportState.ACCEPTED
        and versions[0].id == report.id,
        late=values.is_late(form, report if report.submitted_at else None, today),
        today=today,
    )


@can_read_registers
def report(report_id: int):
    report, form = _load(report_id)
    return _report_page(report, form)


@can_write
def save(report_id: int):
    report, form = _load(report_id)
    submit = request.form.get("action") == "submit"
    try:
        filing.save_report(
            report,
            form,
            g.association,
            raw=request.form,
            files=request.files,
            remarks=request.form.get("remarks", ""),
            reason=request.form.get("incomplete_reason", ""),
            submit=submit,
            user_id=current_user.id,
            today=china_today(),
        )
    except ReportInvalid as invalid:
        db.session.rollback()
        report, form = _load(report_id)
        return _report_page(report, form, invalid.problems, status=422)
    except ReportError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        report, form = _load(report_id)
        return _report_page(report, form, status=error.status)
    flash(_("Report submitted.") if submit else _("Report saved."), "success")
    return redirect(url_for("reports.report", report_id=report.id), 303)


@can_read_registers
def decide(report_id: int):
    report, form = _load(report_id)
    accept = request.form.get("decision") == "accept"
    try:
        deciding.decide(
            report,
            form,
            g.association,
            user_id=current_user.id,
            accept=accept,
            comment=request.form.get("comment", ""),
        )
    except ReportInvalid as invalid:
        return _report_page(report, form, invalid.problems, status=422)
    except ReportError as error:
        abort(error.status)
    flash(_("Report accepted.") if accept else _("Report returned."), "success")
    return redirect(url_for("reports.report", report_id=report.id), 303)


@can_read_registers
def print_report(report_id: int):
    report, form = _load(report_id)
    owner = db.session.get(Association, form.association_id)
    return render(
        "reports/print.html", form=form, report=report, owner=owner, generated_on=china_today()
    )


def late_summary() -> list:
    """For the problems list, the dashboard and the home page: forms past their deadline that
    associations of this subtree have not filed (empty for members)."""
    access = g.get("access")
    if access is None or not access.can_read_registers:
        return []
    return subtree.late_reports(g.association, china_today())
