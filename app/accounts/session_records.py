"""Session records: one row per signed-in browser, so that sessions expire, end and can be
listed on the server — logout, "sign out everywhere", password changes and disabled accounts
take effect on the other browsers' next request, not whenever their cookies happen to go."""

import re
import secrets
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, or_, select

from app.accounts import session_store
from app.accounts.models import User, UserSession
from app.core import audit, inbox
from app.core.clock import utcnow
from app.core.jobs import periodic
from app.extensions import db

# `last_seen_at` moves forward at most this often: a write a minute, not one per request.
TOUCH_INTERVAL = timedelta(minutes=1)


class EndReason(StrEnum):
    """Why a session ended, as the audit log's `session_ended` entries say it."""

    LOGOUT = "logout"
    EXPIRED = "expired"
    ENDED_BY_USER = "ended_by_user"
    PASSWORD_CHANGE = "password_change"
    DISABLED = "disabled"
    ACCESS_CHANGED = "access_changed"


def open_record(user: User, *, staff: bool, ip: str | None, user_agent: str | None) -> UserSession:
    now = utcnow()
    record = UserSession(
        id=secrets.token_urlsafe(32),
        user=user,
        staff=staff,
        created_at=now,
        last_seen_at=now,
        ip=ip,
        user_agent=(user_agent or "")[:300] or None,
    )
    db.session.add(record)
    return record


def find(record_id) -> UserSession | None:
    if not isinstance(record_id, str) or not record_id:
        return None
    return db.session.get(UserSession, record_id)


def find_with_unread(record_id) -> tuple[UserSession | None, int]:
    """The record (with its user) and the user's unread notices, in one statement: every
    signed-in request checks its record, and every page shows the count."""
    if not isinstance(record_id, str) or not record_id:
        return None, 0
    found = db.session.execute(_record_with_unread(), {"record_id": record_id}).first()
    return (found[0], found[1] or 0) if found is not None else (None, 0)


@lru_cache(maxsize=1)
def _record_with_unread() -> Select:
    """Built once: the statement runs on every signed-in request."""
    return select(UserSession, inbox.unread_count_of(UserSession.user_id)).where(
        UserSession.id == bindparam("record_id")
    )


def is_expired(record: UserSession, now: datetime | None = None) -> bool:
    config = current_app.config
    now = now or utcnow()
    idle = timedelta(
        minutes=config["IDLE_TIMEOUT_STAFF_MINUTES"]
        if record.staff
        else config["IDLE_TIMEOUT_MEMBER_MINUTES"]
    )
    absolute = timedelta(hours=config["ABSOLUTE_SESSION_HOURS"])
    return now - record.last_seen_at > idle or now - record.created_at > absolute


def touch(record: UserSession, now: datetime | None = None) -> None:
    now = now or utcnow()
    if now - record.last_seen_at >= TOUCH_INTERVAL:
        record.last_seen_at = now


def end(record: UserSession, reason: EndReason, *, actor_id: int | None = None) -> None:
    """Delete the record (its browser is signed out on its next request) and log why; the
    actor is the signed-in user unless given (the user loader must give it)."""
    audit.record("session_ended", user_id=actor_id, target=record.user, reason=str(reason))
    db.session.delete(record)


def end_all(
    user: User, *, reason: EndReason, keep: str | None = None, actor_id: int | None = None
) -> int:
    """End every session of the user, except `keep` (a record id); returns how many ended."""
    statement = select(UserSession).where(UserSession.user_id == user.id)
    if keep:
        statement = statement.where(UserSession.id != keep)
    records = db.session.scalars(statement).all()
    for record in records:
        end(record, reason, actor_id=actor_id)
    db.session.flush()
    return len(records)


def sessions_of(user: User) -> list[UserSession]:
    """The user's own sessions, the most recently used first."""
    return list(
        db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user.id)
            .order_by(UserSession.last_seen_at.desc(), UserSession.created_at.desc())
        )
    )


def own_session(user: User, record_id: str) -> UserSession | None:
    """The user's session with this id; None for anyone else's (or none at all)."""
    record = find(record_id)
    return record if record is not None and record.user_id == user.id else None


@periodic(minute="40", hour="3")
def delete_expired_sessions() -> tuple[int, int]:
    """Nightly: end the session records past their idle or absolute limit (logged as expired)
    and delete the stored browser sessions past their expiry. Returns both counts."""
    config = current_app.config
    now = utcnow()
    expired = db.session.scalars(
        select(UserSession).where(
            or_(
                UserSession.created_at < now - timedelta(hours=config["ABSOLUTE_SESSION_HOURS"]),
                UserSession.staff.is_(True)
                & (
                    UserSession.last_seen_at
                    < now - timedelta(minutes=config["IDLE_TIMEOUT_STAFF_MINUTES"])
                ),
                UserSession.staff.is_(False)
                & (
                    UserSession.last_seen_at
                    < now - timedelta(minutes=config["IDLE_TIMEOUT_MEMBER_MINUTES"])
                ),
            )
        )
    ).all()
    for record in expired:
        end(record, EndReason.EXPIRED)
    db.session.flush()
    return len(expired), session_store.delete_expired_rows()


# What the Sessions page shows for a user agent: the browser and the system in plain words.
_BROWSERS = (
    ("MicroMessenger", "WeChat"),
    ("EdgA?/", "Edge"),
    ("OPR/|Opera", "Opera"),
    ("SamsungBrowser", "Samsung Internet"),
    ("UCBrowser", "UC Browser"),
    ("QQBrowser|MQQBrowser", "QQ Browser"),
    ("Firefox/|FxiOS", "Firefox"),
    ("Chrome/|CriOS|Chromium", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("HarmonyOS", "HarmonyOS"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X|Macintosh", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def describe_user_agent(user_agent: str | None) -> str:
    """'Chrome on Windows', 'WeChat on iPhone' … or 'Unknown browser'."""
    text = user_agent or ""
    browser = next((name for pattern, name in _BROWSERS if re.search(pattern, text)), None)
    system = next((name for pattern, name in _SYSTEMS if re.search(pattern, text)), None)
    if browser == "WeChat":
        browser = _("WeChat")
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    return browser or system or _("Unknown browser")
