"""Form helpers shared by every domain's forms."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from wtforms import SelectChoice
from wtforms.validators import ValidationError

from app.core.clock import china_today
from app.core.dates import DATE_RANGE_MESSAGE, FUTURE_DATE_MESSAGE, is_sensible_date


class SensibleDate:
    """WTForms validator of a DateField or DateTimeLocalField (local time): refuses a date
    before 1900 or more than a year after China's today; with `not_future`, also one after
    today, in `future_message` if given. An empty field is left to InputRequired/Optional."""

    def __init__(self, *, not_future: bool = False, future_message=None):
        self.not_future = not_future
        self.future_message = future_message or FUTURE_DATE_MESSAGE

    def __call__(self, form, field) -> None:
        value = field.data
        if value is None:
            return
        today = china_today()
        if not is_sensible_date(value, today):
            raise ValidationError(DATE_RANGE_MESSAGE)
        day = value.date() if isinstance(value, datetime) else value
        if self.not_future and day > today:
            raise ValidationError(self.future_message)


def options(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """(value, label) pairs as the choices of a SelectField or a group of checkboxes: WTForms
    3.3 deprecates tuples (gone in 3.4) in favour of `SelectChoice`."""
    return [SelectChoice(value, label) for value, label in pairs]
