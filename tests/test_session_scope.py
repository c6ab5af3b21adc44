"""The database session belongs to one application context and is never handed to another.

Flask-SQLAlchemy keys its scoped session by id() of the application context. When a context's
teardown fails before the session is removed (a rollback that raises on a broken connection),
the session stays registered under that address, and CPython gives the address to the next
context at once: that request would run in the dead request's session and transaction."""

import pytest
from flask import Flask

from app.extensions import db


def _context_whose_teardown_fails(app: Flask):
    """A pushed context whose session's close raises at teardown, as a broken connection's
    rollback does; returns the session it left behind."""
    context = app.app_context()
    context.push()
    leaked = db.session()

    def broken_close():
        raise RuntimeError("connection lost during rollback")

    leaked.close = broken_close
    with pytest.raises(RuntimeError):
        context.pop()
    return leaked


def test_a_new_context_never_gets_a_session_left_by_a_failed_teardown(app):
    leaked = _context_whose_teardown_fails(app)
    assert leaked not in db.session.registry.registry.values()  # nor is it kept
    del leaked.close  # the session itself is fine; only its first close failed
    for _ in range(200):
        with app.app_context():
            assert db.session() is not leaked


def test_one_context_keeps_one_session(app):
    with app.app_context():
        first = db.session()
        with app.test_request_context("/"):  # same app: the request reuses the context
            assert db.session() is first
        assert db.session() is first
