"""The notification centre: every notice a signed-in user is sent is also kept for her in the
app (read or not), whatever channel carried it (SMS, e-mail, or none when she had none).

One table, addressed to the user: her page lists her notices from every association she
belongs to, so it is not a tenant table; each row names the association the notice concerns
(deleted with it) and every read is filtered by the signed-in user's id. Rows are written in
the transaction of the change they report, so a rolled-back change leaves no notice.
"""

from datetime import datetime

from flask import Flask, g, has_app_context
from flask_login import current_user
from sqlalchemy import (
    ForeignKey,
    Index,
    ScalarSelect,
    Select,
    String,
    UniqueConstraint,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.models import BigId, CreatedAtMixin, UTCDateTime
from app.core.pagination import Page, paginate_rows
from app.extensions import db
from tenants.models import Association

PER_PAGE = 20


class Notification(CreatedAtMixin, db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        Index("ix_notifications_user_read", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    association_id: Mapped[int | None] = mapped_column(
        ForeignKey("associations.id", ondelete="CASCADE"), index=True
    )
    # The notice's name (e.g. "dues:12:due"): the same notice is kept once. None: not named.
    key: Mapped[str | None] = mapped_column(String(120))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(1000))
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def keep(
    user_id: int, subject: str, body: str, *, key: str | None, association_id: int | None
) -> None:
    """Keep a notice for the user, in the caller's transaction; a notice under a key she
    already has is not kept twice."""
    _forget_header_count()
    if key is not None:
        key = key[:120]
        # Autoflush writes a notice added earlier in this transaction first, so it is found.
        if db.session.scalar(
            select(Notification.id).where(Notification.user_id == user_id, Notification.key == key)
        ):
            return
    db.session.add(
        Notification(
            user_id=user_id,
            association_id=association_id,
            key=key,
            subject=subject[:200],
            body=body[:1000],
        )
    )


def keep_many(entries: list[tuple[int, str, str]], *, key: str, association_id: int | None) -> None:
    """(user id, subject, body) each, under a new notice's `key` (a group message): one
    INSERT for all, no lookups — the key is new, so nobody has it yet."""
    _forget_header_count()
    if entries:
        db.session.execute(
            insert(Notification),
            [
                {
                    "user_id": user_id,
                    "association_id": association_id,
                    "key": key[:120],
                    "subject": subject[:200],
                    "body": body[:1000],
                    "created_at": utcnow(),
                }
                for user_id, subject, body in entries
            ],
        )


def unread_count(user_id: int) -> int:
    """One query on the (user, read_at) index: the figure in the page header."""
    return db.session.scalar(_unread(user_id)) or 0


def unread_count_of(user_id) -> ScalarSelect:
    """The unread count as a subquery, for a column holding a user id: the session check
    reads it in its own statement (app/accounts/session.py), sparing the page header a
    query."""
    return _unread(user_id).scalar_subquery()


def _unread(user_id) -> Select:
    return select(func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )


def remember_header_count(count: int) -> None:
    """The signed-in user's unread count, read with her session at the start of the request."""
    g.unread_notifications = count


def _forget_header_count() -> None:
    # A notice kept or marked read in this request changes the figure: read it again.
    if has_app_context():
        g.pop("unread_notifications", None)


def page_for(user_id: int, page: int) -> Page:
    """The user's notices, newest first, with the association each concerns (two queries)."""
    query = (
        select(Notification, Association.name)
        .outerjoin(Association, Association.id == Notification.association_id)
        .where(Notification.user_id == user_id)
        .order_by(Notification.id.desc())
    )
    return paginate_rows(query, page=page, per_page=PER_PAGE)


def mark_read(user_id: int, notification_id: int) -> bool:
    """False when the user has no such notice (someone else's id is not hers to mark)."""
    _forget_header_count()
    found = db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.user_id == user_id)
        .values(read_at=func.coalesce(Notification.read_at, utcnow()))
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(found)


def mark_all_read(user_id: int) -> int:
    _forget_header_count()
    return db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount


def _unread_for_header() -> int:
    """The signed-in user's unread count, read once per request however often the page asks
    (usually with her session already); 0 for visitors (no query)."""
    if not current_user.is_authenticated:
        return 0
    if "unread_notifications" not in g:
        g.unread_notifications = unread_count(current_user.id)
    return g.unread_notifications


def init_app(app: Flask) -> None:
    app.context_processor(lambda: {"unread_notifications": _unread_for_header})
