"""Forms of an association's own administration: children, people, settings, bulk set-up."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import EmailField, IntegerField, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from app.accounts.forms import validate_login_shape
from app.accounts.services import EMAIL
from app.core.clock import china_today
from app.core.forms import options
from app.core.labels import KIND_LABELS, ROLE_LABELS
from tenants.models import Association, AssociationKind, Role

POPULATION_MESSAGE = _l("Enter a population above zero.")


def kind_choices_below(parent: Association) -> list[tuple[str, object]]:
    return [("", _l("From the division code"))] + [
        (kind.value, KIND_LABELS[kind]) for kind in AssociationKind if kind.level > parent.level
    ]


class ChildAssociationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    kind = SelectField(_l("Kind"), choices=[], validate_choice=True)
    division_code = StringField(
        _l("Division code (12 digits)"),
        validators=[
            Optional(),
            Regexp(r"^\d{12}$", message=_l("A division code has exactly 12 digits.")),
        ],
    )
    served_population = IntegerField(
        _l("Population served"),
        validators=[
            InputRequired(),
            NumberRange(min=1, max=200_000_000, message=POPULATION_MESSAGE),
        ],
    )
    secretary_name = StringField(_l("First secretary's name"), validators=[Length(max=60)])
    secretary_login = StringField(
        _l("First secretary's mobile number or email"), validators=[Length(max=120)]
    )


class SecretaryInvitationForm(FlaskForm):
    name = StringField(_l("Secretary's name"), validators=[DataRequired(), Length(max=60)])
    login = StringField(
        _l("Mobile number or email"),
        validators=[DataRequired(), Length(max=120), validate_login_shape],
    )


class RoleForm(FlaskForm):
    role = SelectField(
        _l("Role"),
        choices=options([(role.value, ROLE_LABELS[role]) for role in Role]),
        validators=[DataRequired()],
    )


class SettingsForm(FlaskForm):
    name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=120)])
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=60)])
    contact_phone = StringField(
        _l("Contact telephone"),
        validators=[
            Optional(),
            Regexp(r"^[0-9+\- ]{5,20}$", message=_l("Enter a telephone number.")),
        ],
    )
    contact_email = EmailField(
        _l("Contact email"),
        validators=[
            Optional(),
            Length(max=120),
            Regexp(EMAIL, message=_l("Enter an email address.")),
        ],
    )
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])


class PopulationForm(FlaskForm):
    from_year = IntegerField(
        _l("In force from the year"),
        default=lambda: china_today().year,
        validators=[
            InputRequired(),
            NumberRange(min=1990, max=2100, message=_l("Enter a year such as 2026.")),
        ],
    )
    population = IntegerField(
        _l("Population served"),
        validators=[
            InputRequired(),
            NumberRange(min=1, max=200_000_000, message=POPULATION_MESSAGE),
        ],
    )


class ImportForm(FlaskForm):
    file = FileField(
        _l("Spreadsheet (.xlsx or .csv)"),
        validators=[FileRequired(message=_l("Choose a file."))],
    )


class ConfirmImportForm(FlaskForm):
    token = StringField(validators=[DataRequired(), Regexp(r"^[A-Za-z0-9_-]{20,64}$")])
    # The user's choices of sheet and heading row, applied again when the kept file is re-read.
    sheet = StringField(validators=[Optional(), Length(max=100)])
    heading_row = IntegerField(validators=[Optional(), NumberRange(min=1, max=1_000_000)])


class LogoForm(FlaskForm):
    logo = FileField(
        _l("Logo (JPEG, PNG or WebP, at most 2 MB)"),
        validators=[FileRequired(message=_l("Choose a file."))],
    )
