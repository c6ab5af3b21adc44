"""Forms of the yearly assessment. The rules (points within an item's range, evidence with a
claim, who may score) live in app/assessments/points.py, self_assessment.py and ranking.py;
these only read the request."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.assessments.models import Rule
from app.assessments.points import RULE_LABELS
from app.core.forms import SensibleDate, options

YEAR = [InputRequired(), NumberRange(min=2000, max=2100)]


class SheetForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=YEAR)
    kind = StringField(_l("Associations assessed"), validators=[InputRequired()])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=120)])


class PublishForm(FlaskForm):
    due_on = DateField(_l("Self-assessments due on"), validators=[Optional(), SensibleDate()])


class ItemForm(FlaskForm):
    title = StringField(_l("Item"), validators=[Optional(), Length(max=200)])
    points = StringField(_l("Points"), validators=[Optional(), Length(max=10)])
    rule = SelectField(
        _l("Scored"),
        choices=options((rule.value, RULE_LABELS[rule]) for rule in Rule),
        validate_choice=False,
    )
    guidance = TextAreaField(_l("Guidance"), validators=[Optional(), Length(max=2000)])


class ClaimForm(FlaskForm):
    year = IntegerField(validators=YEAR)
    item = IntegerField(validators=[Optional()])
    points = StringField(_l("Points claimed"), validators=[Optional(), Length(max=10)])
    note = TextAreaField(_l("Explanation"), validators=[Optional(), Length(max=2000)])
    file = FileField(_l("Evidence file"))
    activity = IntegerField(_l("Or an activity"), validators=[Optional()])


class YearForm(FlaskForm):
    year = IntegerField(validators=YEAR)


class CloseForm(FlaskForm):
    year = IntegerField(validators=YEAR)
    kind = StringField(validators=[InputRequired()])


class ModelForm(FlaskForm):
    year = IntegerField(validators=YEAR)
    association = IntegerField(_l("Association"), validators=[Optional()])
    citation = TextAreaField(_l("Citation"), validators=[Optional(), Length(max=2000)])


class WithdrawForm(FlaskForm):
    year = IntegerField(validators=YEAR)
    association = IntegerField(validators=[Optional()])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=1000)])


class ReopenForm(FlaskForm):
    year = IntegerField(validators=YEAR)
    kind = StringField(validators=[InputRequired()])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=1000)])


class StatementForm(FlaskForm):
    year = IntegerField(validators=YEAR)
    upper_signatory = StringField(
        _l("Signed for the level above by"), validators=[Optional(), Length(max=60)]
    )
    upper_signed_on = DateField(_l("on"), validators=[Optional(), SensibleDate(not_future=True)])
    own_signatory = StringField(
        _l("Signed for this association by"), validators=[Optional(), Length(max=60)]
    )
    own_signed_on = DateField(_l("on"), validators=[Optional(), SensibleDate(not_future=True)])
    file = FileField(_l("Scan of the signed statement"))
