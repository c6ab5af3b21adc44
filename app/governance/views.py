"""The yearly plan's pages: the secretary drafts, approves, publishes and notes progress; staff
and the level above (监督) read."""

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.core.clock import china_today
from app.core.problems import show_problems
from app.core.views import can_read_registers, render, secretary_only
from app.extensions import db
from app.governance import services
from app.governance.forms import (
    MONTH_NAMES,
    ApprovalForm,
    CommitmentForm,
    PlanForm,
    PlannedActivityForm,
    ReportForm,
    UpdateForm,
    YearForm,
)
from app.governance.models import Commitment, CommitmentUpdate, PlannedActivity, YearPlan


def _year() -> int:
    year = request.values.get("year", type=int) or china_today().year
    if not 2000 <= year <= 2100:
        abort(404)
    return year


def _page(year: int, *, status: int = 200, **forms):
    plan = services.plan_for(year)
    rows = []
    if plan is not None:
        rows = services.progress(plan, services.year_figures(g.association, year), china_today())
    may_edit = g.access.is_secretary
    if may_edit:
        forms.setdefault(
            "plan_form",
            PlanForm(
                formdata=None,
                year=year,
                summary=plan.summary if plan else "",
                show_activities=plan.show_activities if plan else True,
                show_dues=plan.show_dues if plan else True,
            ),
        )
        forms.setdefault("commitment_form", CommitmentForm(formdata=None, year=year))
        forms.setdefault("activity_form", PlannedActivityForm(formdata=None, year=year))
        forms.setdefault("approval_form", ApprovalForm(formdata=None, year=year))
        forms.setdefault("publish_form", YearForm(formdata=None, year=year))
    fulfilled = services.fulfilling_activities(plan) if plan is not None else {}
    link_choices = []
    if may_edit and plan is not None and plan.is_published:
        link_choices = services.year_activity_choices(year)
    this_year = china_today().year
    return render(
        "governance/plan.html",
        fulfilled=fulfilled,
        link_choices=link_choices,
        status=status,
        year=year,
        years=range(this_year + 1, this_year - 5, -1),
        plan=plan,
        rows=rows,
        months=MONTH_NAMES,
        may_edit=may_edit,
        measure_labels=services.MEASURE_LABELS,
        body_labels=services.BODY_LABELS,
        **forms,
    )


def _back(year: int, anchor: str | None = None):
    return redirect(url_for("governance.plan", year=year, _anchor=anchor), 303)


def _form_year(form: YearForm) -> int:
    year = form.year.data
    return year if isinstance(year, int) and 2000 <= year <= 2100 else china_today().year


def _refused(error: services.GovernanceError, year: int, form_name: str, form):
    show_problems(form, error)
    return _page(year, status=error.status, **{form_name: form})


@can_read_registers
def plan():
    return _page(_year())


@secretary_only
def save_plan():
    form = PlanForm()
    year = _form_year(form)
    if not form.validate():
        return _page(year, status=422, plan_form=form)
    try:
        services.save_plan(
            year,
            summary=form.summary.data or "",
            show_activities=bool(form.show_activities.data),
            show_dues=bool(form.show_dues.data),
        )
    except services.GovernanceError as error:
        return _refused(error, year, "plan_form", form)
    flash(_("The plan is saved."), "success")
    return _back(year)


@secretary_only
def add_commitment():
    form = CommitmentForm()
    year = _form_year(form)
    if not form.validate():
        return _page(year, status=422, commitment_form=form)
    try:
        services.add_commitment(year, form.to_input())
    except services.GovernanceError as error:
        return _refused(error, year, "commitment_form", form)
    flash(_("Commitment added."), "success")
    return _back(year, "commitments")


def _commitment(commitment_id: int) -> Commitment:
    commitment = db.session.scalar(
        select(Commitment)
        .where(Commitment.id == commitment_id)
        .options(
            selectinload(Commitment.plan),
            selectinload(Commitment.updates).selectinload(CommitmentUpdate.evidence),
        )
    )
    if commitment is None:
        abort(404)
    return commitment


@secretary_only
def delete_commitment(commitment_id: int):
    commitment = _commitment(commitment_id)
    year = commitment.plan.year
    try:
        services.remove_commitment(commitment)
    except services.GovernanceError as error:
        flash(str(error.message), "error")
        return _page(year, status=error.status)
    flash(_("Commitment removed."), "success")
    return _back(year, "commitments")


@secretary_only
def add_planned_activity():
    form = PlannedActivityForm()
    year = _form_year(form)
    if not form.validate():
        return _page(year, status=422, activity_form=form)
    try:
        services.add_planned_activity(year, month=int(form.month.data), title=form.title.data)
    except services.GovernanceError as error:
        return _refused(error, year, "activity_form", form)
    flash(_("Planned activity added."), "success")
    return _back(year, "planned")


@secretary_only
def delete_planned_activity(planned_id: int):
    planned = db.session.scalar(
        select(PlannedActivity)
        .where(PlannedActivity.id == planned_id)
        .options(selectinload(PlannedActivity.plan))
    )
    if planned is None:
        abort(404)
    year = planned.plan.year
    try:
        services.remove_planned_activity(planned)
    except services.GovernanceError as error:
        flash(str(error.message), "error")
        return _page(year, status=error.status)
    flash(_("Planned activity removed."), "success")
    return _back(year, "planned")


@secretary_only
def record_approval():
    form = ApprovalForm()
    year = _form_year(form)
    if not form.validate():
        return _page(year, status=422, approval_form=form)
    try:
        services.record_approval(
            year,
            form.to_input(),
            form.minutes.data,
            association_id=g.association.id,
            user_id=current_user.id,
        )
    except services.GovernanceError as error:
        return _refused(error, year, "approval_form", form)
    flash(_("The approval is recorded."), "success")
    return _back(year, "approval")


@secretary_only
def publish():
    form = YearForm()
    year = _form_year(form)
    if not form.validate():
        return _page(year, status=422, publish_form=form)
    try:
        services.publish(year, user_id=current_user.id)
    except services.GovernanceError as error:
        return _refused(error, year, "publish_form", form)
    flash(_("The plan is published on the association's public page."), "success")
    return _back(year)


def _commitment_page(commitment: Commitment, *, status: int = 200, form: UpdateForm | None = None):
    plan: YearPlan = commitment.plan
    figures = services.year_figures(g.association, plan.year)
    value = services.measured_value(commitment, figures)
    state, expected = services.judge(commitment, plan.year, value, china_today())
    recorders = {u.recorded_by_id for u in commitment.updates if u.recorded_by_id}
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(recorders))).all())
    may_note = g.access.is_secretary and plan.is_published
    if may_note and form is None:
        form = UpdateForm(formdata=None, noted_on=china_today())
    return render(
        "governance/commitment.html",
        status=status,
        commitment=commitment,
        plan=plan,
        row=services.Progress(
            commitment,
            state,
            value,
            expected,
            commitment.updates[-1] if commitment.updates else None,
        ),
        names=names,
        may_note=may_note,
        form=form,
        measure_labels=services.MEASURE_LABELS,
    )


@can_read_registers
def commitment(commitment_id: int):
    return _commitment_page(_commitment(commitment_id))


@secretary_only
def add_update(commitment_id: int):
    commitment = _commitment(commitment_id)
    form = UpdateForm()
    if not form.validate():
        return _commitment_page(commitment, status=422, form=form)
    try:
        services.add_update(
            commitment,
            form.to_input(),
            form.evidence_file(),
            association_id=g.association.id,
            user_id=current_user.id,
        )
    except services.GovernanceError as error:
        show_problems(form, error)
        return _commitment_page(commitment, status=error.status, form=form)
    flash(_("Progress noted."), "success")
    return redirect(url_for("governance.commitment", commitment_id=commitment.id), 303)


@secretary_only
def link_planned_activity(planned_id: int):
    planned = db.session.scalar(
        select(PlannedActivity)
        .where(PlannedActivity.id == planned_id)
        .options(selectinload(PlannedActivity.plan))
    )
    if planned is None:
        abort(404)
    year = planned.plan.year
    try:
        services.link_planned_activity(planned, request.form.get("activity_id", type=int))
    except services.GovernanceError as error:
        flash(str(error.message), "error")
        return _page(year, status=error.status)
    flash(_("Planned activity updated."), "success")
    return _back(year, "planned")


def _report_page(year: int, *, status: int = 200, form: ReportForm | None = None):
    plan = services.plan_for(year)
    report = services.report_for(year)
    quoted = None
    if report is not None and report.is_published:
        quoted = report.frozen
    elif plan is not None and plan.is_published:
        quoted = services.report_figures(g.association, plan, china_today())
    may_edit = g.access.is_secretary and not (report and report.is_published)
    if may_edit and form is None:
        body = report.body if report and report.body else ""
        if not body and quoted is not None:
            body = services.draft_report_text(g.association, year, quoted)
        form = ReportForm(formdata=None, year=year, body=body)
    this_year = china_today().year
    return render(
        "governance/report.html",
        status=status,
        year=year,
        years=range(this_year, this_year - 5, -1),
        plan=plan,
        report=report,
        quoted=quoted,
        form=form if may_edit else None,
        publish_form=YearForm(formdata=None, year=year) if may_edit else None,
    )


@can_read_registers
def report():
    return _report_page(_year())


@secretary_only
def save_report():
    form = ReportForm()
    year = _form_year(form)
    if not form.validate():
        return _report_page(year, status=422, form=form)
    try:
        services.save_report(year, form.body.data)
    except services.GovernanceError as error:
        show_problems(form, error)
        return _report_page(year, status=error.status, form=form)
    flash(_("The report is saved."), "success")
    return redirect(url_for("governance.report", year=year), 303)


@secretary_only
def publish_report():
    form = YearForm()
    year = _form_year(form)
    if not form.validate():
        return _report_page(year, status=422)
    try:
        services.publish_report(g.association, year, user_id=current_user.id)
    except services.GovernanceError as error:
        flash(str(error.message), "error")
        return _report_page(year, status=error.status)
    flash(_("The report is published on the association's public page."), "success")
    return redirect(url_for("governance.report", year=year), 303)
