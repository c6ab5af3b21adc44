"""The association's public page (居务公开): no sign-in, only what the secretary published.

It shows the published plan of a year with each commitment's progress, the year's planned
activities, and — where the secretary chose — the titles and dates of the year's activities
and the dues collected in total. Nothing about a person: no names, phones, addresses, no
per-person dues, no progress notes (free text that may name someone) and no files.
"""

from flask import abort, request
from sqlalchemy import select

from app.core.clock import china_today
from app.core.views import render
from app.extensions import db
from app.governance import services
from app.governance.forms import MONTH_NAMES
from tenants.context import scope_for, tenant_context
from tenants.models import Association
from tenants.resolver import SLUG_SHAPE


def page(address: str):
    if not SLUG_SHAPE.match(address):
        abort(404)
    association = db.session.scalar(select(Association).where(Association.slug == address))
    if association is None:
        abort(404)
    requested = request.args.get("year", type=int)
    with tenant_context(scope_for(association, writable=False)):
        year = requested or services.latest_published_year()
        plan = services.plan_for(year) if year and 2000 <= year <= 2100 else None
        if plan is None or not plan.is_published:
            abort(404)
        figures = services.year_figures(association, year)
        rows = services.progress(plan, figures, china_today())
        activities = services.year_activities(year) if plan.show_activities else []
        published_years = services.published_years()
    return render(
        "governance/public.html",
        association=association,
        year=year,
        plan=plan,
        rows=rows,
        activities=activities,
        # None where the association set no dues for the year ("no dues set", not ¥0.00).
        dues_collected_fen=figures.dues_collected_fen
        if plan.show_dues and figures.dues_expected_fen
        else None,
        months=MONTH_NAMES,
        published_years=published_years,
        body_labels=services.BODY_LABELS,
    )
