"""The activity log: timeline with filters, recording from a phone, photos, the yearly report."""

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.activities import participants, services
from app.activities.forms import ActivityForm
from app.activities.models import ActivityPhoto, ActivityType
from app.core.clock import china_today
from app.core.money import yuan_input
from app.core.problems import show_problems
from app.core.uploads import MB
from app.core.views import can_read_registers, can_write, render
from app.extensions import db

# Several phone photos in one form; each photo is still capped on its own (app/core/uploads.py).
ACTIVITY_FORM_MAX_BYTES = 64 * MB


def today():
    return china_today()


def _filters() -> services.TimelineFilter:
    year = request.args.get("year", type=int)
    quarter = request.args.get("quarter", type=int)
    kind = request.args.get("type", "")
    return services.TimelineFilter(
        year=year if year and 2000 <= year <= 2100 else None,
        quarter=quarter if year and quarter in (1, 2, 3, 4) else None,
        type=ActivityType(kind) if kind in ActivityType._value2member_map_ else None,
    )


@can_read_registers
def index():
    filters = _filters()
    current = today()
    return render(
        "activities/index.html",
        fragment="activities/_timeline.html",
        filters=filters,
        page=services.timeline(filters, page=request.args.get("page", 1, type=int)),
        years=services.activity_years(current),
        compliance=services.compliance(filters.year or current.year, today=current),
    )


def _allow_large_form() -> None:
    request.max_content_length = ACTIVITY_FORM_MAX_BYTES


def _picked_members(form: ActivityForm) -> list:
    try:
        return participants.check_members(form.member_ids.data or [])
    except participants.UnknownMembers:
        return []


def _form_page(form: ActivityForm, *, activity=None, status: int = 200):
    return render(
        "activities/form.html",
        status=status,
        form=form,
        activity=activity,
        picked_members=_picked_members(form),
        special_days=services.special_days_near(today()) if activity is None else [],
        today=today(),
    )


def _flash_photo_failures(failures) -> None:
    for failure in failures:
        flash(
            _(
                "Photo %(name)s was not kept: %(reason)s",
                name=failure.filename or "?",
                reason=failure.message,
            ),
            "error",
        )


@can_write
def new():
    _allow_large_form()
    form = ActivityForm()
    if request.method == "GET":
        form.held_on.data = today()
        form.organiser.data = g.association.name
        special = request.args.get("special", "")
        for day, special_day in services.special_days_near(today()):
            if day.isoformat() == special and day <= today():
                form.held_on.data = day
                form.type.data = special_day.type.value
                form.title.data = str(special_day.label)
        return _form_page(form)
    if not form.validate():
        return _form_page(form, status=422)
    try:
        activity = services.record_activity(
            form.to_input(), recorded_by_id=current_user.id, today=today()
        )
    except services.ActivityInvalid as invalid:
        show_problems(form, invalid, aliases={"aid": ""})
        return _form_page(form, status=422)
    added, failures = services.add_photos(
        activity,
        [f for f in form.photos.data or [] if f and f.filename],
        association_id=g.association.id,
        uploaded_by_id=current_user.id,
    )
    _flash_photo_failures(failures)
    flash(_("Activity recorded with %(n)d photo(s).", n=len(added)), "success")
    return redirect(url_for("activities.detail", activity_id=activity.id), 303)


def _load(activity_id: int):
    activity = services.load_activity(activity_id)
    if activity is None:
        abort(404)
    return activity


@can_read_registers
def detail(activity_id: int):
    return _detail_page(_load(activity_id))


def _detail_page(activity, *, status: int = 200):
    return render(
        "activities/detail.html",
        status=status,
        activity=activity,
        participants=participants.participants_of(activity.id),
    )


@can_write
def edit(activity_id: int):
    _allow_large_form()
    activity = _load(activity_id)
    form = ActivityForm(obj=activity if request.method == "GET" else None)
    if request.method == "GET":
        form.type.data = activity.type.value
        for row, aid in zip(form.aid, activity.aid, strict=False):
            row.family.data, row.kind.data = aid.family, aid.kind.value
            row.quantity.data, row.value.data = aid.quantity, yuan_input(aid.value_fen)
        form.member_ids.data = [m.id for m in participants.participants_of(activity.id)]
        for aid in activity.aid[len(form.aid) :]:
            form.aid.append_entry(
                {
                    "family": aid.family,
                    "kind": aid.kind.value,
                    "quantity": aid.quantity,
                    "value": yuan_input(aid.value_fen),
                }
            )
        return _form_page(form, activity=activity)
    if not form.validate():
        return _form_page(form, activity=activity, status=422)
    try:
        services.update_activity(activity, form.to_input(), today=today())
    except services.ActivityInvalid as invalid:
        show_problems(form, invalid, aliases={"aid": ""})
        return _form_page(form, activity=activity, status=422)
    flash(_("Activity saved."), "success")
    return redirect(url_for("activities.detail", activity_id=activity.id), 303)


@can_write
def delete(activity_id: int):
    services.delete_activity(_load(activity_id))
    flash(_("Activity deleted."), "success")
    return redirect(url_for("activities.index"), 303)


@can_write
def add_photos(activity_id: int):
    _allow_large_form()
    activity = _load(activity_id)
    files = [f for f in request.files.getlist("photos") if f and f.filename]
    if not files:
        flash(_("Choose one or more photos first."), "error")
        return _detail_page(activity, status=422)
    added, failures = services.add_photos(
        activity, files, association_id=g.association.id, uploaded_by_id=current_user.id
    )
    if failures and not added:
        # Nothing was kept: answer with the reason; the activity and its photos are untouched.
        status = failures[0].status
        _flash_photo_failures(failures)
        return _detail_page(activity, status=status)
    _flash_photo_failures(failures)
    flash(_("%(n)d photo(s) added.", n=len(added)), "success")
    return redirect(url_for("activities.detail", activity_id=activity.id), 303)


@can_write
def delete_photo(photo_id: int):
    photo = db.session.scalar(select(ActivityPhoto).where(ActivityPhoto.id == photo_id))
    if photo is None:
        abort(404)
    activity_id = photo.activity_id
    services.delete_photo(photo)
    flash(_("Photo removed."), "success")
    return redirect(url_for("activities.detail", activity_id=activity_id), 303)


@can_read_registers
def report():
    year = request.args.get("year", type=int) or today().year
    if not 2000 <= year <= 2100:
        abort(404)
    return render(
        "activities/report.html",
        report=services.yearly_report(year, today=today()),
        generated_on=today(),
    )


@can_write
def member_search():
    """Search-as-you-type for the members who took part (a fragment for the picker)."""
    query = request.args.get("member_q", "")[:40]
    picked = request.args.getlist("member_ids", type=int)
    return render(
        "activities/_member_results.html",
        members=participants.search_members(query, exclude=picked),
        query=query,
    )
