"""Signed-in sessions: the user loader over session records, idle and absolute expiry, and
starting and ending a session (the browser's session itself is server-side, session_store)."""

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.accounts import session_records, session_store
from app.accounts.models import User, UserSession
from app.accounts.session_records import EndReason
from app.core import inbox
from app.extensions import login_manager

SESSION_EXEMPT_ENDPOINTS = {"static", "accounts.login", "accounts.set_locale"}
# The key of the session record's id in the browser's (server-side) session.
RECORD_KEY = "record"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The user of this browser's session record, while the record lives: a record that is
    gone (signed out elsewhere), expired or whose user was disabled signs the browser out."""
    record, unread = session_records.find_with_unread(session.get(RECORD_KEY))
    if record is None or str(record.user_id) != user_id:
        return None
    # The loader runs while current_user is being worked out: the actor is named, not looked up.
    if session_records.is_expired(record):
        session_records.end(record, EndReason.EXPIRED, actor_id=record.user_id)
        return None
    if not record.user.is_active:
        session_records.end(record, EndReason.DISABLED, actor_id=record.user_id)
        return None
    session_records.touch(record)
    g.session_record = record
    inbox.remember_header_count(unread)
    return record.user


def current_record() -> UserSession | None:
    """This browser's session record (once current_user has been loaded)."""
    return g.get("session_record") if current_user.is_authenticated else None


def _clear_browser_session() -> None:
    """Empty the browser's session, keeping only the chosen language."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


def renew_session_id() -> None:
    """Keep the session's contents under a new random id: the old id finds nothing any more."""
    current_app.session_interface.regenerate(session)


def start_session(user: User, *, staff: bool) -> None:
    """A fresh session at every login: a new session id and a new record; nothing from before
    the login carries over."""
    _clear_browser_session()
    record = session_records.open_record(
        user, staff=staff, ip=request.remote_addr, user_agent=request.user_agent.string
    )
    login_user(user)
    session[RECORD_KEY] = record.id
    session.permanent = False
    g.session_record = record
    renew_session_id()


def end_session(reason: EndReason = EndReason.LOGOUT) -> None:
    """Sign this browser out: its record is deleted and its server-side session emptied."""
    record = current_record()
    if record is not None:
        session_records.end(record, reason)
    logout_user()
    _clear_browser_session()
    renew_session_id()


def _sign_out_ended_sessions():
    """A browser whose session record has gone (ended, expired, account disabled) is signed
    out and told so."""
    if (
        RECORD_KEY not in session
        or request.endpoint in SESSION_EXEMPT_ENDPOINTS
        or current_user.is_authenticated
    ):
        return None
    logout_user()
    _clear_browser_session()
    flash(_("Your session has expired. Please sign in again."), "warning")
    renew_session_id()
    return redirect(
        url_for("accounts.login", next=request.full_path if request.method == "GET" else None)
    )


def init_app(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"
    session_store.init_app(app)
    # First of all request hooks: the tenant resolver, registered earlier, already asks who is
    # signed in, and would send an ended session to the sign-in page without saying why.
    app.before_request_funcs.setdefault(None, []).insert(0, _sign_out_ended_sessions)
