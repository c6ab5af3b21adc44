"""Forms of the registers (labels are lazy gettext)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from app.core.forms import SensibleDate, options
from app.core.phones import PHONE_PROBLEM, validate_phone
from app.members.idnumbers import IdNumberProblem, validate_id_number
from app.members.labels import GENDER_LABELS, STATUS_LABELS
from app.members.models import BACKBONE_TAGS, Gender, MemberStatus


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _optional_int(value):
    if value in (None, "", "0", 0):
        return None
    return int(value)


def check_id_number(form, field) -> None:
    if not field.data:
        field.data = None
        return
    try:
        field.data = validate_id_number(field.data)
    except IdNumberProblem as problem:
        raise ValidationError(problem.message) from None


def check_phone(form, field) -> None:
    if not field.data:
        field.data = None
        return
    try:
        field.data = validate_phone(field.data)
    except ValueError:
        raise ValidationError(PHONE_PROBLEM) from None


class MemberForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)])
    gender = SelectField(
        _l("Gender"),
        choices=options(
            [("", _l("From the ID number"))] + [(g.value, GENDER_LABELS[g]) for g in Gender]
        ),
        validators=[Optional()],
    )
    phone = StringField(_l("Mobile number"), validators=[Length(max=20), check_phone])
    id_number = StringField(_l("ID number"), validators=[Length(max=30), check_id_number])
    household_id = SelectField(_l("Household"), coerce=_optional_int, validate_choice=False)
    joined_on = DateField(_l("Joined on"), validators=[Optional(), SensibleDate(not_future=True)])
    status = SelectField(
        _l("Status"),
        choices=options([(s.value, STATUS_LABELS[s]) for s in MemberStatus]),
        default=MemberStatus.ACTIVE.value,
    )
    status_on = DateField(
        _l("Status since"), validators=[Optional(), SensibleDate(not_future=True)]
    )
    backbone = CheckboxesField(
        _l("五老 backbone"),
        choices=options([(tag, tag) for tag in BACKBONE_TAGS]),
        validate_choice=False,
    )
    other_tags = StringField(
        _l("Other tags (separated by commas)"), validators=[Optional(), Length(max=200)]
    )
    user_id = SelectField(_l("Linked account"), coerce=_optional_int, validate_choice=False)

    def tags(self) -> list[str]:
        others = (self.other_tags.data or "").replace("，", ",").replace("、", ",").split(",")
        return list(self.backbone.data or []) + [tag.strip()[:30] for tag in others if tag.strip()]


class HouseholdForm(FlaskForm):
    address = StringField(_l("Address"), validators=[DataRequired(), Length(max=200)])
    grid = StringField(_l("Grid"), validators=[Optional(), Length(max=60)])
    building = StringField(_l("Building"), validators=[Optional(), Length(max=60)])
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=60)])


class LinkForm(FlaskForm):
    central_household_id = SelectField(
        _l("Central household"),
        coerce=_optional_int,
        validate_choice=False,
        validators=[InputRequired()],
    )


class VisitForm(FlaskForm):
    visited_on = DateField(_l("Date of the visit"), validators=[InputRequired(), SensibleDate()])
    households = CheckboxesField(_l("Households visited"), coerce=int, validate_choice=False)
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])


class SettingsForm(FlaskForm):
    limit = IntegerField(
        _l("Linked households per central household (at most)"),
        validators=[InputRequired(), NumberRange(min=1, max=50)],
    )


class ImportUploadForm(FlaskForm):
    file = FileField(_l("Spreadsheet (.xlsx, .xls or .csv)"), validators=[FileRequired()])


class ContactForm(FlaskForm):
    """A member's own details: only her phone. A posted `household_id` is not a field here, so
    it is ignored; moving household goes through MoveRequestForm."""

    phone = StringField(_l("Mobile number"), validators=[Length(max=20), check_phone])


class MoveRequestForm(FlaskForm):
    new_address = StringField(
        _l("New address"),
        validators=[
            InputRequired(message=_l("Enter the address you are moving to.")),
            Length(max=200),
        ],
        filters=[_strip],
    )
    note = TextAreaField(
        _l("Note for the secretary (optional)"),
        validators=[Optional(), Length(max=500)],
        filters=[_strip],
    )


class MoveApprovalForm(FlaskForm):
    household_id = SelectField(
        _l("Move into"), coerce=_optional_int, validate_choice=False, default=0
    )
    address = StringField(
        _l("Address of the new household"),
        validators=[Optional(), Length(max=200)],
        filters=[_strip],
    )


class MoveDeclineForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (the member will see it)"),
        validators=[
            InputRequired(message=_l("Give the reason for declining: the member will see it.")),
            Length(max=500),
        ],
        filters=[_strip],
    )


class DeletionRequestForm(FlaskForm):
    reason = TextAreaField(
        _l("Why (optional)"), validators=[Optional(), Length(max=500)], filters=[_strip]
    )


class DataRequestDecisionForm(FlaskForm):
    action = SelectField(
        _l("Decision"),
        choices=options([("carry_out", _l("Delete the record")), ("refuse", _l("Refuse"))]),
    )
    note = TextAreaField(
        _l("Note to the member"), validators=[Optional(), Length(max=500)], filters=[_strip]
    )
