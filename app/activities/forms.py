"""The activity form: quick to fill on a phone, with aid rows for hardship visits."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    MultipleFileField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from app.activities.labels import ACTIVITY_TYPE_LABELS, AID_KIND_LABELS
from app.activities.models import ActivityType, AidKind
from app.activities.services import ActivityInput, AidInput
from app.core.forms import SensibleDate, options
from app.core.money import parse_yuan


class AidForm(Form):
    family = StringField(_l("Family"), validators=[Optional(), Length(max=60)])
    kind = SelectField(
        _l("Aid"),
        choices=options([(kind.value, label) for kind, label in AID_KIND_LABELS.items()]),
        default=AidKind.CASH.value,
    )
    quantity = StringField(_l("Quantity"), validators=[Optional(), Length(max=30)])
    value = StringField(_l("Value (yuan)"), validators=[Optional(), Length(max=14)])

    @property
    def is_blank(self) -> bool:
        return not any(
            (field.data or "").strip() for field in (self.family, self.quantity, self.value)
        )

    def validate_value(self, field) -> None:
        if field.data and field.data.strip():
            try:
                parse_yuan(field.data)
            except ValueError:
                raise ValidationError(_l("Enter an amount in yuan, e.g. 200 or 35.50.")) from None

    def validate_family(self, field) -> None:
        if not self.is_blank and not (field.data or "").strip():
            raise ValidationError(_l("Name the family that received the aid."))


class ActivityForm(FlaskForm):
    held_on = DateField(
        _l("Date"),
        validators=[InputRequired(message=_l("Enter the date of the activity.")), SensibleDate()],
    )
    title = StringField(
        _l("Title"),
        validators=[InputRequired(message=_l("Give the activity a title.")), Length(max=120)],
    )
    type = SelectField(
        _l("Type"),
        choices=options([(kind.value, label) for kind, label in ACTIVITY_TYPE_LABELS.items()]),
        default=ActivityType.PUBLICITY.value,
    )
    place = StringField(_l("Place"), validators=[Optional(), Length(max=120)])
    organiser = StringField(_l("Organiser"), validators=[Optional(), Length(max=60)])
    participant_count = IntegerField(
        _l("Number of participants"),
        validators=[
            InputRequired(message=_l("Enter how many people took part.")),
            NumberRange(min=0, max=100_000, message=_l("Enter a number from 0 to 100,000.")),
        ],
    )
    member_ids = SelectMultipleField(_l("Members who took part"), coerce=int, validate_choice=False)
    description = TextAreaField(_l("What happened"), validators=[Optional(), Length(max=5000)])
    aid = FieldList(FormField(AidForm), min_entries=3, max_entries=30)
    photos = MultipleFileField(_l("Photos"))

    def to_input(self) -> ActivityInput:
        aid = [
            AidInput(
                family=row.family.data.strip(),
                kind=AidKind(row.kind.data),
                quantity=(row.quantity.data or "").strip(),
                value_fen=parse_yuan(row.value.data) if (row.value.data or "").strip() else 0,
            )
            for row in self.aid
            if not row.is_blank
        ]
        return ActivityInput(
            held_on=self.held_on.data,
            title=self.title.data or "",
            type=ActivityType(self.type.data),
            place=self.place.data or "",
            organiser=self.organiser.data or "",
            participant_count=self.participant_count.data,
            description=self.description.data or "",
            aid=aid,
            member_ids=list(self.member_ids.data or []),
        )
