"""The second factor in the browser: the code step of signing in, enrolment (forced where
required), recovery codes, and turning the optional second factor off."""

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_htmx import make_response as htmx_response
from flask_login import current_user, login_required

from app.accounts import second_factor
from app.accounts.forms import ConfirmSecondFactorForm, DisableSecondFactorForm, SignInCodeForm
from app.accounts.models import User
from app.accounts.services import holds_staff_role
from app.accounts.session import end_session, start_session
from app.core import crypto
from app.core.clock import utcnow
from app.core.views import invalid_form, private_download, render
from app.extensions import db, htmx, limiter

# Password accepted, code not yet: {"user": id, "at": unix time, "next": path or None}. It is
# not a session: Flask-Login knows nothing of it, so every other page sees a signed-out visitor.
PENDING = "second_factor_pending"
PENDING_SECONDS = 300
# The secret being enrolled, encrypted, until the first code confirms it.
NEW_SECRET = "second_factor_new_secret"
# [user id, required?] for this session: computed once, not on every request.
REQUIRED = "second_factor_required"
ENROLMENT_EXEMPT = frozenset(
    {
        "static",
        "accounts.logout",
        "accounts.set_locale",
        "accounts.enrol_second_factor",
        "accounts.download_recovery_codes",
    }
)


def _now() -> float:
    return utcnow().timestamp()


# ---- sign-in, second step -----------------------------------------------------------------


def begin_second_step(user: User, next_url: str | None):
    """After the password: no session yet, only the short-lived pending marker."""
    end_session()  # nothing of an earlier sign-in in this browser survives the new attempt
    session[PENDING] = {"user": user.id, "at": _now(), "next": next_url}
    return redirect(url_for("accounts.sign_in_code"))


def _pending_user() -> User | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("user"), int):
        return None
    age = _now() - float(pending.get("at", 0))
    user = db.session.get(User, pending["user"]) if 0 <= age <= PENDING_SECONDS else None
    if user is None or not user.is_active or not user.has_second_factor:
        session.pop(PENDING, None)
        return None
    return user


@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def sign_in_code():
    user = _pending_user()
    if user is None:
        flash(_("Please sign in again."), "warning")
        return redirect(url_for("accounts.login"))
    form = SignInCodeForm()
    if not form.validate_on_submit():
        if form.is_submitted():
            return invalid_form("accounts/sign_in_code.html", form=form)
        return render("accounts/sign_in_code.html", form=form)
    field = form.recovery_code if form.recovery_code.data else form.code
    if not field.data:
        form.code.errors.append(_("Enter the code."))
        return invalid_form("accounts/sign_in_code.html", form=form)
    step = second_factor.verify_sign_in(user, field.data)
    if not step.passed:
        db.session.commit()  # keep the failure count and the audit entry
        if step.outcome == second_factor.Outcome.LOCKED:
            session.pop(PENDING, None)
            flash(step.error, "error")
            return redirect(url_for("accounts.login"))
        field.errors.append(step.error)
        return invalid_form("accounts/sign_in_code.html", form=form)
    next_url = session[PENDING].get("next")
    start_session(user, staff=holds_staff_role(user.id))
    if user.locale:
        session["locale"] = user.locale
    if step.outcome == second_factor.Outcome.RECOVERY_CODE:
        flash(
            _(
                "You signed in with a recovery code; %(count)s are left. If your phone is lost, "
                "set up the second factor again (menu › Second factor).",
                count=second_factor.unused_recovery_codes(user),
            ),
            "warning",
        )
    return redirect(next_url or url_for("accounts.index"))


# ---- forced enrolment ---------------------------------------------------------------------


def _must_enrol() -> bool:
    cached = session.get(REQUIRED)
    if isinstance(cached, list) and len(cached) == 2 and cached[0] == current_user.id:
        return bool(cached[1])
    required = second_factor.is_required(current_user)
    session[REQUIRED] = [current_user.id, required]
    return required


def require_enrolment():
    """Before every request: a signed-in user who must have a second factor and has none goes
    to the enrolment page first (the role is checked once per session)."""
    if (
        not current_user.is_authenticated
        or current_user.has_second_factor
        or request.endpoint in ENROLMENT_EXEMPT
        or not _must_enrol()
    ):
        return None
    target = url_for("accounts.enrol_second_factor")
    if htmx:
        return htmx_response("", redirect=target)
    return redirect(target)


# ---- My account: enrol, recovery codes, turn off ------------------------------------------


@login_required
def manage_second_factor():
    user = current_user._get_current_object()
    return render(
        "accounts/second_factor.html",
        required=second_factor.is_required(user),
        unused_codes=second_factor.unused_recovery_codes(user) if user.has_second_factor else 0,
        disable_form=DisableSecondFactorForm(formdata=None),
        renew_form=ConfirmSecondFactorForm(formdata=None),
    )


def _enrolment_page(form: ConfirmSecondFactorForm, secret: str, *, status: int = 200):
    user = current_user._get_current_object()
    return render(
        "accounts/enrol_second_factor.html",
        status=status,
        form=form,
        qr_svg=second_factor.qr_code_svg(second_factor.provisioning_uri(user, secret)),
        secret_groups=second_factor.grouped(secret),
        required=second_factor.is_required(user),
    )


@login_required
def enrol_second_factor():
    user = current_user._get_current_object()
    if user.has_second_factor:
        return redirect(url_for("accounts.manage_second_factor"))
    stored = session.get(NEW_SECRET)
    secret = crypto.decrypt(stored) if stored else None
    if secret is None:
        secret = second_factor.new_secret()
        session[NEW_SECRET] = crypto.encrypt(secret)
    form = ConfirmSecondFactorForm()
    if not form.validate_on_submit():
        return _enrolment_page(form, secret, status=422 if form.is_submitted() else 200)
    try:
        codes = second_factor.enable(user, secret, form.code.data)
    except second_factor.SecondFactorError as error:
        form.code.errors.append(str(error))
        return _enrolment_page(form, secret, status=422)
    session.pop(NEW_SECRET, None)
    return render("accounts/recovery_codes.html", codes=codes, enrolled=True)


@login_required
def renew_recovery_codes():
    user = current_user._get_current_object()
    form = ConfirmSecondFactorForm()
    if not user.has_second_factor or not form.validate_on_submit():
        flash(_("Enter a current code to make new recovery codes."), "error")
        return redirect(url_for("accounts.manage_second_factor"), 303)
    try:
        codes = second_factor.regenerate_recovery_codes(user, form.code.data)
    except second_factor.SecondFactorError as error:
        flash(str(error), "error")
        return redirect(url_for("accounts.manage_second_factor"), 303)
    return render("accounts/recovery_codes.html", codes=codes, enrolled=False)


@login_required
def download_recovery_codes():
    """The codes just shown, sent back by the page as a text file: the server keeps none."""
    codes = [code.strip() for code in request.form.getlist("code")][
        : second_factor.RECOVERY_CODE_COUNT
    ]
    if not codes or not all(second_factor.is_recovery_code_shape(code) for code in codes):
        flash(_("Nothing to download."), "error")
        return redirect(url_for("accounts.manage_second_factor"), 303)
    lines = [
        _("Xiehui recovery codes for %(login)s", login=current_user.login),
        _("Each code signs you in once, instead of the code from your phone."),
        "",
        *codes,
        "",
    ]
    return private_download(
        "\r\n".join(lines).encode("utf-8"),
        "xiehui-recovery-codes.txt",
        mimetype="text/plain; charset=utf-8",
    )


@login_required
def disable_second_factor():
    user = current_user._get_current_object()
    form = DisableSecondFactorForm()
    if not user.has_second_factor or not form.validate_on_submit():
        flash(_("Enter your password and a current code."), "error")
        return redirect(url_for("accounts.manage_second_factor"), 303)
    try:
        second_factor.disable(user, password=form.password.data, code=form.code.data)
    except second_factor.SecondFactorError as error:
        flash(str(error), "error")
        return redirect(url_for("accounts.manage_second_factor"), 303)
    flash(_("The second factor is off."), "success")
    return redirect(url_for("accounts.manage_second_factor"), 303)
