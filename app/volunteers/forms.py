"""Forms of volunteering (labels are lazy gettext); times are Beijing time."""

from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from app.core.clock import CHINA
from app.core.forms import SensibleDate, options
from app.members.forms import CheckboxesField, _optional_int, check_phone
from app.volunteers.models import BACKBONE_TAGS, TIMES_OF_DAY, WEEKDAYS
from app.volunteers.services import MAX_REPEATS, ShiftInput, TeamInput, VolunteerInput

FORMAT = "%Y-%m-%dT%H:%M"

WEEKDAY_LABELS = dict(
    zip(
        WEEKDAYS,
        (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun")),
        strict=True,
    )
)
TIME_LABELS = dict(
    zip(TIMES_OF_DAY, (_l("Mornings"), _l("Afternoons"), _l("Evenings")), strict=True)
)


def to_utc(local: datetime | None) -> datetime | None:
    return None if local is None else local.replace(tzinfo=CHINA)


def to_local(instant: datetime | None) -> datetime | None:
    return None if instant is None else instant.astimezone(CHINA).replace(tzinfo=None)


class VolunteerForm(FlaskForm):
    member_id = SelectField(_l("Member"), coerce=_optional_int, validate_choice=False)
    name = StringField(
        _l("Name (a volunteer who is not a member)"), validators=[Optional(), Length(max=60)]
    )
    phone = StringField(_l("Mobile number"), validators=[Length(max=20), check_phone])
    skills = StringField(
        _l("Skills (e.g. first aid, calligraphy, driving)"),
        validators=[Optional(), Length(max=400)],
    )
    weekdays = CheckboxesField(
        _l("Days available"), choices=options(list(WEEKDAY_LABELS.items())), validate_choice=True
    )
    times_of_day = CheckboxesField(
        _l("Time of day"), choices=options(list(TIME_LABELS.items())), validate_choice=True
    )
    availability = StringField(_l("Availability notes"), validators=[Optional(), Length(max=400)])
    tags = CheckboxesField(
        _l("Backbone roles"), choices=options([(t, t) for t in BACKBONE_TAGS]), validate_choice=True
    )
    active = BooleanField(_l("Active (can be put on shifts)"), default=True)

    def to_input(self) -> VolunteerInput:
        return VolunteerInput(
            member_id=self.member_id.data,
            name=self.name.data or "",
            phone=self.phone.data,
            skills=self.skills.data or "",
            availability=self.availability.data or "",
            weekdays=list(self.weekdays.data or []),
            times_of_day=list(self.times_of_day.data or []),
            tags=list(self.tags.data or []),
            active=bool(self.active.data),
        )

    def fill_from(self, volunteer, phone: str | None) -> None:
        self.member_id.data = volunteer.member_id
        self.name.data = volunteer.name
        self.phone.data = phone if volunteer.member_id is None else None
        self.skills.data = volunteer.skills
        self.weekdays.data = volunteer.weekdays
        self.times_of_day.data = volunteer.times_of_day
        self.availability.data = volunteer.availability
        self.tags.data = volunteer.tags
        self.active.data = volunteer.active


class TeamForm(FlaskForm):
    name = StringField(
        _l("Team name"),
        validators=[InputRequired(message=_l("Give the team a name.")), Length(max=60)],
    )
    leader_id = SelectField(_l("Leader"), coerce=_optional_int, validate_choice=False)
    duties = TextAreaField(
        _l("Standing duties (what the team looks after)"),
        validators=[Optional(), Length(max=2000)],
    )

    def to_input(self) -> TeamInput:
        return TeamInput(
            name=self.name.data or "", leader_id=self.leader_id.data, duties=self.duties.data or ""
        )


class TeamMemberForm(FlaskForm):
    volunteer_id = SelectField(
        _l("Volunteer"),
        coerce=_optional_int,
        validate_choice=False,
        validators=[InputRequired(message=_l("Choose a volunteer."))],
    )
    duty = StringField(
        _l("Standing duty (e.g. building 3, units 1–2)"), validators=[Optional(), Length(max=200)]
    )


class ShiftForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[InputRequired(message=_l("Give the shift a title.")), Length(max=120)],
    )
    starts_at = DateTimeLocalField(
        _l("Starts"),
        format=FORMAT,
        validators=[InputRequired(message=_l("Enter when the shift starts.")), SensibleDate()],
    )
    ends_at = DateTimeLocalField(
        _l("Ends"),
        format=FORMAT,
        validators=[InputRequired(message=_l("Enter when the shift ends.")), SensibleDate()],
    )
    people_needed = IntegerField(
        _l("People needed"),
        validators=[
            InputRequired(message=_l("Enter how many people are needed.")),
            NumberRange(min=1, max=1000, message=_l("People needed must be from 1 to 1,000.")),
        ],
    )
    place = StringField(_l("Place"), validators=[Optional(), Length(max=120)])
    team_id = SelectField(_l("Team"), coerce=_optional_int, validate_choice=False)
    event_id = SelectField(_l("For the event"), coerce=_optional_int, validate_choice=False)
    repeat_weeks = IntegerField(
        _l("Repeat weekly for further weeks (a recurring task)"),
        default=0,
        validators=[
            Optional(),
            NumberRange(
                min=0,
                max=MAX_REPEATS,
                message=_l("Repeat at most %(n)d weeks.", n=MAX_REPEATS),
            ),
        ],
    )

    def to_input(self) -> ShiftInput:
        return ShiftInput(
            title=self.title.data or "",
            starts_at=to_utc(self.starts_at.data),
            ends_at=to_utc(self.ends_at.data),
            people_needed=self.people_needed.data,
            place=self.place.data or "",
            team_id=self.team_id.data,
            event_id=self.event_id.data,
            repeat_weeks=self.repeat_weeks.data or 0,
        )

    def fill_from(self, shift) -> None:
        self.title.data = shift.title
        self.starts_at.data = to_local(shift.starts_at)
        self.ends_at.data = to_local(shift.ends_at)
        self.people_needed.data = shift.people_needed
        self.place.data = shift.place
        self.team_id.data = shift.team_id
        self.event_id.data = shift.event_id


class AssignForm(FlaskForm):
    volunteer_id = SelectField(
        _l("Volunteer"),
        coerce=_optional_int,
        validate_choice=False,
        validators=[InputRequired(message=_l("Choose a volunteer."))],
    )


def check_hours(form, field) -> None:
    text = (field.data or "").strip().replace("，", ".").replace(",", ".")
    if not text:
        field.data = None
        return
    try:
        hours = Decimal(text)
    except InvalidOperation:
        raise ValidationError(_l("Enter the hours as a number, e.g. 2 or 1.5.")) from None
    if not hours.is_finite():
        raise ValidationError(_l("Enter the hours as a number, e.g. 2 or 1.5."))
    if hours <= 0:
        raise ValidationError(_l("Hours must be more than zero."))
    if hours > 24:
        raise ValidationError(_l("At most 24 hours can be recorded for one shift."))
    field.data = int(hours * 60)


class HoursForm(FlaskForm):
    hours = StringField(_l("Hours"), validators=[check_hours])


class PastHoursForm(FlaskForm):
    """Hours served without a shift in the app, recorded afterwards (a standalone entry)."""

    title = StringField(
        _l("What the volunteer did"),
        validators=[InputRequired(message=_l("Say what the volunteer did.")), Length(max=120)],
    )
    served_on = DateField(
        _l("Day served"),
        validators=[
            InputRequired(message=_l("Enter the day the volunteer served.")),
            SensibleDate(not_future=True),
        ],
    )
    hours = StringField(
        _l("Hours"),
        validators=[InputRequired(message=_l("Hours must be more than zero.")), check_hours],
    )


class SettingsForm(FlaskForm):
    ranking_visible = BooleanField(_l("Show the yearly hours ranking to members"))
