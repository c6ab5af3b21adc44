"""Sign-in, sign-out, password reset and change, accepting invitations, language choice."""

from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts import services
from app.accounts.forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    ConfirmInvitationForm,
    ForgotPasswordForm,
    LoginForm,
    NewPasswordForm,
)
from app.accounts.passwords import password_problem, verify_password
from app.accounts.session import end_session, start_session
from app.core.notifications import notify
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
        flash(_("This password reset link has expired or was already used."), "error")
        return render("accounts/forgot_password.html", form=ForgotPasswordForm(), status=410)
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
            services.set_password(user, form.password.data)
            # Other sessions end (new session version); this one continues with the new id.
            start_session(user, staff=session.get("staff", True))
            flash(
                _("Your password has been changed. Other sessions have been signed out."), "success"
            )
            return redirect(url_for("accounts.index"))
    if form.is_submitted():
        return invalid_form("accounts/change_password.html", form=form)
    return render("accounts/change_password.html", form=form)


def accept_invitation(token: str):
    invitation = services.find_invitation(token)
    if invitation is None:
        abort(404)
    if invitation.status != "pending":
        return render("accounts/invitation_invalid.html", invitation=invitation, status=410)
    existing = services.find_user(invitation.login)
    # Someone who already has an account only confirms; no second password.
    form = ConfirmInvitationForm() if existing else AcceptInvitationForm(name=invitation.name)
    if form.validate_on_submit():
        problem = None
        if existing is None:
            problem = password_problem(
                form.password.data,
                staff=invitation.role != Role.MEMBER,
                personal=(invitation.login, form.name.data),
            )
        if problem is None:
            user = services.accept_invitation(
                invitation,
                name=existing.name if existing else form.name.data,
                password=None if existing else form.password.data,
            )
            start_session(user, staff=services.holds_staff_role(user.id))
            flash(
                _("Welcome! You have joined %(name)s.", name=invitation.association.name), "success"
            )
            return redirect(url_for("associations.home", slug=invitation.association.slug))
        form.password.errors.append(problem)
    context = {"form": form, "invitation": invitation, "existing": existing}
    if form.is_submitted():
        return invalid_form("accounts/accept_invitation.html", **context)
    return render("accounts/accept_invitation.html", **context)


def set_locale():
    locale = request.form.get("locale", "")
    if locale not in current_app.config["LANGUAGES"]:
        abort(400)
    session["locale"] = locale
    if current_user.is_authenticated:
        current_user.locale = locale
    return redirect(_safe_next(request.form.get("next")) or url_for("accounts.index"))
