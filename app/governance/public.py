"""The association's public page (居务公开): no sign-in, only what the secretary published.

It shows the published plan of a year with each commitment's progress, the year's planned
activities, and — where the secretary chose — the titles and dates of the year's activities
and the dues collected in total. Nothing about a person: no names, phones, addresses, no
per-person dues, no progress notes (free text that may name someone) and no files but the
activity photos the secretary marked public (app/governance/public_photos.py).
"""

from flask import Response, abort, current_app, request, url_for
from sqlalchemy import select

from app.core import crypto
from app.core.clock import china_today
from app.core.phones import validate_phone
from app.core.problems import show_problems
from app.core.views import render
from app.extensions import db, limiter
from app.governance import services
from app.governance.forms import (
    MONTH_NAMES,
    SCORE_CHOICES,
    AnswerForm,
    PhoneForm,
)
from app.governance.notice import notice_pdf
from app.governance.public_photos import public_photos, served_photo
from tenants.context import scope_for, tenant_context
from tenants.models import Association
from tenants.resolver import SLUG_SHAPE


def _association(address: str) -> Association:
    if not SLUG_SHAPE.match(address):
        abort(404)
    association = db.session.scalar(select(Association).where(Association.slug == address))
    if association is None:
        abort(404)
    return association


def page(address: str):
    association = _association(address)
    requested = request.args.get("year", type=int)
    with tenant_context(scope_for(association, writable=False)):
        year = requested or services.latest_published_year()
        plan = services.plan_for(year) if year and 2000 <= year <= 2100 else None
        if plan is None or not plan.is_published:
            abort(404)
        figures = services.year_figures(association, year)
        rows = services.progress(plan, figures, china_today())
        activities = services.year_activities(year) if plan.show_activities else []
        fulfilled = services.fulfilling_activities(plan)
        report = services.report_for(year)
        published_years = services.published_years()
        survey = services.survey_for(year)
        results = services.survey_results(survey) if survey else None
        comments = services.survey_comments(survey, published_only=True) if survey else []
        photos = public_photos(year)
    return render(
        "governance/public.html",
        association=association,
        year=year,
        plan=plan,
        rows=rows,
        activities=activities,
        fulfilled=fulfilled,
        report=report if report is not None and report.is_published else None,
        # None where the association set no dues for the year ("no dues set", not ¥0.00).
        dues_collected_fen=figures.dues_collected_fen
        if plan.show_dues and figures.dues_expected_fen
        else None,
        months=MONTH_NAMES,
        published_years=published_years,
        body_labels=services.BODY_LABELS,
        survey=survey,
        results=results,
        comments=comments,
        survey_open=survey is not None and china_today() <= survey.closes_on,
        photos=photos,
    )


def photo(address: str, photo_id: int):
    """A photo the secretary marked public (its re-encoded thumbnail); 404 for any other."""
    return served_photo(_association(address), photo_id)


def _published_plan_and_survey(association: Association, year: int):
    plan = services.plan_for(year)
    survey = services.survey_for(year)
    if plan is None or not plan.is_published or survey is None:
        abort(404)
    return plan, survey


def _survey_limit() -> str:
    return current_app.config.get("RATELIMIT_SURVEY", "30 per hour")


def _survey_phone_limit() -> str:
    return current_app.config.get("RATELIMIT_SURVEY_PHONE", "5 per hour")


def _form_phone_hash() -> str | None:
    try:
        return crypto.lookup_hash("survey-limit:" + validate_phone(request.form.get("phone", "")))
    except ValueError:
        return None


def _survey_phone_key() -> str:
    """Per phone number, whatever the survey, association or address: the codes texted to one
    number are counted per hour (each code then allows five guesses, so guessing with one
    number is bounded per hour too)."""
    return f"survey-phone:{_form_phone_hash()}"


def _without_phone() -> bool:
    return _form_phone_hash() is None


def _survey_year() -> int:
    """The survey asked for by its year (?year= on the page, the form's year when posted),
    else the latest one; 404 when there is none."""
    year = request.values.get("year", type=int) or services.latest_survey_year()
    if year is None or not 2000 <= year <= 2100:
        abort(404)
    return year


def _survey_form_page(association, plan, survey, form, *, status=200, phone_form=None, sent=False):
    return render(
        "governance/survey_public.html",
        status=status,
        association=association,
        plan=plan,
        survey=survey,
        form=form,
        phone_form=phone_form or PhoneForm(formdata=None),
        sent=sent,
        closed=china_today() > survey.closes_on,
        score_choices=SCORE_CHOICES,
    )


def _answers(form: AnswerForm, plan) -> services.Answers:
    scores = {}
    for commitment in plan.commitments:
        value = request.form.get(f"score-{commitment.id}", type=int)
        if value is not None:
            scores[commitment.id] = value
    return services.Answers(int(form.overall.data), scores, form.comment.data or "")


@limiter.limit(_survey_limit, methods=["POST"])
def survey(address: str):
    """评议: one response per printed code or per phone verified by SMS, no account. A refused
    answer keeps nothing (409) — except a wrong SMS code, which is counted; the per-IP limit
    slows guessing."""
    association = _association(address)
    with tenant_context(scope_for(association, writable=request.method == "POST")):
        year = _survey_year()
        plan, survey = _published_plan_and_survey(association, year)
        form = AnswerForm()
        if request.method == "GET":
            return _survey_form_page(association, plan, survey, form)
        if china_today() > survey.closes_on:
            return _survey_form_page(association, plan, survey, form, status=409)
        if not form.validate():
            return _survey_form_page(association, plan, survey, form, status=422)
        try:
            if form.by_phone:
                services.answer_survey_by_phone(
                    survey,
                    form.phone.data,
                    form.sms_code.data,
                    _answers(form, plan),
                    today=china_today(),
                )
            else:
                services.answer_survey(
                    survey, form.code.data, _answers(form, plan), today=china_today()
                )
        except services.GovernanceError as error:
            if isinstance(error, services.WrongSmsCode):
                db.session.commit()  # the wrong attempt counts although the answer is refused
                plan, survey = _published_plan_and_survey(association, year)
            show_problems(form, error)
            return _survey_form_page(association, plan, survey, form, status=error.status)
        return render("governance/survey_thanks.html", association=association)


@limiter.limit(_survey_limit)
@limiter.limit(_survey_phone_limit, key_func=_survey_phone_key, exempt_when=_without_phone)
def send_code(address: str):
    """Text an evaluation code to a resident's phone (rate-limited per IP, and per phone per
    hour across every survey: RATELIMIT_SURVEY_PHONE)."""
    association = _association(address)
    with tenant_context(scope_for(association, writable=True)):
        year = _survey_year()
        plan, survey = _published_plan_and_survey(association, year)
        phone_form = PhoneForm()
        form = AnswerForm(formdata=None, phone=phone_form.phone.data)
        if not phone_form.validate():
            return _survey_form_page(
                association, plan, survey, form, status=422, phone_form=phone_form
            )
        try:
            services.send_phone_code(survey, phone_form.phone.data, today=china_today())
        except services.GovernanceError as error:
            show_problems(phone_form, {"phone": error.message})
            return _survey_form_page(
                association, plan, survey, form, status=error.status, phone_form=phone_form
            )
        return _survey_form_page(association, plan, survey, form, phone_form=phone_form, sent=True)


def notice(address: str):
    """The A4 notice of the year's published plan, for the wall (one per quarter)."""
    association = _association(address)
    today = china_today()
    with tenant_context(scope_for(association, writable=False)):
        year = request.args.get("year", type=int) or services.latest_published_year()
        plan = services.plan_for(year) if year and 2000 <= year <= 2100 else None
        if plan is None or not plan.is_published:
            abort(404)
        figures = services.year_figures(association, year)
        rows = services.progress(plan, figures, today)
        fulfilled = services.fulfilling_activities(plan)
        survey = services.survey_for(year)
        results = services.survey_results(survey) if survey else None
        planned = [
            (str(MONTH_NAMES[p.month]), p.title, fulfilled[p.id][2] if p.id in fulfilled else None)
            for p in plan.planned_activities
        ]
    quarter = (today.month - 1) // 3 + 1 if today.year == year else 4
    data = notice_pdf(
        association,
        year,
        quarter,
        rows=rows,
        planned=planned,
        activities=figures.activities if plan.show_activities else None,
        dues_collected_fen=figures.dues_collected_fen
        if plan.show_dues and figures.dues_expected_fen
        else None,
        results=results,
        page_url=url_for("public.page", address=association.slug, year=year, _external=True),
        survey_url=url_for("public.survey", address=association.slug, year=year, _external=True)
        if survey is not None and today <= survey.closes_on
        else None,
    )
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="notice-{association.slug}-{year}.pdf"'},
    )
