"""Forms of the yearly plan: its introduction, commitments, planned activities, approval and
progress notes. Each carries the plan's year."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from app.core.forms import SensibleDate, options
from app.governance.models import ApprovingBody, Measure
from app.governance.services import (
    BODY_LABELS,
    MEASURE_LABELS,
    ApprovalInput,
    CommitmentInput,
    UpdateInput,
)

QUARTERS = [
    ("1", _l("Quarter 1")),
    ("2", _l("Quarter 2")),
    ("3", _l("Quarter 3")),
    ("4", _l("Quarter 4")),
]
MONTH_NAMES = {
    1: _l("January"),
    2: _l("February"),
    3: _l("March"),
    4: _l("April"),
    5: _l("May"),
    6: _l("June"),
    7: _l("July"),
    8: _l("August"),
    9: _l("September"),
    10: _l("October"),
    11: _l("November"),
    12: _l("December"),
}


class YearForm(FlaskForm):
    """Only the plan's year (publishing)."""

    year = IntegerField(
        validators=[
            InputRequired(message=_l("Choose a year.")),
            NumberRange(min=2000, max=2100, message=_l("Choose a year.")),
        ],
    )


class PlanForm(YearForm):
    summary = TextAreaField(
        _l("Introduction to the plan"), validators=[Optional(), Length(max=4000)]
    )
    show_activities = BooleanField(_l("Show the year's activities (titles and dates)"))
    show_dues = BooleanField(_l("Show the dues collected in total"))


class CommitmentForm(YearForm):
    text = StringField(
        _l("Commitment"),
        validators=[
            InputRequired(message=_l("Say what the association commits to.")),
            Length(max=300),
        ],
    )
    measure = SelectField(
        _l("Measured by"),
        choices=options((measure.value, label) for measure, label in MEASURE_LABELS.items()),
        validators=[InputRequired(message=_l("Choose how it is measured."))],
    )
    unit = StringField(_l("Unit (for a measure entered by hand)"), validators=[Length(max=20)])
    target = IntegerField(
        _l("Target"),
        validators=[
            InputRequired(message=_l("Set a target.")),
            NumberRange(min=0, max=10_000_000, message=_l("Set a target of 0 or more.")),
        ],
    )
    due_quarter = SelectField(
        _l("Due by the end of"),
        choices=options(QUARTERS),
        validators=[InputRequired(message=_l("Choose a quarter."))],
    )

    def to_input(self) -> CommitmentInput:
        return CommitmentInput(
            text=self.text.data or "",
            measure=Measure(self.measure.data),
            target=self.target.data,
            due_quarter=int(self.due_quarter.data),
            unit=self.unit.data or "",
        )


class PlannedActivityForm(YearForm):
    month = SelectField(
        _l("Month"),
        choices=options((str(month), name) for month, name in MONTH_NAMES.items()),
        validators=[InputRequired(message=_l("Choose a month."))],
    )
    title = StringField(
        _l("Planned activity"),
        validators=[InputRequired(message=_l("Name the activity.")), Length(max=120)],
    )


class ApprovalForm(YearForm):
    approved_on = DateField(
        _l("Approved on"),
        validators=[
            InputRequired(message=_l("Enter the date of the meeting.")),
            SensibleDate(not_future=True),
        ],
    )
    approved_by = SelectField(
        _l("Approved by"),
        choices=options((body.value, label) for body, label in BODY_LABELS.items()),
        validators=[InputRequired(message=_l("Choose who approved the plan."))],
    )
    attendance = IntegerField(
        _l("Number attending"),
        validators=[
            InputRequired(message=_l("Say how many attended.")),
            NumberRange(min=1, max=100_000, message=_l("Say how many attended.")),
        ],
    )
    minutes = FileField(_l("Minutes (photo, PDF or Word)"))

    def validate_minutes(self, field) -> None:
        if not field.data or not getattr(field.data, "filename", ""):
            raise ValidationError(_l("Attach the minutes of the meeting."))

    def to_input(self) -> ApprovalInput:
        return ApprovalInput(
            approved_on=self.approved_on.data,
            approved_by=ApprovingBody(self.approved_by.data),
            attendance=self.attendance.data,
        )


class UpdateForm(FlaskForm):
    noted_on = DateField(
        _l("Date"),
        validators=[
            InputRequired(message=_l("Enter the date.")),
            SensibleDate(not_future=True),
        ],
    )
    note = TextAreaField(_l("What was done"), validators=[Optional(), Length(max=2000)])
    value = IntegerField(
        _l("Value reached"),
        validators=[
            Optional(),
            NumberRange(min=0, max=10_000_000, message=_l("Enter 0 or more.")),
        ],
    )
    done = BooleanField(_l("The commitment is fulfilled"))
    evidence = FileField(_l("Evidence (photo, PDF or Word)"))

    def to_input(self) -> UpdateInput:
        return UpdateInput(
            noted_on=self.noted_on.data,
            note=self.note.data or "",
            value=self.value.data,
            done=bool(self.done.data),
        )

    def evidence_file(self):
        data = self.evidence.data
        return data if data and getattr(data, "filename", "") else None


class SupervisionCommentForm(YearForm):
    body = TextAreaField(
        _l("Comment from the level above"),
        validators=[InputRequired(message=_l("Write the comment.")), Length(max=4000)],
    )


class OpenSurveyForm(YearForm):
    closes_on = DateField(
        _l("Closes on"),
        validators=[InputRequired(message=_l("Choose a closing date.")), SensibleDate()],
    )
    target_percent = IntegerField(
        _l("Satisfaction target, %"),
        default=95,
        validators=[
            InputRequired(message=_l("Set a target.")),
            NumberRange(min=1, max=100, message=_l("A percentage target is at most 100.")),
        ],
    )


class CodesForm(YearForm):
    count = IntegerField(
        _l("How many codes to print"),
        default=50,
        validators=[
            InputRequired(message=_l("Say how many codes to print.")),
            NumberRange(min=1, max=500, message=_l("Print between 1 and 500 codes at a time.")),
        ],
    )


class ModerateForm(FlaskForm):
    decision = SelectField(
        choices=options([("publish", _l("Publish")), ("hide", _l("Keep private"))]),
        validators=[InputRequired(message=_l("Choose publish or keep private."))],
    )


SCORE_CHOICES = [
    ("5", _l("Very satisfied")),
    ("4", _l("Satisfied")),
    ("3", _l("Neutral")),
    ("2", _l("Dissatisfied")),
    ("1", _l("Very dissatisfied")),
]


class AnswerForm(FlaskForm):
    """The resident's answers; one rating per commitment is read from `score-<id>`."""

    code = StringField(_l("Code on your slip"), validators=[Optional(), Length(max=20)])
    phone = StringField(_l("Mobile number"), validators=[Optional(), Length(max=20)])
    sms_code = StringField(_l("Code from the SMS"), validators=[Optional(), Length(max=10)])
    overall = SelectField(
        _l("Overall, how satisfied are you with the association's work this year?"),
        choices=options([("", "—"), *SCORE_CHOICES]),
        validators=[InputRequired(message=_l("Choose a rating from 1 to 5."))],
    )
    comment = TextAreaField(
        _l("Comment (optional; published only after the secretary reads it)"),
        validators=[Optional(), Length(max=2000)],
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        has_phone = (self.phone.data or "").strip() and (self.sms_code.data or "").strip()
        if self.by_phone and not has_phone:
            self.code.errors = [
                *self.code.errors,
                _l("Enter the code on your slip, or your mobile number and the code texted to it."),
            ]
            return False
        return valid

    @property
    def by_phone(self) -> bool:
        return not (self.code.data or "").strip()


class PhoneForm(FlaskForm):
    phone = StringField(
        _l("Mobile number"),
        validators=[InputRequired(message=_l("Enter an 11-digit mobile number.")), Length(max=20)],
    )


class ReportForm(YearForm):
    body = TextAreaField(
        _l("Report to residents"),
        validators=[InputRequired(message=_l("Write the report.")), Length(max=20000)],
    )
