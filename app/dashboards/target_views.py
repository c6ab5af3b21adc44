"""The targets pages of the dashboard: the targets a level sets for its subtree (and its own
targets), and the values a grassroots association enters by hand for the targets measured by
hand. Their URLs are on the dashboards blueprint (app/dashboards/blueprint.py)."""

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.accounts.models import User
from app.core.clock import china_today
from app.core.problems import show_problems
from app.core.views import can_read_registers, render, secretary_only
from app.dashboards import definitions, forms, manual, periods
from app.dashboards import targets as target_settings
from app.dashboards.targets import (
    BUILT_IN,
    OWN_TARGET_FIGURES,
    targets_from_above,
    targets_in_force,
)
from app.extensions import db
from tenants.models import Association

# --- the targets a level sets for its subtree ----------------------------------------------------


def _targets_page(year: int, *, form=None, own_form=None, status: int = 200):
    in_force = targets_in_force(g.association, year)
    floor = targets_from_above(g.association, year)
    years = list(reversed(definitions.dashboard_years()))
    if g.access.is_secretary:
        form = form or forms.targets_form(in_force, in_force.own)
        own_form = own_form or forms.OwnTargetForm(formdata=None)
    setters = {
        a.id: a.name
        for a in db.session.scalars(
            select(Association).where(Association.id.in_(g.association.ancestor_ids))
        )
    }
    return render(
        "dashboards/targets.html",
        status=status,
        year=year,
        years=years + [max(years) + 1],
        in_force=in_force,
        floor=floor,
        built_in=BUILT_IN,
        setters=setters,
        form=form,
        own_form=own_form,
        field_name=forms.field_name,
        figure_labels={key: str(label) for key, label in OWN_TARGET_FIGURES.items()},
    )


def _target_year() -> int:
    raw = request.values.get("year", "")
    this_year = china_today().year
    year = int(raw) if raw.isdigit() else this_year
    return year if this_year - 4 <= year <= this_year + 1 else this_year


@can_read_registers
def targets():
    return _targets_page(_target_year())


@secretary_only
def save_targets():
    year = _target_year()
    in_force = targets_in_force(g.association, year)
    form = forms.targets_form(in_force, in_force.own, formdata=request.form)
    if not form.validate():
        return _targets_page(year, form=form, status=422)
    try:
        target_settings.set_targets(
            g.association,
            year,
            forms.submitted_values(form, in_force.own),
            user_id=current_user.id,
        )
    except target_settings.TargetsInvalid as invalid:
        show_problems(
            form, invalid, aliases={key: forms.field_name(key) for key in invalid.problems}
        )
        return _targets_page(year, form=form, status=422)
    flash(_("The targets are saved."), "success")
    return redirect(url_for("dashboards.targets", year=year), 303)


@secretary_only
def add_target():
    year = _target_year()
    own_form = forms.OwnTargetForm()
    if not own_form.validate():
        return _targets_page(year, own_form=own_form, status=422)
    target_settings.add_own_target(
        g.association,
        year,
        name=own_form.name.data,
        unit=own_form.unit.data or "",
        value_centi=int(round(own_form.value.data * 100)),
        figure=own_form.figure.data or None,
        user_id=current_user.id,
    )
    flash(_("The target is added."), "success")
    return redirect(url_for("dashboards.targets", year=year), 303)


# --- values entered by hand for the targets measured by hand --------------------------------------


def _manual_year() -> int:
    raw = request.values.get("year", "")
    this_year = china_today().year
    year = int(raw) if raw.isdigit() else this_year
    return year if this_year - 4 <= year <= this_year else this_year


def _manual_page(year: int, *, form=None, status: int = 200):
    association = g.association
    targets = manual.manual_targets(targets_in_force(association, year))
    values = manual.values_of([association.id], year, targets)[association.id]
    grassroots = association.kind.is_grassroots
    if grassroots and g.access.is_secretary and form is None:
        form = forms.manual_values_form(targets, values)
    entered_by = {
        user.id: user.name
        for user in db.session.scalars(
            select(User).where(
                User.id.in_([v.row.entered_by_id for v in values.values() if v.row is not None])
            )
        )
    }
    this_year = china_today().year
    return render(
        "dashboards/manual.html",
        status=status,
        year=year,
        years=list(range(this_year, this_year - 5, -1)),
        targets=targets,
        values=values,
        grassroots=grassroots,
        form=form if grassroots else None,
        entered_by=entered_by,
        closed_quarters=periods.closed_quarters(year),
    )


@can_read_registers
def manual_values():
    return _manual_page(_manual_year())


@secretary_only
def save_manual_values():
    if not g.association.kind.is_grassroots:
        abort(404)
    year = _manual_year()
    targets = manual.manual_targets(targets_in_force(g.association, year))
    values = manual.values_of([g.association.id], year, targets)[g.association.id]
    form = forms.manual_values_form(targets, values, formdata=request.form)
    if not form.validate():
        return _manual_page(year, form=form, status=422)
    entries = {}
    for target in targets:
        field = getattr(form, f"value_{target.field}", None)
        if field is None:  # 满意率 from the residents' evaluation
            continue
        note = getattr(form, f"note_{target.field}").data or ""
        entries[target.key] = (field.data, note)
    if not any(value is not None for value, _note in entries.values()) and not any(
        v.row is not None for v in values.values()
    ):
        form.form_errors.append(_("Enter at least one value."))
        return _manual_page(year, form=form, status=422)
    try:
        manual.save_values(g.association, year, entries, targets=targets, user_id=current_user.id)
    except manual.ManualValuesInvalid as invalid:
        show_problems(form, invalid, aliases={t.key: f"value_{t.field}" for t in targets})
        return _manual_page(year, form=form, status=422)
    flash(_("The values are saved."), "success")
    return redirect(url_for("dashboards.manual_values", year=year), 303)
