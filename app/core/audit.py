"""The audit log: who did what to which record in which association, and when.

Changes to tenant rows are logged by one after_flush listener, so no view writes its own entry;
reads of protected data, exports, logins and denials are logged through `record`. Append-only:
the write guard refuses updates and deletes, and on PostgreSQL the app role may only INSERT.
Never put a full ID number, phone number or password in `detail`.
"""

import json
from datetime import datetime

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import JSON, ForeignKey, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.clock import utcnow
from app.core.models import BigId, UTCDateTime
from app.extensions import db
from tenants.models import TenantMixin


class AuditLog(TenantMixin, db.Model):
    __tablename__ = "audit_log"
    # No INSERT … RETURNING: under row-level security RETURNING needs read access to the new
    # row, and a denial is logged precisely where the actor may not read.
    __table_args__ = {"implicit_returning": False}
    tenant_append_only = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Nullable: logins and platform actions belong to no association.
    association_id: Mapped[int | None] = mapped_column(
        ForeignKey("associations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str | None] = mapped_column(String(60))
    target_id: Mapped[int | None] = mapped_column(BigId)
    outcome: Mapped[str] = mapped_column(String(20), default="ok")
    ip: Mapped[str | None] = mapped_column(String(45))
    detail: Mapped[dict | None] = mapped_column(JSON)


# Columns whose values never go into the log, whatever table they are on.
PROTECTED_COLUMNS = frozenset({"password_hash", "id_number", "id_number_encrypted", "phone"})


def _actor_id() -> int | None:
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.id
    return None


def _ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def record(
    action: str,
    *,
    association_id: int | None = None,
    target=None,
    outcome: str = "ok",
    user_id: int | None = None,
    **detail,
) -> AuditLog:
    """Add an entry to the current transaction (committed with the request)."""
    entry = AuditLog(
        action=action,
        association_id=association_id,
        user_id=user_id if user_id is not None else _actor_id(),
        target_type=type(target).__name__ if target is not None else None,
        target_id=getattr(target, "id", None),
        outcome=outcome,
        ip=_ip(),
        detail=json.loads(json.dumps(detail, default=str)) if detail else None,
    )
    db.session.add(entry)
    return entry


def record_apart(action: str, *, target=None, **fields) -> None:
    """Log in a transaction of its own, committed at once: for refusals, whose request is
    rolled back (nothing else of the request is kept)."""
    # Read before the rollback expires the target (it may be unreadable outside its scope).
    target_ref = (type(target).__name__, target.id) if target is not None else None
    db.session.rollback()
    entry = record(action, **fields)
    if target_ref:
        entry.target_type, entry.target_id = target_ref
    db.session.commit()


def record_denial(*, association_id: int | None, reason: str) -> None:
    """Denials are logged in their own transaction: the request itself is rolled back."""
    record_apart(
        "denied",
        association_id=association_id,
        outcome="denied",
        reason=reason,
        path=request.path if has_request_context() else None,
    )


def _log_changes(session: Session, flush_context) -> None:
    entries = []
    for action, objects in (
        ("create", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            if not isinstance(obj, TenantMixin) or isinstance(obj, AuditLog):
                continue
            fields = []
            if action == "update":
                state = db.inspect(obj)
                fields = sorted(
                    attr.key
                    for attr in state.attrs
                    if attr.history.has_changes() and attr.key in state.mapper.columns
                )
                if not fields:
                    continue
            entries.append(
                AuditLog(
                    action=action,
                    association_id=obj.association_id,
                    user_id=_actor_id(),
                    target_type=type(obj).__name__,
                    target_id=getattr(obj, "id", None),
                    ip=_ip(),
                    detail={"fields": fields} if fields else None,
                )
            )
    if entries:
        session.add_all(entries)


_installed = False


def install(session_class: type[Session]) -> None:
    global _installed
    if not _installed:
        event.listen(session_class, "after_flush", _log_changes)
        _installed = True
