"""The 七有 checklist page: the secretary's evidence and submission, the reviewer's decisions."""

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.checklist import notices, services
from app.checklist.forms import EvidenceForm, NoteForm, ReviewForm, SubmitForm
from app.checklist.models import ChecklistEvidence, ChecklistItem
from app.core.audit import record_denial
from app.core.clock import china_today
from app.core.views import can_read_registers, can_write, render, secretary_only
from app.extensions import db
from tenants.access import Access
from tenants.models import WRITE_ROLES, Association


def this_year() -> int:
    return china_today().year


def may_review(access: Access) -> bool:
    return access.oversight_from is not None and access.own_role not in WRITE_ROLES


def _year() -> int:
    year = request.values.get("year", type=int) or this_year()
    if not 2000 <= year <= 2100:
        abort(404)
    return year


def _page(year: int, *, status: int = 200):
    view = services.checklist_view(year)
    user_ids = {e.actor_id for e in view.events if e.actor_id}
    user_ids |= {
        ev.uploaded_by_id for item in view.items for ev in item.evidence if ev.uploaded_by_id
    }
    # Always the same two queries, whatever the history holds (an empty IN matches nothing).
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all())
    association_ids = {e.actor_association_id for e in view.events if e.actor_association_id}
    associations = dict(
        db.session.execute(
            select(Association.id, Association.name).where(Association.id.in_(association_ids))
        ).all()
    )
    return render(
        "checklist/index.html",
        status=status,
        view=view,
        year=year,
        years=range(this_year(), this_year() - 5, -1),
        names=names,
        association_names=associations,
        may_review=may_review(g.access),
    )


def _back(year: int):
    return redirect(url_for("checklist.index", year=year), 303)


def _refused(error: services.ChecklistError, year: int):
    flash(str(error.message), "error")
    return _page(year, status=error.status)


@can_read_registers
def index():
    return _page(_year())


@can_write
def add_evidence():
    form = EvidenceForm()
    if not form.validate():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return _page(form.year.data or this_year(), status=422)
    try:
        services.add_evidence(
            form.year.data,
            form.number.data,
            form.file.data,
            note=form.note.data or "",
            association_id=g.association.id,
            user_id=current_user.id,
        )
    except services.ChecklistError as error:
        return _refused(error, form.year.data)
    flash(_("Evidence uploaded for item %(n)d.", n=form.number.data), "success")
    return _back(form.year.data)


@can_write
def delete_evidence(evidence_id: int):
    evidence = db.session.scalar(
        select(ChecklistEvidence)
        .where(ChecklistEvidence.id == evidence_id)
        .options(selectinload(ChecklistEvidence.item).selectinload(ChecklistItem.checklist))
    )
    if evidence is None:
        abort(404)
    year = evidence.item.checklist.year
    try:
        services.remove_evidence(evidence, user_id=current_user.id)
    except services.ChecklistError as error:
        return _refused(error, year)
    flash(_("Evidence removed."), "success")
    return _back(year)


@can_write
def save_note():
    form = NoteForm()
    if not form.validate():
        return _page(form.year.data or this_year(), status=422)
    try:
        services.save_note(
            form.year.data, form.number.data, form.note.data or "", user_id=current_user.id
        )
    except services.ChecklistError as error:
        return _refused(error, form.year.data)
    flash(_("Note saved."), "success")
    return _back(form.year.data)


@secretary_only
def submit():
    form = SubmitForm()
    year = form.year.data if form.validate() else this_year()
    try:
        submitted = services.submit(year, user_id=current_user.id)
    except services.ChecklistError as error:
        return _refused(error, year)
    notices.items_submitted(g.association, year, submitted)
    flash(_("%(n)d item(s) submitted for review.", n=len(submitted)), "success")
    return _back(year)


def _load_item(item_id: int) -> ChecklistItem:
    item = services.load_item(item_id)
    if item is None:
        abort(404)
    return item


@secretary_only
def withdraw(item_id: int):
    item = _load_item(item_id)
    try:
        services.withdraw(item, user_id=current_user.id)
    except services.ChecklistError as error:
        return _refused(error, item.checklist.year)
    flash(_("Item %(n)d withdrawn from review.", n=item.number), "success")
    return _back(item.checklist.year)


@can_read_registers
def review(item_id: int):
    item = _load_item(item_id)  # load first: another association's item is not found at all
    if not may_review(g.access):
        record_denial(association_id=g.association.id, reason="review needs oversight")
        abort(403)
    year = item.checklist.year
    form = ReviewForm()
    if not form.validate():
        flash(_("Choose accept or send back."), "error")
        return _page(year, status=422)
    try:
        item = services.review_item(
            g.association,
            item.id,
            reviewer_id=current_user.id,
            accept=form.decision.data == "accept",
            comment=form.comment.data or "",
        )
    except services.ChecklistError as error:
        return _refused(error, year)
    if form.decision.data == "accept":
        flash(_("Item %(n)d accepted.", n=item.number), "success")
    else:
        notices.item_sent_back(g.association, item, g.access.oversight_from)
        flash(_("Item %(n)d sent back.", n=item.number), "success")
    return _back(year)


@can_read_registers
def review_many():
    """Accept several submitted items in one go (each recorded as its own review)."""
    if not may_review(g.access):
        record_denial(association_id=g.association.id, reason="review needs oversight")
        abort(403)
    year = _year()
    item_ids = request.form.getlist("item_id", type=int)
    try:
        accepted = services.review_items(g.association, item_ids, reviewer_id=current_user.id)
    except services.ChecklistError as error:
        return _refused(error, year)
    flash(
        _(
            "%(n)d item(s) accepted: %(items)s.",
            n=len(accepted),
            items=", ".join(str(item.number) for item in accepted),
        ),
        "success",
    )
    return _back(year)
