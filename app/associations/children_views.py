"""Setting up the associations below: create a child, invite, resend and revoke its first
secretary's invitation."""

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts import services as accounts
from app.accounts.notices import secretaries_of
from app.associations import onboarding
from app.associations.forms import (
    ChildAssociationForm,
    SecretaryInvitationForm,
    kind_choices_below,
)
from app.core.forms import options
from app.core.notifications import mask_recipient
from app.core.problems import show_problems
from app.core.views import render, secretary_only
from tenants.models import AssociationKind


def _actor():
    return current_user._get_current_object()


def _child_form(**kwargs) -> ChildAssociationForm:
    form = ChildAssociationForm(**kwargs)
    form.kind.choices = options(kind_choices_below(g.association))
    return form


def _children_page(form: ChildAssociationForm, *, status: int = 200):
    page, rows = onboarding.children_page(g.association, request.args.get("page", 1, type=int))
    return render(
        "associations/children.html",
        fragment="associations/_children.html",
        status=status,
        form=form,
        page=page,
        rows=rows,
        mask=mask_recipient,
        can_have_children=not g.association.kind.is_grassroots,
    )


@secretary_only
def children():
    return _children_page(_child_form())


@secretary_only
def create_child():
    parent = g.association
    form = _child_form()
    if parent.kind.is_grassroots:
        form.form_errors.append(_("A grassroots association cannot have associations under it."))
        return _children_page(form, status=422)
    if not form.validate_on_submit():
        return _children_page(form, status=422)
    spec = onboarding.ChildSpec(
        name=form.name.data,
        kind=AssociationKind(form.kind.data) if form.kind.data else None,
        division_code=form.division_code.data,
        served_population=form.served_population.data,
        secretary_name=form.secretary_name.data,
        secretary_login=form.secretary_login.data,
    )
    onboarding.check_child(parent, spec, onboarding.siblings_of([parent.id])[parent.id])
    if spec.errors:
        show_problems(form, spec.errors)
        return _children_page(form, status=422)
    try:
        child = onboarding.create_child(parent, spec, _actor())
        invitation = None
        if spec.secretary_login:
            invitation, token = onboarding.invite_first_secretary(
                child, _actor(), name=spec.secretary_name, login=spec.secretary_login
            )
            accounts.send_invitation(
                invitation.login, token, association_name=child.name, inviter=current_user.name
            )
    except onboarding.OnboardingError as error:
        form.form_errors.append(str(error))
        return _children_page(form, status=422)
    if invitation is not None:
        flash(
            _(
                "%(name)s has been created and its secretary invited at %(login)s. The link "
                "goes only to them.",
                name=child.name,
                login=mask_recipient(invitation.login),
            ),
            "success",
        )
    else:
        flash(_("%(name)s has been created.", name=child.name), "success")
    return _children_page(_child_form(formdata=None))


def _load_child(child_id: int):
    child = onboarding.child_of(g.association, child_id)
    if child is None:
        abort(404)
    return child


def _child_page(child, form: SecretaryInvitationForm, *, status: int = 200):
    return render(
        "associations/child.html",
        status=status,
        child=child,
        form=form,
        invitation=onboarding.latest_secretary_invitation(child),
        secretaries=secretaries_of(child),
        mask=mask_recipient,
    )


@secretary_only
def child(child_id: int):
    return _child_page(_load_child(child_id), SecretaryInvitationForm())


@secretary_only
def invite_child_secretary(child_id: int):
    child = _load_child(child_id)
    form = SecretaryInvitationForm()
    if not form.validate_on_submit():
        return _child_page(child, form, status=422)
    try:
        invitation, token = onboarding.invite_first_secretary(
            child, _actor(), name=form.name.data, login=form.login.data
        )
    except onboarding.OnboardingError as error:
        form.login.errors.append(str(error))
        return _child_page(child, form, status=422)
    accounts.send_invitation(
        invitation.login, token, association_name=child.name, inviter=current_user.name
    )
    flash(
        _(
            "Invitation sent to %(name)s (%(login)s). The link goes only to them.",
            name=invitation.name,
            login=mask_recipient(invitation.login),
        ),
        "success",
    )
    return _child_page(child, SecretaryInvitationForm(formdata=None))


@secretary_only
def resend_child_invitation(child_id: int):
    child = _load_child(child_id)
    try:
        invitation, token = onboarding.resend_secretary_invitation(child, _actor())
    except onboarding.OnboardingError as error:
        flash(str(error), "error")
        return redirect(url_for("associations.child", child_id=child.id), 303)
    accounts.send_invitation(
        invitation.login, token, association_name=child.name, inviter=current_user.name
    )
    flash(_("The invitation has been sent again; the earlier link no longer works."), "success")
    return _child_page(child, SecretaryInvitationForm(formdata=None))


@secretary_only
def revoke_child_invitation(child_id: int):
    child = _load_child(child_id)
    try:
        onboarding.revoke_secretary_invitation(child, _actor())
    except onboarding.OnboardingError as error:
        flash(str(error), "error")
    else:
        flash(_("The invitation has been revoked."), "success")
    return redirect(url_for("associations.child", child_id=child.id), 303)
