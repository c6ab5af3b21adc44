"""Handlers of the household pages: the list, adding and editing, the 中心户/联户 linkage, visits,
deleting and restoring, and the linkage limit."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.clock import china_today
from app.core.forms import options
from app.core.problems import show_problems
from app.core.views import can_read_registers, can_write, render, secretary_only
from app.members import households, services
from app.members.forms import HouseholdForm, LinkForm, SettingsForm, VisitForm
from app.members.views import PER_PAGE, page_number


def _household_or_404(household_id: int):
    household = households.load_household(household_id)
    if household is None:
        abort(404)
    return household


@can_read_registers
def household_list():
    filters = households.HouseholdFilters(
        view=request.args.get("view", "all"), query=request.args.get("q", "")[:60]
    )
    return render(
        "members/households.html",
        fragment="members/_households.html",
        page=households.household_page(filters, page=page_number(), per_page=PER_PAGE),
        filters=filters,
        limit=households.linkage_limit(),
        counts=services.register_counts(),
    )


def _household_input(form: HouseholdForm) -> households.HouseholdInput:
    return households.HouseholdInput(
        address=form.address.data,
        grid=form.grid.data,
        building=form.building.data,
        unit=form.unit.data,
    )


@can_write
def household_new():
    form = HouseholdForm()
    if request.method == "GET":
        return render("members/household_form.html", form=form, household=None)
    if not form.validate_on_submit():
        return render("members/household_form.html", form=form, household=None, status=422)
    household = households.create_household(_household_input(form))
    flash(_("The household has been added."), "success")
    return redirect(url_for("households.show", household_id=household.id), 303)


@can_write
def household_edit(household_id: int):
    household = _household_or_404(household_id)
    if request.method == "GET":
        form = HouseholdForm(obj=household)
        return render("members/household_form.html", form=form, household=household)
    form = HouseholdForm()
    if not form.validate_on_submit():
        return render("members/household_form.html", form=form, household=household, status=422)
    households.update_household(household, _household_input(form))
    flash(_("The changes have been saved."), "success")
    return redirect(url_for("households.show", household_id=household.id), 303)


def _household_page(household, *, link_form=None, visit_form=None, status: int = 200):
    central = (
        households.load_household(household.central_household_id)
        if household.central_household_id
        else None
    )
    linked = households.linked_households(household.id) if household.is_central else []
    link_form = link_form or LinkForm(formdata=None)
    link_form.central_household_id.choices = options(
        [
            (other.id, f"{other.address} ({count}/{households.linkage_limit()})")
            for other, count in households.central_households()
            if other.id != household.id
        ]
    )
    visit_form = visit_form or VisitForm(formdata=None, visited_on=china_today())
    visit_form.households.choices = options([(other.id, other.address) for other in linked])
    visits = households.visits_of(household.id) if household.is_central else []
    visited = households.households_by_id(
        household_id for visit in visits for household_id in visit.visited_household_ids
    )
    return render(
        "members/household.html",
        household=household,
        central=central,
        members=households.household_members(household.id),
        linked=linked,
        limit=households.linkage_limit(),
        link_form=link_form,
        visit_form=visit_form,
        visits=visits,
        visited=visited,
        status=status,
    )


@can_read_registers
def household_show(household_id: int):
    return _household_page(_household_or_404(household_id))


@can_write
def household_central(household_id: int):
    household = _household_or_404(household_id)
    try:
        if household.is_central:
            households.unmark_central(household)
            flash(_("It is no longer a central household."), "success")
        else:
            households.mark_central(household)
            flash(_("It is now a central household."), "success")
    except services.RegisterError as error:
        flash(str(error.message), "error")
    return redirect(url_for("households.show", household_id=household.id), 303)


@can_write
def household_link(household_id: int):
    household = _household_or_404(household_id)
    form = LinkForm()
    if not form.validate_on_submit() or not form.central_household_id.data:
        if not form.central_household_id.errors:
            form.central_household_id.errors = [_("Choose a central household.")]
        return _household_page(household, link_form=form, status=422)
    central = households.load_household(form.central_household_id.data)
    try:
        if central is None:
            raise services.RegisterError(
                _("Choose a central household of this association."), "central_household_id"
            )
        households.link_household(household, central)
    except services.RegisterError as error:
        show_problems(form, error)
        return _household_page(household, link_form=form, status=422)
    flash(_("Linked to %(address)s.", address=central.address), "success")
    return redirect(url_for("households.show", household_id=household.id), 303)


@can_write
def household_unlink(household_id: int):
    household = _household_or_404(household_id)
    households.unlink_household(household)
    flash(_("The household is no longer linked to a central household."), "success")
    return redirect(url_for("households.show", household_id=household.id), 303)


@can_write
def household_visit(household_id: int):
    household = _household_or_404(household_id)
    form = VisitForm()
    form.households.choices = options(
        [(h.id, h.address) for h in households.linked_households(household.id)]
    )
    if not form.validate_on_submit():
        return _household_page(household, visit_form=form, status=422)
    try:
        households.record_visit(
            household,
            visited_on=form.visited_on.data,
            household_ids=form.households.data or [],
            notes=form.notes.data or "",
            recorded_by_id=current_user.id,
        )
    except services.RegisterError as error:
        show_problems(form, error)
        return _household_page(household, visit_form=form, status=422)
    flash(_("The visit has been logged."), "success")
    return redirect(url_for("households.show", household_id=household.id), 303)


@secretary_only
def household_delete(household_id: int):
    household = _household_or_404(household_id)
    try:
        households.delete_household(household)
    except services.RegisterError as error:
        flash(str(error.message), "error")
        return redirect(url_for("households.show", household_id=household.id), 303)
    flash(
        _("The household has been deleted. You can restore it from Recently deleted for 30 days."),
        "success",
    )
    return redirect(url_for("households.index"), 303)


@secretary_only
def household_restore(household_id: int):
    household = households.load_deleted_household(household_id)
    if household is None:
        abort(404)
    households.restore_household(household)
    flash(_("The household %(address)s is back.", address=household.address), "success")
    return redirect(url_for("households.show", household_id=household.id), 303)


@secretary_only
def settings():
    form = SettingsForm()
    if request.method == "GET":
        form.limit.data = households.linkage_limit()
        return render("members/settings.html", form=form)
    if not form.validate_on_submit():
        return render("members/settings.html", form=form, status=422)
    households.set_linkage_limit(form.limit.data)
    flash(_("The settings have been saved."), "success")
    return redirect(url_for("households.index"), 303)
