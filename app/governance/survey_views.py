"""The residents' evaluation (评议) and the level above's view (监督), signed-in side: the
secretary opens the evaluation, prints one-time codes and moderates comments; staff and the
level above read the results and every comment; the level above comments on the plan and
sees where each association below stands in the cycle."""

from flask import abort, flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.accounts.models import User
from app.core.clock import china_today
from app.core.problems import show_problems
from app.core.views import can_read_registers, render, require, secretary_only
from app.extensions import db
from app.governance import services
from app.governance.forms import (
    CodesForm,
    ModerateForm,
    OpenSurveyForm,
    SupervisionCommentForm,
)
from app.governance.models import SurveyResponse
from app.governance.views import _form_year, _year
from tenants.context import subtree_reads
from tenants.models import Association


def _survey_page(year: int, *, status: int = 200, **forms):
    survey = services.survey_for(year)
    plan = services.plan_for(year)
    results = services.survey_results(survey) if survey else None
    comments = services.survey_comments(survey, published_only=False) if survey else []
    supervision = services.supervision_comments(year)
    authors = dict(
        db.session.execute(
            select(User.id, User.name).where(
                User.id.in_({c.author_id for c in supervision if c.author_id})
            )
        ).all()
    )
    from_associations = dict(
        db.session.execute(
            select(Association.id, Association.name).where(
                Association.id.in_(
                    {c.author_association_id for c in supervision if c.author_association_id}
                )
            )
        ).all()
    )
    if g.access.is_secretary:
        default_close = china_today().replace(month=12, day=31)
        forms.setdefault(
            "open_form", OpenSurveyForm(formdata=None, year=year, closes_on=default_close)
        )
        forms.setdefault("codes_form", CodesForm(formdata=None, year=year))
    if services.may_supervise(g.access):
        forms.setdefault("comment_form", SupervisionCommentForm(formdata=None, year=year))
    this_year = china_today().year
    return render(
        "governance/survey.html",
        status=status,
        year=year,
        years=range(this_year + 1, this_year - 5, -1),
        plan=plan,
        survey=survey,
        results=results,
        comments=comments,
        supervision=supervision,
        authors=authors,
        from_associations=from_associations,
        households=services.household_count(),
        score_labels=services.SCORE_LABELS,
        **forms,
    )


def _back(year: int):
    return redirect(url_for("governance.survey", year=year), 303)


@can_read_registers
def survey():
    return _survey_page(_year())


@secretary_only
def open_survey():
    form = OpenSurveyForm()
    year = _form_year(form)
    if not form.validate():
        return _survey_page(year, status=422, open_form=form)
    try:
        services.open_survey(
            year, closes_on=form.closes_on.data, target_percent=form.target_percent.data
        )
    except services.GovernanceError as error:
        show_problems(form, error)
        return _survey_page(year, status=error.status, open_form=form)
    flash(_("The evaluation is open. Print the codes and hand them out."), "success")
    return _back(year)


@secretary_only
def print_codes():
    form = CodesForm()
    year = _form_year(form)
    if not form.validate():
        return _survey_page(year, status=422, codes_form=form)
    survey = services.survey_for(year)
    if survey is None:
        show_problems(form, {"": _("Open the evaluation first.")})
        return _survey_page(year, status=409, codes_form=form)
    try:
        codes = services.issue_codes(survey, form.count.data)
    except services.GovernanceError as error:
        show_problems(form, error)
        return _survey_page(year, status=error.status, codes_form=form)
    response = render(
        "governance/codes.html",
        codes=codes,
        survey=survey,
        survey_url=url_for(
            "public.survey", address=g.association.slug, year=survey.year, _external=True
        ),
    )
    # The codes exist only on this page: never kept by a browser or a proxy.
    response.headers["Cache-Control"] = "no-store"
    return response


@secretary_only
def moderate(response_id: int):
    answer = db.session.scalar(select(SurveyResponse).where(SurveyResponse.id == response_id))
    if answer is None:
        abort(404)
    form = ModerateForm()
    year = services.year_of_survey(answer.survey_id)
    if not form.validate():
        flash(_("Choose publish or keep private."), "error")
        return _survey_page(year, status=422)
    services.moderate_comment(answer, publish=form.decision.data == "publish")
    flash(_("Comment moderated."), "success")
    return _back(year)


@require(services.may_supervise, "supervision comments come from above")
def comment_on_plan():
    form = SupervisionCommentForm()
    year = _form_year(form)
    if not form.validate():
        return _survey_page(year, status=422, comment_form=form)
    try:
        services.comment_from_above(g.association, year, form.body.data, author_id=current_user.id)
    except services.GovernanceError as error:
        show_problems(form, error)
        return _survey_page(year, status=error.status, comment_form=form)
    flash(_("Comment sent to the association."), "success")
    return _back(year)


@can_read_registers
def below():
    year = _year()
    with subtree_reads():
        rows, total = services.cycle_below(g.association, year)
    this_year = china_today().year
    return render(
        "governance/below.html",
        year=year,
        years=range(this_year, this_year - 5, -1),
        rows=rows,
        total=total,
    )
