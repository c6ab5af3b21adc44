"""URL converters: ids beyond a 64-bit integer answer 404 instead of overflowing the database."""

from werkzeug.routing import IntegerConverter

MAX_ID = 2**63 - 1


class BoundedIntegerConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
