"""An association's home page, its people and invitations, and its audit log."""

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.accounts import second_factor
from app.accounts import services as accounts
from app.accounts.forms import InvitationForm
from app.accounts.models import Invitation, User
from app.associations import home as home_pages
from app.associations import people as people_service
from app.associations import services
from app.associations import settings as settings_service
from app.associations.forms import LogoForm, PopulationForm, RoleForm, SettingsForm
from app.core import audit_labels, uploads
from app.core.audit import record_denial
from app.core.notifications import mask_recipient
from app.core.views import can_read, can_read_registers, render, secretary_only
from app.extensions import db
from tenants.models import Membership, Role


@can_read
def home():
    """The home page by role: the secretary's "today", a member's own page, a higher level's
    oversight (app/associations/home.py)."""
    association = g.association
    access = g.access
    return render(
        "associations/home.html",
        association=association,
        ancestry=services.visible_ancestry(access),
        children=services.children_with_counts(association),
        today=home_pages.secretary_today(association, current_user.id)
        if home_pages.shows_today(access)
        else None,
        mine=home_pages.member_home(association, current_user.id)
        if home_pages.shows_member_home(access)
        else None,
        overseeing=home_pages.oversight_home(association, current_user.id)
        if home_pages.shows_oversight(access, association)
        else None,
    )


@can_read_registers
def people():
    return _people_page(InvitationForm())


def _people_page(form: InvitationForm, *, status: int = 200):
    return render(
        "associations/people.html",
        fragment="associations/_people.html",
        status=status,
        people=services.people(g.association),
        invitations=services.invitations(),
        overseers=people_service.overseers_from_above(g.association),
        roles=people_service.roles_for(g.association),
        reset_from=second_factor.resetting_association(current_user, g.association),
        form=form,
    )


@secretary_only
def invite():
    form = InvitationForm()
    if not form.validate_on_submit():
        return _people_page(form, status=422)
    try:
        invitation, token = accounts.invite(
            g.association,
            login=form.login.data,
            name=form.name.data,
            role=Role(form.role.data),
            invited_by=current_user,
        )
    except accounts.AccountError as error:
        form.login.errors.append(str(error))
        return _people_page(form, status=422)
    accounts.send_invitation(
        invitation.login, token, association_name=g.association.name, inviter=current_user.name
    )
    flash(
        _(
            "Invitation sent to %(name)s (%(login)s). The link goes only to them.",
            name=invitation.name,
            login=mask_recipient(invitation.login),
        ),
        "success",
    )
    return _people_page(InvitationForm(formdata=None))


@secretary_only
def revoke_invitation(invitation_id: int):
    invitation = db.session.scalar(select(Invitation).where(Invitation.id == invitation_id))
    if invitation is None:
        abort(404)
    try:
        accounts.revoke_invitation(invitation)
    except accounts.AccountError as error:
        flash(str(error), "error")
        return redirect(url_for("associations.people"), 303)
    flash(_("The invitation has been revoked."), "success")
    return redirect(url_for("associations.people"), 303)


@secretary_only
def audit_log():
    page = request.args.get("page", 1, type=int)
    return render(
        "associations/audit_log.html",
        page=services.audit_page(page),
        action_label=audit_labels.action_label,
        record_label=audit_labels.record_label,
        outcome_label=audit_labels.outcome_label,
    )


def _load_membership(membership_id: int) -> Membership:
    membership = db.session.scalar(select(Membership).where(Membership.id == membership_id))
    if membership is None:
        abort(404)
    return membership


def _people_action(membership: Membership, action, done_message: str):
    try:
        action(membership)
    except people_service.PeopleError as error:
        flash(str(error), "error")
    else:
        flash(done_message, "success")
    return redirect(url_for("associations.people"), 303)


@secretary_only
def change_role(membership_id: int):
    membership = _load_membership(membership_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash(_("Choose a role."), "error")
        return redirect(url_for("associations.people"), 303)
    return _people_action(
        membership,
        lambda m: people_service.change_role(m, Role(form.role.data), current_user),
        _("The role has been changed."),
    )


@secretary_only
def remove_person(membership_id: int):
    return _people_action(
        _load_membership(membership_id),
        lambda m: people_service.remove_access(m, current_user),
        _("Their access to this association has been removed."),
    )


@secretary_only
def disable_person(membership_id: int):
    return _people_action(
        _load_membership(membership_id),
        lambda m: people_service.disable_login(m, current_user),
        _("The login has been disabled; its sessions have ended."),
    )


@can_read_registers
def reset_second_factor(membership_id: int):
    """A secretary of an association above resets the lost second factor of someone here."""
    membership = _load_membership(membership_id)
    if membership.association_id != g.association.id:
        abort(404)
    reset_from = second_factor.resetting_association(current_user, g.association)
    if reset_from is None:
        record_denial(association_id=g.association.id, reason="second factor reset")
        abort(403)
    user = db.session.get(User, membership.user_id)
    try:
        second_factor.reset(
            user, actor=current_user, association=reset_from, logged_at=g.association
        )
    except second_factor.SecondFactorError as error:
        flash(str(error), "error")
    else:
        flash(
            _(
                "The second factor of %(name)s has been reset; their sessions have ended.",
                name=user.name,
            ),
            "success",
        )
    return redirect(url_for("associations.people"), 303)


@secretary_only
def enable_person(membership_id: int):
    return _people_action(
        _load_membership(membership_id),
        lambda m: people_service.enable_login(m, current_user),
        _("The login has been enabled again."),
    )


def _settings_page(*, form=None, population_form=None, logo_form=None, status: int = 200):
    association = g.association
    stored = settings_service.settings_of(association)
    if form is None:
        form = SettingsForm(
            formdata=None,
            name=association.name,
            contact_name=association.contact_name,
            contact_phone=association.contact_phone,
            contact_email=stored.contact_email,
            address=stored.address,
        )
    return render(
        "associations/settings.html",
        status=status,
        form=form,
        population_form=population_form or PopulationForm(formdata=None),
        logo_form=logo_form or LogoForm(formdata=None),
        history=settings_service.population_history(),
        logo=settings_service.logo_of(),
    )


@secretary_only
def settings():
    return _settings_page()


@secretary_only
def update_settings():
    form = SettingsForm()
    if not form.validate_on_submit():
        return _settings_page(form=form, status=422)
    try:
        settings_service.update_settings(
            g.association,
            name=form.name.data,
            contact_name=form.contact_name.data,
            contact_phone=form.contact_phone.data,
            contact_email=form.contact_email.data,
            address=form.address.data,
        )
    except settings_service.SettingsError as error:
        form[error.field].errors.append(str(error))
        return _settings_page(form=form, status=422)
    flash(_("The settings have been saved."), "success")
    return redirect(url_for("associations.settings"), 303)


@secretary_only
def record_population():
    form = PopulationForm()
    if not form.validate_on_submit():
        return _settings_page(population_form=form, status=422)
    try:
        settings_service.record_population(
            g.association,
            from_year=form.from_year.data,
            population=form.population.data,
            recorded_by_id=current_user.id,
        )
    except settings_service.SettingsError as error:
        form[error.field].errors.append(str(error))
        return _settings_page(population_form=form, status=422)
    flash(_("The population served has been recorded."), "success")
    return redirect(url_for("associations.settings"), 303)


@secretary_only
def upload_logo():
    form = LogoForm()
    if not form.validate_on_submit():
        return _settings_page(logo_form=form, status=422)
    try:
        settings_service.replace_logo(g.association, form.logo.data, uploaded_by_id=current_user.id)
    except uploads.UploadRejected as error:
        form.logo.errors.append(str(error))
        return _settings_page(logo_form=form, status=error.status)
    flash(_("The logo has been replaced."), "success")
    return redirect(url_for("associations.settings"), 303)
