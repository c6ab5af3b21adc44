"""Forms of oversight: opening, answering and deciding on a task; drawing and inspecting."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.core.forms import SensibleDate, options
from app.oversight.rectification import TaskInput


class TaskForm(FlaskForm):
    title = StringField(
        _l("What needs correcting"),
        validators=[
            InputRequired(message=_l("Say in a few words what needs correcting.")),
            Length(max=120),
        ],
    )
    description = TextAreaField(
        _l("Details: what is wrong and what must be done"),
        validators=[
            InputRequired(message=_l("Describe what is wrong and what must be done.")),
            Length(max=4000),
        ],
    )
    deadline_on = DateField(
        _l("Deadline"), validators=[InputRequired(message=_l("Set a deadline.")), SensibleDate()]
    )
    checklist_item_id = IntegerField(validators=[Optional()])
    activity_id = IntegerField(validators=[Optional()])

    def to_input(self) -> TaskInput:
        return TaskInput(
            title=self.title.data or "",
            description=self.description.data or "",
            deadline_on=self.deadline_on.data,
            checklist_item_id=self.checklist_item_id.data,
            activity_id=self.activity_id.data,
        )


class AnswerForm(FlaskForm):
    note = TextAreaField(
        _l("What was done"),
        validators=[
            InputRequired(message=_l("Say what was done to correct it.")),
            Length(max=4000),
        ],
    )
    files = MultipleFileField(_l("Evidence (photos, PDF or Word)"))


class DecisionForm(FlaskForm):
    decision = RadioField(
        _l("Decision"),
        choices=options([("accept", _l("Accept and close")), ("return", _l("Send back"))]),
        validators=[InputRequired(message=_l("Choose accept or send back."))],
    )
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])


class DrawForm(FlaskForm):
    year = IntegerField(
        _l("Year"),
        validators=[
            InputRequired(message=_l("Choose a year.")),
            NumberRange(min=2000, max=2100, message=_l("Choose a year.")),
        ],
    )
    quarter = SelectField(
        _l("Quarter"),
        choices=options(
            [
                ("", _l("Whole year")),
                ("1", _l("Quarter 1")),
                ("2", _l("Quarter 2")),
                ("3", _l("Quarter 3")),
                ("4", _l("Quarter 4")),
            ]
        ),
        default="",
        validate_choice=False,  # anything but 1–4 means the whole year
    )
    # Checked by the service: it must be an association directly below.
    child_id = SelectField(
        _l("Only below"),
        choices=options([("", _l("All associations below"))]),
        validate_choice=False,
    )
    size = IntegerField(
        _l("How many records to draw"),
        validators=[InputRequired(message=_l("Draw at least one activity record."))],
    )


class InspectForm(FlaskForm):
    verdict = RadioField(
        _l("Finding"),
        choices=options([("ok", _l("Checked, fine")), ("problem", _l("Problem"))]),
        validators=[InputRequired(message=_l("Choose fine or problem."))],
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    open_task = BooleanField(_l("Open a rectification task for this problem"))
    title = StringField(_l("What needs correcting"), validators=[Optional(), Length(max=120)])
    deadline_on = DateField(_l("Deadline"), validators=[Optional(), SensibleDate()])
