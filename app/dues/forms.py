"""Forms of dues: the year's plan, a payment, a void, an exemption, a central-household
collection. Amounts are typed in yuan ("30" or "12.50") and become integer fen here."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from app.core.forms import SensibleDate, options
from app.core.money import parse_yuan, yuan_input
from app.dues.models import JoinRule, PaymentMethod

JOIN_RULE_LABELS = {
    JoinRule.FULL: _l("Full amount whenever they join"),
    JoinRule.PRO_RATA: _l("Pro-rated by the months left in the year"),
}
OFFLINE_METHOD_LABELS = {
    PaymentMethod.CASH: _l("Cash"),
    PaymentMethod.BANK_TRANSFER: _l("Bank transfer"),
    PaymentMethod.OTHER: _l("Other"),
}
METHOD_LABELS = {**OFFLINE_METHOD_LABELS, PaymentMethod.STRIPE: _l("Online (card)")}
AMOUNT_HELP = _l("Enter an amount in yuan, e.g. 30 or 12.50.")


class YuanField(StringField):
    """An amount typed in yuan; `.fen` is the integer fen (None when blank or malformed)."""

    @property
    def fen(self) -> int | None:
        try:
            return parse_yuan(self.data or "")
        except ValueError:
            return None

    def set_fen(self, fen: int | None) -> None:
        self.data = yuan_input(fen) if fen else ""


def _positive_yuan(form, field) -> None:
    text = (field.data or "").strip()
    if text.startswith("-"):
        raise ValidationError(_l("The amount must be more than zero."))
    if field.fen is None:
        raise ValidationError(AMOUNT_HELP)
    if field.fen <= 0:
        raise ValidationError(_l("The amount must be more than zero."))


class PlanForm(FlaskForm):
    year = IntegerField(
        _l("Year"),
        validators=[
            InputRequired(message=_l("Enter the year.")),
            NumberRange(min=2000, max=2100, message=_l("Enter a year from 2000 to 2100.")),
        ],
    )
    amount = YuanField(
        _l("Yearly dues (yuan)"),
        validators=[InputRequired(message=_l("Enter the yearly amount.")), _positive_yuan],
    )
    due_on = DateField(
        _l("Due date"),
        validators=[InputRequired(message=_l("Enter the due date.")), SensibleDate()],
    )
    join_rule = SelectField(
        _l("Members who join during the year pay"),
        choices=options([(rule.value, label) for rule, label in JOIN_RULE_LABELS.items()]),
        default=JoinRule.FULL.value,
    )


class GenerateForm(FlaskForm):
    year = IntegerField(
        _l("Year"),
        validators=[
            InputRequired(message=_l("Enter the year.")),
            NumberRange(min=2000, max=2100, message=_l("Enter a year from 2000 to 2100.")),
        ],
    )


class PaymentForm(FlaskForm):
    charge_id = SelectField(_l("Dues for"), coerce=int, choices=[])
    amount = YuanField(
        _l("Amount (yuan)"),
        validators=[InputRequired(message=_l("Enter the amount.")), _positive_yuan],
    )
    paid_on = DateField(
        _l("Date paid"),
        validators=[InputRequired(message=_l("Enter the date of the payment.")), SensibleDate()],
    )
    method = SelectField(
        _l("Method"),
        choices=options([(method.value, label) for method, label in OFFLINE_METHOD_LABELS.items()]),
        default=PaymentMethod.CASH.value,
    )
    payer_name = StringField(
        _l("Paid by"),
        validators=[InputRequired(message=_l("Enter who paid.")), Length(max=60)],
    )
    note = StringField(_l("Note (e.g. bank reference)"), validators=[Optional(), Length(max=200)])


class VoidForm(FlaskForm):
    reason = TextAreaField(
        _l("Why is this payment void?"),
        validators=[
            InputRequired(message=_l("Give the reason for voiding the payment.")),
            Length(max=200),
        ],
    )


class ExemptionForm(FlaskForm):
    year = IntegerField(
        _l("Year"),
        validators=[
            InputRequired(message=_l("Enter the year.")),
            NumberRange(min=2000, max=2100, message=_l("Enter a year from 2000 to 2100.")),
        ],
    )
    reason = StringField(
        _l("Reason (e.g. hardship)"),
        validators=[
            InputRequired(message=_l("Give the reason for the exemption.")),
            Length(max=200),
        ],
    )


class CollectionForm(FlaskForm):
    """The amounts themselves come as `amount-<charge id>` fields, one per open charge."""

    collected_on = DateField(
        _l("Date handed over"),
        validators=[InputRequired(message=_l("Enter the date of the payment.")), SensibleDate()],
    )
    collector_name = StringField(
        _l("Collected by"),
        validators=[InputRequired(message=_l("Enter who collected the money.")), Length(max=60)],
    )
    method = SelectField(
        _l("Method"),
        choices=options([(method.value, label) for method, label in OFFLINE_METHOD_LABELS.items()]),
        default=PaymentMethod.CASH.value,
    )
