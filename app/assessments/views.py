"""The yearly assessment's pages: a level's sheets and scoring list, an association's own
assessment (self-assessment, and the level above's scoring), the 目标管理责任书."""

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.assessments import (
    corrections,
    exporting,
    forms,
    ranking,
    self_assessment,
    sheets,
    statements,
)
from app.assessments.models import Rule, State
from app.assessments.problems import AssessmentError
from app.core import audit
from app.core.audit import record_denial
from app.core.clock import china_today
from app.core.views import (
    can_read_registers,
    can_write,
    private_download,
    render,
    secretary_only,
)
from app.extensions import db
from tenants.context import subtree_reads
from tenants.models import Association


def _this_year() -> int:
    return china_today().year


def _years() -> list[int]:
    return list(range(_this_year() + 1, _this_year() - 5, -1))


def _year() -> int:
    year = request.values.get("year", type=int) or _this_year()
    if not 2000 <= year <= 2100:
        abort(404)
    return year


def _refused(error: AssessmentError, page, *args):
    flash(str(error.message), "error")
    return page(*args, status=error.status)


def _form_errors(form) -> None:
    for errors in form.errors.values():
        for message in errors:
            flash(str(message), "error")


# --- a level's sheets -------------------------------------------------------------------------


def _index(year: int, *, status: int = 200):
    level = g.association
    level_sheets = sheets.sheets_of(level, year) if sheets.assessable_kinds(level) else []
    return render(
        "assessments/index.html",
        status=status,
        year=year,
        years=_years(),
        sheets=level_sheets,
        kinds=sheets.assessable_kinds(level),
        has_sheet=bool(self_assessment.effective_items(level, year)),
        model=ranking.model_of(year),
        statement=statements.load_statement(year),
        sheet_form=forms.SheetForm(formdata=None, year=year),
    )


@can_read_registers
def index():
    return _index(_year())


@secretary_only
def create_sheet():
    form = forms.SheetForm()
    if not form.validate():
        _form_errors(form)
        return _index(form.year.data or _this_year(), status=422)
    try:
        sheet = sheets.create_sheet(
            g.association,
            year=form.year.data,
            kind=form.kind.data,
            title=form.title.data or "",
            user_id=current_user.id,
        )
    except AssessmentError as error:
        return _refused(error, _index, form.year.data)
    flash(_("Sheet created: add its items, then publish it."), "success")
    return redirect(url_for("assessments.sheet", sheet_id=sheet.id), 303)


def _load_sheet(sheet_id: int):
    sheet = sheets.load_sheet(g.association, sheet_id)
    if sheet is None:
        abort(404)
    return sheet


def _sheet_page(sheet, *, status: int = 200, item_form=None):
    items = sheets.sheet_items(sheet)
    return render(
        "assessments/sheet.html",
        status=status,
        sheet=sheet,
        items=items,
        total=sum(item.points_tenths for item in items),
        item_form=item_form or forms.ItemForm(formdata=None),
        rules=list(Rule),
    )


@can_read_registers
def sheet(sheet_id: int):
    return _sheet_page(_load_sheet(sheet_id))


@secretary_only
def add_item(sheet_id: int):
    sheet = _load_sheet(sheet_id)
    form = forms.ItemForm()
    if not form.validate():
        _form_errors(form)
        return _sheet_page(sheet, status=422, item_form=form)
    try:
        sheets.add_item(
            sheet,
            title=form.title.data or "",
            points=form.points.data or "",
            rule=form.rule.data or "",
            guidance=form.guidance.data or "",
        )
    except AssessmentError as error:
        flash(str(error.message), "error")
        return _sheet_page(sheet, status=error.status, item_form=form)
    flash(_("Item added."), "success")
    return redirect(url_for("assessments.sheet", sheet_id=sheet.id), 303)


@secretary_only
def remove_item(sheet_id: int, sheet_item_id: int):
    sheet = _load_sheet(sheet_id)
    try:
        sheets.remove_item(sheet, sheet_item_id)
    except AssessmentError as error:
        if error.status == 404:
            abort(404)
        return _refused(error, _sheet_page, sheet)
    flash(_("Item removed."), "success")
    return redirect(url_for("assessments.sheet", sheet_id=sheet.id), 303)


@secretary_only
def publish(sheet_id: int):
    sheet = _load_sheet(sheet_id)
    form = forms.PublishForm()
    if not form.validate():
        _form_errors(form)
        return _sheet_page(sheet, status=422)
    try:
        sheets.publish(
            sheet,
            g.association,
            user_id=current_user.id,
            due_on=form.due_on.data,
            today=china_today(),
        )
    except AssessmentError as error:
        return _refused(error, _sheet_page, sheet)
    flash(_("Sheet published: the associations below can assess themselves now."), "success")
    return redirect(url_for("assessments.sheet", sheet_id=sheet.id), 303)


# --- an association's own assessment ----------------------------------------------------------


def _own(year: int, *, status: int = 200):
    view = self_assessment.assessment_view(g.association, year)
    scorer = ranking.may_score(g.access)
    return render(
        "assessments/own.html",
        status=status,
        view=view,
        year=year,
        years=_years(),
        may_score=scorer,
        State=State,
        today=china_today(),
    )


@can_read_registers
def own():
    return _own(_year())


@can_write
def claim():
    form = forms.ClaimForm()
    if not form.validate():
        _form_errors(form)
        return _own(form.year.data or _this_year(), status=422)
    try:
        self_assessment.claim(
            g.association,
            form.year.data,
            item_id=form.item.data,
            points=form.points.data or "",
            note=form.note.data or "",
            file=request.files.get("file"),
            activity_id=form.activity.data,
            user_id=current_user.id,
        )
    except AssessmentError as error:
        return _refused(error, _own, form.year.data)
    flash(_("Claim saved."), "success")
    return redirect(url_for("assessments.own", year=form.year.data), 303)


@secretary_only
def submit():
    form = forms.YearForm()
    if not form.validate():
        _form_errors(form)
        return _own(_this_year(), status=422)
    try:
        self_assessment.submit(g.association, form.year.data, user_id=current_user.id)
    except AssessmentError as error:
        return _refused(error, _own, form.year.data)
    flash(_("Self-assessment submitted to the level above."), "success")
    return redirect(url_for("assessments.own", year=form.year.data), 303)


@can_read_registers
def score():
    if not ranking.may_score(g.access):
        record_denial(association_id=g.association.id, reason="scoring needs the level above")
        abort(403)
    form = forms.YearForm()
    if not form.validate():
        _form_errors(form)
        return _own(_this_year(), status=422)
    awards = {}
    for key, value in request.form.items():
        if key.startswith("points-") and key[7:].isdigit():
            item_id = int(key[7:])
            awards[item_id] = (value, request.form.get(f"comment-{item_id}", ""))
    try:
        ranking.score(
            g.association,
            form.year.data,
            scorer_id=current_user.id,
            awards=awards,
            comment=request.form.get("comment", ""),
            send_back=request.form.get("decision") == "return",
        )
    except AssessmentError as error:
        return _refused(error, _own, form.year.data)
    if request.form.get("decision") == "return":
        flash(_("Assessment sent back."), "success")
    else:
        flash(_("Assessment scored."), "success")
    return redirect(url_for("assessments.own", year=form.year.data), 303)


# --- the level's scoring list, closing and model associations ---------------------------------


def _scoring(year: int, kind: str | None, *, status: int = 200):
    view = ranking.scoring_view(g.association, year, kind)
    return render(
        "assessments/scoring.html",
        status=status,
        view=view,
        year=year,
        years=_years(),
        State=State,
        reopenings=corrections.reopenings_of(year, view.kind),
        final=corrections.year_is_final(year),
    )


@can_read_registers
def scoring():
    return _scoring(_year(), request.args.get("kind"))


@secretary_only
def close():
    form = forms.CloseForm()
    if not form.validate():
        _form_errors(form)
        return _scoring(form.year.data or _this_year(), None, status=422)
    try:
        ranking.close(g.association, form.year.data, form.kind.data, user_id=current_user.id)
    except AssessmentError as error:
        return _refused(error, _scoring, form.year.data, form.kind.data)
    flash(_("Assessment closed: the scores and ranks are frozen."), "success")
    return redirect(url_for("assessments.scoring", year=form.year.data, kind=form.kind.data), 303)


@secretary_only
def name_model():
    form = forms.ModelForm()
    if not form.validate():
        _form_errors(form)
        return _scoring(form.year.data or _this_year(), None, status=422)
    try:
        ranking.name_model(
            g.association,
            form.year.data,
            child_id=form.association.data,
            citation=form.citation.data or "",
            user_id=current_user.id,
        )
    except AssessmentError as error:
        return _refused(error, _scoring, form.year.data, None)
    kind = db.session.scalar(
        select(Association.kind).where(Association.id == form.association.data)
    )
    flash(_("Model association named."), "success")
    return redirect(
        url_for("assessments.scoring", year=form.year.data, kind=kind.value if kind else None), 303
    )


@secretary_only
def withdraw_model():
    form = forms.WithdrawForm()
    if not form.validate():
        _form_errors(form)
        return _scoring(form.year.data or _this_year(), None, status=422)
    kind = db.session.scalar(
        select(Association.kind).where(
            Association.id == (form.association.data or 0),
            Association.parent_id == g.association.id,
        )
    )
    try:
        corrections.withdraw_model(
            g.association,
            form.year.data,
            child_id=form.association.data,
            reason=form.reason.data or "",
            user_id=current_user.id,
        )
    except AssessmentError as error:
        if error.status == 404:
            abort(404)
        return _refused(error, _scoring, form.year.data, kind.value if kind else None)
    flash(_("The naming as a model association is withdrawn."), "success")
    return redirect(url_for("assessments.scoring", year=form.year.data, kind=kind.value), 303)


@secretary_only
def reopen():
    form = forms.ReopenForm()
    if not form.validate():
        _form_errors(form)
        return _scoring(form.year.data or _this_year(), None, status=422)
    try:
        corrections.reopen(
            g.association,
            form.year.data,
            form.kind.data,
            reason=form.reason.data or "",
            user_id=current_user.id,
        )
    except AssessmentError as error:
        return _refused(error, _scoring, form.year.data, form.kind.data)
    flash(_("Assessment reopened: the earlier ranking is kept below."), "success")
    return redirect(url_for("assessments.scoring", year=form.year.data, kind=form.kind.data), 303)


# --- 目标管理责任书 ----------------------------------------------------------------------------


def _statement(year: int, *, status: int = 200, form=None):
    statement = statements.load_statement(year)
    lines = statement.targets if statement else statements.target_lines(g.association, year)
    parent = (
        db.session.get(Association, g.association.parent_id) if g.association.parent_id else None
    )
    return render(
        "assessments/statement.html",
        status=status,
        year=year,
        years=_years(),
        statement=statement,
        lines=lines,
        parent=parent,
        form=form or forms.StatementForm(formdata=None, year=year),
    )


@can_read_registers
def statement():
    return _statement(_year())


@secretary_only
def sign_statement():
    form = forms.StatementForm()
    if not form.validate():
        _form_errors(form)
        return _statement(form.year.data or _this_year(), status=422, form=form)
    try:
        statements.record_statement(
            g.association,
            form.year.data,
            upper_signatory=form.upper_signatory.data or "",
            upper_signed_on=form.upper_signed_on.data,
            own_signatory=form.own_signatory.data or "",
            own_signed_on=form.own_signed_on.data,
            file=request.files.get("file"),
            user_id=current_user.id,
        )
    except AssessmentError as error:
        flash(str(error.message), "error")
        return _statement(form.year.data, status=error.status, form=form)
    flash(_("Signatures recorded."), "success")
    return redirect(url_for("assessments.statement", year=form.year.data), 303)


# --- marks on other pages (template globals: the home page, the dashboard's children) --------


def model_marks() -> list:
    """The current association's namings as a model association, latest first (one query)."""
    return ranking.model_marks()


def model_counts(association: Association, year: int, children: list) -> dict:
    """{"total": model associations in the subtree, child id: in that child's subtree}."""
    with subtree_reads():
        total, per_child = ranking.models_below(
            association, year, [row.association for row in children]
        )
    return {"total": total, **per_child}


@can_read_registers
def export():
    year = _year()
    with subtree_reads():
        rows = exporting.result_rows(year)
    data = exporting.results_workbook(g.association, year, rows)
    audit.record("export", association_id=g.association.id, what="assessment", year=year)
    return private_download(data, f"assessment-{g.association.slug}-{year}.xlsx")
