"""Sign-in, sign-out, password reset and change, accepting invitations, language choice."""

from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts import second_factor_views, services
from app.accounts.forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    ConfirmInvitationForm,
    ForgotPasswordForm,
    LoginForm,
    NewPasswordForm,
)
from app.accounts.passwords import password_problem, verify_password
from app.accounts.session import current_record, end_session, renew_session_id, start_session
from app.core import audit
from app.core.notifications import mask_recipient, notify
from app.core.views import invalid_form, render
from app.extensions import db, limiter
from tenants.access import memberships_of
from tenants.models import Role


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: an open redirect would make phishing links look like ours."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def index():
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    memberships = memberships_of(current_user.id)
    if len(memberships) == 1:
        return redirect(url_for("associations.home", slug=memberships[0].association.slug))
    if not memberships and current_user.is_platform_admin:
        return redirect(url_for("admin.index"))
    return redirect(url_for("accounts.choose_association"))


@login_required
def choose_association():
    return render("accounts/choose_association.html", memberships=memberships_of(current_user.id))


@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def login():
    form = LoginForm()
    if not form.validate_on_submit():
        if form.is_submitted():
            return invalid_form("accounts/login.html", form=form)
        return render("accounts/login.html", form=form)
    result = services.sign_in(form.login.data, form.password.data)
    if result.user is None:
        db.session.commit()  # keep the failure count and the audit entry
        form.password.errors.append(result.error)
        return invalid_form("accounts/login.html", form=form)
    if result.user.has_second_factor:
        return second_factor_views.begin_second_step(
            result.user, _safe_next(request.args.get("next"))
        )
    start_session(result.user, staff=services.holds_staff_role(result.user.id))
    if result.user.locale:
        session["locale"] = result.user.locale
    return redirect(_safe_next(request.args.get("next")) or url_for("accounts.index"))


def logout():
    if current_user.is_authenticated:
        end_session()
        flash(_("You have signed out."), "info")
    return redirect(url_for("accounts.login"))


def forgot_password():
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        if form.is_submitted():
            return invalid_form("accounts/forgot_password.html", form=form)
        return render("accounts/forgot_password.html", form=form)
    user = services.find_user(form.login.data)
    if user is not None and user.is_active:
        token = services.make_reset_token(user)
        link = url_for("accounts.reset_password", token=token, _external=True)
        notify(
            user.login,
            _("Reset your Xiehui password"),
            _("Open this link within an hour to choose a new password: %(link)s", link=link),
        )
    # The same answer whether or not the login exists: no account enumeration.
    flash(_("If that account exists, a link to reset the password is on its way."), "info")
    return redirect(url_for("accounts.login"))


def reset_password(token: str):
    user = services.user_for_reset_token(token)
    if user is None:
        audit.record_apart("password_reset_refused", outcome="denied", reason="invalid_token")
        flash(_("This password reset link has expired or was already used."), "error")
        return render("accounts/forgot_password.html", form=ForgotPasswordForm(), status=410)
    if current_user.is_authenticated and current_user.id != user.id:
        response = render("accounts/reset_other_account.html", status=403)
        audit.record_apart(
            "password_reset_refused", target=user, outcome="denied", reason="other_account"
        )
        return response
    form = NewPasswordForm()
    if form.validate_on_submit():
        problem = password_problem(
            form.password.data,
            staff=services.holds_staff_role(user.id),
            personal=(user.login, user.name),
        )
        if problem is None:
            services.set_password(user, form.password.data)
            end_session()
            flash(_("Your password has been changed. Please sign in."), "success")
            return redirect(url_for("accounts.login"))
        form.password.errors.append(problem)
    if form.is_submitted():
        return invalid_form("accounts/reset_password.html", form=form, token=token)
    return render("accounts/reset_password.html", form=form, token=token)


@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        problem = password_problem(
            form.password.data,
            staff=services.holds_staff_role(user.id),
            personal=(user.login, user.name),
        )
        if not verify_password(user.password_hash, form.current.data):
            form.current.errors.append(_("The current password is wrong."))
        elif problem is not None:
            form.password.errors.append(problem)
        else:
            # Other sessions end; this one continues, under a new session id.
            services.set_password(user, form.password.data, keep_session=current_record().id)
            renew_session_id()
            flash(
                _("Your password has been changed. Other sessions have been signed out."), "success"
            )
            return redirect(url_for("accounts.index"))
    if form.is_submitted():
        return invalid_form("accounts/change_password.html", form=form)
    return render("accounts/change_password.html", form=form)


def accept_invitation(token: str):
    """Load the invitation by its token, check who follows the link, then accept.

    Nothing here signs anyone in as an existing account: its owner signs in first, through the
    login form and the second factor, and is sent back here."""
    invitation = services.find_invitation(token)
    if invitation is None:
        audit.record_apart("invitation_refused", outcome="denied", reason="unknown_token")
        return render("accounts/invitation_invalid.html", invitation=None, status=404)
    acting_user = current_user._get_current_object() if current_user.is_authenticated else None
    refusal = services.invitation_refusal(invitation, acting_user)
    if refusal == "no_longer_valid":
        response = render("accounts/invitation_invalid.html", invitation=invitation, status=410)
        _record_refusal(invitation, invitation.status)
        return response
    if refusal is not None:
        response = render(
            "accounts/accept_invitation.html",
            invitation=invitation,
            refusal=refusal,
            masked_login=mask_recipient(invitation.login),
            login_url=url_for("accounts.login", next=request.path),
            form=ConfirmInvitationForm(),
            status=403 if refusal == "other_account" or request.method == "POST" else 200,
        )
        # Following the link is not a refusal yet; submitting it is, and is logged.
        if response.status_code == 403:
            _record_refusal(invitation, refusal)
        return response
    new_account = acting_user is None
    form = AcceptInvitationForm(name=invitation.name) if new_account else ConfirmInvitationForm()
    if form.validate_on_submit():
        problem = None
        if new_account:
            problem = password_problem(
                form.password.data,
                staff=invitation.role != Role.MEMBER,
                personal=(invitation.login, form.name.data),
            )
        if problem is None:
            user = services.accept_invitation(
                invitation,
                acting_user=acting_user,
                name=form.name.data if new_account else acting_user.name,
                password=form.password.data if new_account else None,
            )
            if new_account:
                start_session(user, staff=services.holds_staff_role(user.id))
            flash(
                _("Welcome! You have joined %(name)s.", name=invitation.association.name), "success"
            )
            return redirect(url_for("associations.home", slug=invitation.association.slug))
        form.password.errors.append(problem)
    context = {
        "form": form,
        "invitation": invitation,
        "refusal": None,
        "masked_login": mask_recipient(invitation.login),
        "new_account": new_account,
    }
    if form.is_submitted():
        return invalid_form("accounts/accept_invitation.html", **context)
    return render("accounts/accept_invitation.html", **context)


def _record_refusal(invitation, reason: str) -> None:
    """Logged apart: the refused request itself is rolled back. Called after rendering, since
    the invitation is no longer readable once its tenant-scoped transaction has ended."""
    audit.record_apart(
        "invitation_refused",
        association_id=invitation.association_id,
        target=invitation,
        outcome="denied",
        reason=reason,
    )


def set_locale():
    locale = request.form.get("locale", "")
    if locale not in current_app.config["LANGUAGES"]:
        abort(400)
    session["locale"] = locale
    if current_user.is_authenticated:
        current_user.locale = locale
    return redirect(_safe_next(request.form.get("next")) or url_for("accounts.index"))
