"""Events: the list members see on their phone, sign-up in one tap, the door list, the
activity record and the calendar file."""

from flask import Response, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.activities.models import ActivityType
from app.core.clock import utcnow
from app.core.problems import show_problems
from app.core.views import can_read, can_write, render, require
from app.events import attendance, services, signups
from app.events.forms import SCOPE_LABELS, EventForm, WalkInForm
from app.events.models import Registration, RegistrationStatus
from app.extensions import db, htmx

has_role = require(lambda access: access.own_role is not None, "own role")


@can_read
def index():
    current = utcnow()
    events = services.upcoming_events(g.association, now=current)
    past = services.past_events(now=current) if g.access.can_write else []
    return render(
        "events/index.html",
        events=events,
        past=past,
        places=services.places_of(events + past),
        mine=services.my_registrations(current_user.id, events),
        now=current,
    )


def _load(event_id: int):
    event = services.find_event(event_id, g.association)
    if event is None:
        abort(404)
    return event


def _own(event_id: int):
    """An event of this very association (managing it needs a write role here)."""
    event = _load(event_id)
    if event.association_id != g.association.id:
        abort(404)
    return event


def _detail_page(event, *, status: int = 200):
    current = utcnow()
    mine = services.my_registrations(current_user.id, [event]).get(event.id)
    host = services.event_association(event)
    manage = g.access.can_write and event.association_id == g.association.id
    return render(
        "events/detail.html",
        status=status,
        event=event,
        host=host,
        places=services.places_of([event])[event.id],
        mine=mine,
        position=(
            signups.waitlist_position(mine)
            if mine and mine.status == RegistrationStatus.WAITLISTED
            else None
        ),
        manage=manage,
        attending=attendance.attendance_list(event) if manage else [],
        waitlist=signups.waitlist(event) if manage else [],
        scope_label=SCOPE_LABELS[event.scope],
        signup_open=current <= event.signup_deadline,
        started=current >= event.starts_at,
        activity_types=[(t.value, t) for t in ActivityType],
        now=current,
    )


@can_read
def detail(event_id: int):
    return _detail_page(_load(event_id))


def _form_page(form, *, event=None, status=200):
    return render("events/form.html", status=status, form=form, event=event)


@can_write
def new():
    form = EventForm()
    if request.method == "GET":
        return _form_page(form)
    if not form.validate():
        return _form_page(form, status=422)
    try:
        event = services.publish_event(
            form.to_input(), association=g.association, created_by_id=current_user.id, now=utcnow()
        )
    except services.EventInvalid as invalid:
        show_problems(form, invalid)
        return _form_page(form, status=422)
    flash(_("Event published."), "success")
    return redirect(url_for("events.detail", event_id=event.id), 303)


@can_write
def edit(event_id: int):
    event = _own(event_id)
    form = EventForm()
    if request.method == "GET":
        form.fill_from(event)
        return _form_page(form, event=event)
    if not form.validate():
        return _form_page(form, event=event, status=422)
    try:
        promoted = services.update_event(
            event, form.to_input(), association=g.association, now=utcnow()
        )
    except services.EventInvalid as invalid:
        show_problems(form, invalid)
        return _form_page(form, event=event, status=422)
    flash(_("Event saved."), "success")
    if promoted:
        flash(_("%(n)d people moved up from the waitlist.", n=len(promoted)), "success")
    return redirect(url_for("events.detail", event_id=event.id), 303)


@has_role
def signup(event_id: int):
    event = _load(event_id)
    try:
        registration = signups.sign_up(event, user=current_user, home=g.association, now=utcnow())
    except services.EventRefused as refused:
        flash(str(refused.message), "error")
        return _detail_page(event, status=422)
    if registration.status == RegistrationStatus.CONFIRMED:
        flash(_("You are signed up. See you there!"), "success")
    else:
        flash(
            _("The event is full: you are on the waitlist and will be told if a place frees up."),
            "success",
        )
    return redirect(url_for("events.detail", event_id=event.id), 303)


@has_role
def cancel(event_id: int):
    event = _load(event_id)
    try:
        signups.cancel(event, user=current_user, now=utcnow())
    except services.EventRefused as refused:
        flash(str(refused.message), "error")
        return _detail_page(event, status=422)
    flash(_("Your sign-up is cancelled."), "success")
    return redirect(url_for("events.detail", event_id=event.id), 303)


@can_write
def checkin(event_id: int):
    event = _own(event_id)
    if htmx and not htmx.history_restore_request:
        attending = attendance.attendance_list(event)
        return render(
            "events/_door_list.html",
            event=event,
            attending=attendance.door_search(attending, request.args.get("q", "")),
        )
    return _door_page(event, WalkInForm())


def _door_page(event, form, *, status=200):
    attending = attendance.attendance_list(event)
    query = request.args.get("q", "")
    return render(
        "events/checkin.html",
        status=status,
        event=event,
        attending=attendance.door_search(attending, query),
        query=query,
        checked=sum(1 for r in attending if r.checked_in_at),
        total=len(attending),
        form=form,
    )


@can_write
def scan(event_id: int):
    """A member's check-in code, read by the camera (static/js/checkin.js) or typed in."""
    event = _own(event_id)
    try:
        result = attendance.check_in_by_card(event, request.form.get("token", ""), now=utcnow())
    except services.EventRefused as refused:
        message, category, status = str(refused.message), "error", 422
    else:
        name = result.registration.name
        if result.already:
            message = _("%(name)s was already checked in.", name=name)
        else:
            message = _("%(name)s is checked in.", name=name)
        category, status = "success", 200
    if not htmx:
        flash(message, category)
        return redirect(url_for("events.checkin", event_id=event.id), 303)
    attending = attendance.attendance_list(event)
    return render(
        "events/_scan_result.html",
        status=status,
        event=event,
        message=message,
        category=category,
        attending=attending,
        checked=sum(1 for r in attending if r.checked_in_at),
        total=len(attending),
    )


@can_write
def toggle_checkin(event_id: int, registration_id: int):
    event = _own(event_id)
    registration = db.session.scalar(
        select(Registration).where(
            Registration.id == registration_id,
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
    )
    if registration is None:
        abort(404)
    attendance.set_checked_in(registration, registration.checked_in_at is None, now=utcnow())
    if request.headers.get("HX-Request"):
        return render("events/_checkin_row.html", registration=registration, event=event)
    return redirect(url_for("events.checkin", event_id=event.id), 303)


@can_write
def walk_in(event_id: int):
    event = _own(event_id)
    form = WalkInForm()
    if not form.validate():
        return _door_page(event, form, status=422)
    try:
        attendance.add_walk_in(event, form.name.data, now=utcnow())
    except services.EventInvalid as invalid:
        form.name.errors = [*form.name.errors, *invalid.problems.values()]
        return _door_page(event, form, status=422)
    flash(_("%(name)s added and checked in.", name=form.name.data.strip()), "success")
    return redirect(url_for("events.checkin", event_id=event.id), 303)


@can_write
def record(event_id: int):
    event = _own(event_id)
    kind = request.form.get("type", "")
    kind = ActivityType(kind) if kind in ActivityType._value2member_map_ else ActivityType.OTHER
    try:
        activity = attendance.record_as_activity(
            event,
            recorded_by_id=current_user.id,
            organiser=g.association.name,
            now=utcnow(),
            type=kind,
        )
    except services.EventRefused as refused:
        flash(str(refused.message), "error")
        return _detail_page(event, status=422)
    flash(_("The event is recorded as an activity."), "success")
    return redirect(url_for("activities.detail", activity_id=activity.id), 303)


@can_read
def calendar(event_id: int):
    event = _load(event_id)
    body = services.calendar_file(
        event, url=url_for("events.detail", event_id=event.id, _external=True), now=utcnow()
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="event-{event.id}.ics"'
    return response
