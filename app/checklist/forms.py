"""Forms of the 七有 checklist page."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.core.forms import options

YEAR = [InputRequired(), NumberRange(min=2000, max=2100)]
NUMBER = [InputRequired(), NumberRange(min=1, max=7)]


class EvidenceForm(FlaskForm):
    year = IntegerField(validators=YEAR)
    number = IntegerField(validators=NUMBER)
    file = FileField(_l("File"), validators=[FileRequired(message=_l("Choose a file to upload."))])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=300)])


class NoteForm(FlaskForm):
    year = IntegerField(validators=YEAR)
    number = IntegerField(validators=NUMBER)
    note = TextAreaField(_l("Note for the reviewer"), validators=[Optional(), Length(max=2000)])


class SubmitForm(FlaskForm):
    year = IntegerField(validators=YEAR)


class ReviewForm(FlaskForm):
    decision = RadioField(
        _l("Decision"),
        choices=options([("accept", _l("Accept")), ("return", _l("Send back"))]),
        validators=[InputRequired(message=_l("Choose accept or send back."))],
    )
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])
