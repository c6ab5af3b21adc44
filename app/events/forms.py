"""The event form: quick to fill on a phone; times are Beijing time."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.core.clock import CHINA
from app.core.forms import SensibleDate, options
from app.events.models import EventScope
from app.events.services import EventInput

FORMAT = "%Y-%m-%dT%H:%M"

SCOPE_LABELS = {
    EventScope.ASSOCIATION: _l("Members of this association"),
    EventScope.SUBTREE: _l("Members of this association and all associations below it"),
}


def to_utc(local: datetime | None) -> datetime | None:
    return None if local is None else local.replace(tzinfo=CHINA)


def to_local(instant: datetime | None) -> datetime | None:
    return None if instant is None else instant.astimezone(CHINA).replace(tzinfo=None)


class EventForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[InputRequired(message=_l("Give the event a title.")), Length(max=120)],
    )
    starts_at = DateTimeLocalField(
        _l("Starts"),
        format=FORMAT,
        validators=[InputRequired(message=_l("Enter when the event starts.")), SensibleDate()],
    )
    ends_at = DateTimeLocalField(
        _l("Ends"),
        format=FORMAT,
        validators=[InputRequired(message=_l("Enter when the event ends.")), SensibleDate()],
    )
    signup_deadline = DateTimeLocalField(
        _l("Sign-up deadline (empty: until it starts)"),
        format=FORMAT,
        validators=[Optional(), SensibleDate()],
    )
    place = StringField(_l("Place"), validators=[Optional(), Length(max=120)])
    capacity = IntegerField(
        _l("Places"),
        validators=[
            InputRequired(message=_l("Enter how many people can come.")),
            NumberRange(min=1, max=100_000, message=_l("Capacity must be from 1 to 100,000.")),
        ],
    )
    scope = SelectField(
        _l("Who may sign up"),
        choices=options([(scope.value, label) for scope, label in SCOPE_LABELS.items()]),
        default=EventScope.ASSOCIATION.value,
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])

    def to_input(self) -> EventInput:
        return EventInput(
            title=self.title.data or "",
            starts_at=to_utc(self.starts_at.data),
            ends_at=to_utc(self.ends_at.data),
            signup_deadline=to_utc(self.signup_deadline.data),
            capacity=self.capacity.data,
            place=self.place.data or "",
            scope=EventScope(self.scope.data),
            description=self.description.data or "",
        )

    def fill_from(self, event) -> None:
        self.title.data = event.title
        self.starts_at.data = to_local(event.starts_at)
        self.ends_at.data = to_local(event.ends_at)
        self.signup_deadline.data = to_local(event.signup_deadline)
        self.place.data = event.place
        self.capacity.data = event.capacity
        self.scope.data = event.scope.value
        self.description.data = event.description


class WalkInForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[
            InputRequired(message=_l("Enter the name of the person who came.")),
            Length(max=60, message=_l("A name can be at most 60 characters.")),
        ],
    )
