"""Declarative base with a naming convention, so migrations name constraints the same everywhere."""

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Enum, ForeignKeyConstraint, Integer, MetaData, event
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.types import TypeDecorator

from app.core.clock import utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


_AFTER_TRANSACTION: set = set()


def after_transaction(session_class: type[Session], *, committed, rolled_back) -> None:
    """Call `committed(session)` once a session's whole transaction has committed and
    `rolled_back(session)` once it has rolled back — never for a savepoint: SQLAlchemy fires
    after_commit/after_rollback for `begin_nested` too, while the outer transaction (and its
    locks) goes on. Registering the same pair again does nothing."""
    if (committed, rolled_back) in _AFTER_TRANSACTION:
        return
    _AFTER_TRANSACTION.add((committed, rolled_back))

    def on_commit(session: Session) -> None:
        if not session.in_nested_transaction():
            committed(session)

    def on_rollback(session: Session) -> None:
        if not session.in_nested_transaction():
            rolled_back(session)

    event.listen(session_class, "after_commit", on_commit)
    event.listen(session_class, "after_rollback", on_rollback)


def same_association_fk(
    column: str, table: str, *, name: str | None = None, ondelete: str | None = None
) -> ForeignKeyConstraint:
    """A tenant row's reference to a row of `table` that must belong to the same association:
    the foreign key is (association_id, column) → (table.association_id, table.id), so the
    database itself refuses a link into another association."""
    return ForeignKeyConstraint(
        ["association_id", column],
        [f"{table}.association_id", f"{table}.id"],
        name=name,
        ondelete=ondelete,
    )


def string_enum(kind) -> Enum:
    """A Python enum stored as its values in a short string column (no native PostgreSQL
    enum type, so adding a value needs no type migration and SQLite behaves the same)."""
    return Enum(
        kind, native_enum=False, length=20, values_callable=lambda items: [i.value for i in items]
    )


# Keys of the tables that grow with members, activities, payments and logs, and of whatever
# refers to them (revision 0026_scale_keys): bigint on PostgreSQL; on SQLite an INTEGER PRIMARY
# KEY is the 64-bit rowid already (and BIGINT would not be one).
BigId = BigInteger().with_variant(Integer, "sqlite")


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC instants on SQLite too (which hands back naive datetimes)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime: store instants in UTC with tzinfo")
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class CreatedAtMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
