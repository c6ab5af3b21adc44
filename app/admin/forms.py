"""Forms of the platform console."""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from app.core.forms import options
from app.core.labels import KIND_LABELS
from tenants.models import AssociationKind

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,78}[a-z0-9]$")


class TopAssociationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    slug = StringField(
        _l("Web address name"),
        validators=[
            DataRequired(),
            Regexp(SLUG, message=_l("Use 3–80 lower-case letters, digits and hyphens.")),
        ],
    )
    kind = SelectField(
        _l("Level"),
        choices=options(
            [
                (kind.value, KIND_LABELS[kind])
                for kind in (AssociationKind.PROVINCE, AssociationKind.CITY, AssociationKind.COUNTY)
            ]
        ),
    )
    division_code = StringField(_l("Division code"), validators=[Optional(), Length(max=12)])
    served_population = IntegerField(
        _l("Population served"),
        validators=[
            Optional(),
            NumberRange(min=1, max=200_000_000, message=_l("Enter a population above zero.")),
        ],
    )


class MoveAssociationForm(FlaskForm):
    new_parent = StringField(
        _l("New parent (web address name)"), validators=[DataRequired(), Length(max=80)]
    )
    confirm_name = StringField(
        _l("Type the association's name to confirm the move"),
        validators=[Optional(), Length(max=120)],
    )


class DeleteAssociationForm(FlaskForm):
    confirm = StringField(
        _l("Type the web address name to confirm"), validators=[DataRequired(), Length(max=80)]
    )
