"""64-bit keys for the tables that grow with members, activities, payments and logs

Revision ID: 0026_scale_keys
Revises: 0026_scale_rls
Create Date: 2026-11-30 19:50:00

At national scale (90 million members) dues charges alone would pass 2^31 ids in about 23
years, the audit log sooner. PostgreSQL: the primary keys of these tables, every column that
references them (found from the database's own foreign keys, so a table added on another branch
is covered) and the audit log's target_id become bigint, and their sequences `AS bigint` (a
serial's sequence is `AS integer` and would stop at 2^31 whatever the column). Each table is
rewritten once, under an exclusive lock, in the migration's transaction: on the province data
set see docs/scaling.md for the time it takes. SQLite: nothing to do, its INTEGER PRIMARY KEY is
already the 64-bit rowid.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0026_scale_keys"
down_revision = "0026_scale_rls"
branch_labels = None
depends_on = None

GROWING_TABLES = (
    "members",
    "households",
    "central_household_visits",
    "member_import_rows",
    "activities",
    "activity_participants",
    "activity_photos",
    "stored_files",
    "event_registrations",
    "event_reminders",
    "volunteer_assignments",
    "dues_charges",
    "dues_payments",
    "dues_payment_allocations",
    "dues_reminders",
    "survey_codes",
    "survey_responses",
    "sms_messages",
    "audit_log",
)
# Ids of other rows kept without a foreign key.
LOOSE_REFERENCES = (("audit_log", "target_id"),)


def _columns(bind) -> dict[str, list[str]]:
    """Table → the integer columns to widen: growing tables' ids and whatever refers to them."""
    inspector = sa.inspect(bind)
    existing = set(inspector.get_table_names())
    wanted: dict[str, list[str]] = {}

    def add(table: str, column: str) -> None:
        if table in existing and column not in wanted.setdefault(table, []):
            wanted[table].append(column)

    for table in GROWING_TABLES:
        add(table, "id")
    for table in sorted(existing):
        for key in inspector.get_foreign_keys(table):
            if key["referred_table"] not in GROWING_TABLES:
                continue
            for column, referred in zip(
                key["constrained_columns"], key["referred_columns"], strict=True
            ):
                if referred == "id":
                    add(table, column)
    for table, column in LOOSE_REFERENCES:
        add(table, column)
    return {table: columns for table, columns in wanted.items() if columns}


def _retype(to: str, source: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    types = {
        (row.table_name, row.column_name): row.data_type
        for row in bind.execute(
            sa.text(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = current_schema()"
            )
        )
    }
    for table, columns in _columns(bind).items():
        changes = [
            f'ALTER COLUMN "{column}" TYPE {to}'
            for column in columns
            if types.get((table, column)) == source
        ]
        if changes:
            op.execute(f'ALTER TABLE "{table}" ' + ", ".join(changes))
    for table in GROWING_TABLES:
        sequence = bind.execute(
            sa.text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table}
        ).scalar()
        if sequence:
            op.execute(f"ALTER SEQUENCE {sequence} AS {to}")


def upgrade():
    _retype("bigint", "integer")


def downgrade():
    _retype("integer", "bigint")
