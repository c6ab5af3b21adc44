"""Sign-in, password and invitation forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from app.accounts.services import is_valid_login, normalise_login
from app.core.forms import options
from app.core.labels import ROLE_LABELS
from tenants.models import Role


def validate_login_shape(form, field) -> None:
    if not is_valid_login(normalise_login(field.data or "")):
        raise ValidationError(_l("Enter an email address or an 11-digit mobile number."))


class LoginForm(FlaskForm):
    login = StringField(_l("Email or mobile number"), validators=[DataRequired(), Length(max=120)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class ForgotPasswordForm(FlaskForm):
    login = StringField(
        _l("Email or mobile number"),
        validators=[DataRequired(), Length(max=120), validate_login_shape],
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])


class ConfirmInvitationForm(FlaskForm):
    """For a person who already has an account: joining needs only a click (and the CSRF token)."""


class AcceptInvitationForm(NewPasswordForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=60)])


class InvitationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)])
    login = StringField(
        _l("Email or mobile number"),
        validators=[DataRequired(), Length(max=120), validate_login_shape],
    )
    role = SelectField(
        _l("Role"),
        choices=options(
            [(role.value, ROLE_LABELS[role]) for role in (Role.STAFF, Role.MEMBER, Role.SECRETARY)]
        ),
        validators=[DataRequired()],
    )


class SignInCodeForm(FlaskForm):
    """The second step of signing in: a code from the app, or one of the recovery codes."""

    code = StringField(_l("Six-digit code"), validators=[Optional(), Length(max=12)])
    recovery_code = StringField(_l("Recovery code"), validators=[Optional(), Length(max=40)])


class ConfirmSecondFactorForm(FlaskForm):
    code = StringField(_l("Six-digit code"), validators=[DataRequired(), Length(max=12)])


class DisableSecondFactorForm(FlaskForm):
    password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])
    code = StringField(_l("Six-digit code"), validators=[DataRequired(), Length(max=12)])


class PhoneForm(FlaskForm):
    phone = StringField(_l("Mobile number"), validators=[DataRequired(), Length(max=20)])


class PhoneCodeForm(FlaskForm):
    code = StringField(_l("Six-digit code"), validators=[DataRequired(), Length(max=12)])


class ClaimMemberForm(FlaskForm):
    """The record the phone's holder chose; checked against her phone's records."""

    member_id = StringField(validators=[DataRequired(), Length(max=12)])
