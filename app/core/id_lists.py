"""`one_of(column, ids)`: `column IN (ids)` for lists of thousands of ids (the figures jobs'
batches and chunks).

SQLAlchemy renders `in_()` with one bound parameter per value. With the 2,000 ids of a nightly
chunk, the driver (psycopg) spent longer parsing the statement's text than PostgreSQL spent
running it (0.8 s of a 2.6 s chunk, measured on the national data set), and every chunk's
statement was a new text to parse and plan. On PostgreSQL the list goes as one array parameter
(`column = ANY(%(ids)s)`): one short statement whatever the length. SQLite keeps IN.
"""

from collections.abc import Iterable

from sqlalchemy import any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY

from app.extensions import db


def one_of(column, ids: Iterable):
    ids = list(ids)
    if db.session.get_bind().dialect.name != "postgresql":
        return column.in_(ids)
    return column == any_(bindparam(None, ids, type_=ARRAY(column.type)))
