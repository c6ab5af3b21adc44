"""Session rules: the user loader with session versions, idle and absolute timeouts."""

from datetime import UTC, datetime, timedelta

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.accounts.models import User
from app.extensions import db, login_manager

SESSION_EXEMPT_ENDPOINTS = {"static", "accounts.login", "accounts.set_locale"}


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_version != int(version) or not user.is_active:
        return None
    return user


def start_session(user: User, *, staff: bool) -> None:
    """A fresh session at every login: nothing from before the login carries over."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    login_user(user)
    now = datetime.now(UTC).timestamp()
    session["started"] = now
    session["seen"] = now
    session["staff"] = staff
    session.permanent = False


def end_session() -> None:
    locale = session.get("locale")
    logout_user()
    session.clear()
    if locale:
        session["locale"] = locale


def _enforce_timeouts():
    if not current_user.is_authenticated or request.endpoint in SESSION_EXEMPT_ENDPOINTS:
        return None
    config = current_app.config
    now = datetime.now(UTC).timestamp()
    idle_minutes = (
        config["IDLE_TIMEOUT_STAFF_MINUTES"]
        if session.get("staff", True)
        else config["IDLE_TIMEOUT_MEMBER_MINUTES"]
    )
    started = session.get("started", 0)
    seen = session.get("seen", 0)
    if (
        now - seen > timedelta(minutes=idle_minutes).total_seconds()
        or now - started > timedelta(hours=config["ABSOLUTE_SESSION_HOURS"]).total_seconds()
    ):
        end_session()
        flash(_("Your session has expired. Please sign in again."), "warning")
        return redirect(
            url_for("accounts.login", next=request.full_path if request.method == "GET" else None)
        )
    session["seen"] = now
    return None


def init_app(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"
    app.before_request(_enforce_timeouts)
