"""The targets a level sets for its subtree (app/dashboards/targets.py)."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.core.forms import options
from app.dashboards.targets import BUILT_IN, COUNT, OWN_TARGET_FIGURES, OwnTarget, Targets

PERCENT_MESSAGE = _l("Enter a percentage between 0 and 100.")


def targets_form(targets: Targets, own: tuple[OwnTarget, ...], formdata=None) -> FlaskForm:
    """A form with one field per built-in target and per own target in force, filled with the
    values in force (percentages in per cent, counts as whole numbers)."""

    class TargetsForm(FlaskForm):
        pass

    for key, kind in BUILT_IN.items():
        if kind.measure == COUNT:
            field = IntegerField(
                kind.label,
                validators=[
                    InputRequired(),
                    NumberRange(min=kind.low // 100, max=kind.high // 100),
                ],
            )
        else:
            field = DecimalField(
                kind.label,
                places=2,
                validators=[
                    InputRequired(),
                    NumberRange(min=0, max=100, message=PERCENT_MESSAGE),
                ],
            )
        setattr(TargetsForm, key, field)
    for target in own:
        label = f"{target.name} ({target.unit})" if target.unit else target.name
        setattr(
            TargetsForm,
            _own_field(target.key),
            DecimalField(label, places=2, validators=[InputRequired(), NumberRange(min=0)]),
        )
    data = {key: Decimal(targets.centi(key)) / 100 for key in BUILT_IN}
    data.update({_own_field(t.key): Decimal(t.value_centi) / 100 for t in own})
    return TargetsForm(formdata=formdata, data=data)


def _own_field(key: str) -> str:
    return key.replace(":", "_")


def submitted_values(form, own: tuple[OwnTarget, ...]) -> dict[str, int]:
    """{key: value × 100} from a valid form."""
    values = {key: int(round(Decimal(getattr(form, key).data) * 100)) for key in BUILT_IN}
    values.update(
        {t.key: int(round(Decimal(getattr(form, _own_field(t.key)).data) * 100)) for t in own}
    )
    return values


def field_name(key: str) -> str:
    return _own_field(key)


class OwnTargetForm(FlaskForm):
    name = StringField(_l("Name of the target"), validators=[InputRequired(), Length(max=80)])
    unit = StringField(_l("Unit (e.g. %, 次, 人)"), validators=[Optional(), Length(max=12)])
    value = DecimalField(
        _l("Target value"), places=2, validators=[InputRequired(), NumberRange(min=0)]
    )
    figure = SelectField(
        _l("Measured by"),
        choices=options([("", _l("Entered by hand")), *OWN_TARGET_FIGURES.items()]),
        default="",
    )


NUMBER_MESSAGE = _l("Enter a number of 0 or more.")


def manual_values_form(targets, values: dict, formdata=None) -> FlaskForm:
    """One value and one note per target measured by hand (app/dashboards/manual.py), filled
    with what is entered; a blank value is "not entered". 满意率 taken from the residents'
    evaluation has no field."""

    class ManualValuesForm(FlaskForm):
        pass

    data = {}
    for target in targets:
        shown = values.get(target.key)
        if shown is not None and shown.source == "evaluation":
            continue
        if target.is_share:
            limits = NumberRange(min=0, max=100, message=PERCENT_MESSAGE)
        else:
            limits = NumberRange(min=0, message=NUMBER_MESSAGE)
        label = f"{target.label} ({target.unit})" if target.unit else target.label
        setattr(
            ManualValuesForm,
            f"value_{target.field}",
            DecimalField(label, places=2, validators=[Optional(), limits]),
        )
        setattr(
            ManualValuesForm,
            f"note_{target.field}",
            StringField(_l("Note (how it was measured)"), validators=[Optional(), Length(max=200)]),
        )
        if shown is not None and shown.row is not None:
            data[f"value_{target.field}"] = Decimal(shown.row.value_centi) / 100
            data[f"note_{target.field}"] = shown.row.note
    return ManualValuesForm(formdata=formdata, data=data)
