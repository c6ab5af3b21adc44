"""dues: settings, yearly plans, exemptions, charges, payments with allocations and receipts,
central-household collection batches, reminders

Revision ID: 0009_dues
Revises: 0007_events
Create Date: 2026-11-23 11:45:00

"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from tenants import rls

# revision identifiers, used by Alembic.
revision = "0009_dues"
down_revision = "0007_events"
branch_labels = None
depends_on = None

TABLES = (
    "dues_settings",
    "dues_plans",
    "dues_exemptions",
    "dues_charges",
    "dues_collection_batches",
    "dues_payments",
    "dues_payment_allocations",
    "dues_receipt_sequences",
    "dues_reminders",
)


def upgrade():
    _create_tables()
    if op.get_bind().dialect.name == "postgresql":
        _row_level_security()


def _row_level_security():
    role = current_app.config["DATABASE_APP_ROLE"]
    for table in TABLES:
        for statement in rls.tenant_table_sql(table):
            op.execute(statement)
    for statement in rls.grant_app_role_sql(role):
        op.execute(statement)


def _create_tables():
    op.create_table(
        "dues_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column(
            "join_rule",
            sa.Enum("full", "pro_rata", name="joinrule", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_dues_plans_amount_positive")),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_dues_plans_year_range")),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_dues_plans_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_dues_plans_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dues_plans")),
        sa.UniqueConstraint("association_id", "id", name=op.f("uq_dues_plans_association_id_id")),
        sa.UniqueConstraint(
            "association_id", "year", name=op.f("uq_dues_plans_association_id_year")
        ),
    )
    with op.batch_alter_table("dues_plans", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dues_plans_association_id"), ["association_id"], unique=False
        )

    op.create_table(
        "dues_receipt_sequences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_dues_receipt_sequences_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dues_receipt_sequences")),
        sa.UniqueConstraint(
            "association_id", "year", name=op.f("uq_dues_receipt_sequences_association_id_year")
        ),
    )
    with op.batch_alter_table("dues_receipt_sequences", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dues_receipt_sequences_association_id"), ["association_id"], unique=False
        )

    op.create_table(
        "dues_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("due_month", sa.Integer(), nullable=False),
        sa.Column("due_day", sa.Integer(), nullable=False),
        sa.Column(
            "join_rule",
            sa.Enum("full", "pro_rata", name="joinrule", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("stripe_account_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_charges_enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_dues_settings_amount_positive")),
        sa.CheckConstraint("due_day BETWEEN 1 AND 31", name=op.f("ck_dues_settings_due_day_range")),
        sa.CheckConstraint(
            "due_month BETWEEN 1 AND 12", name=op.f("ck_dues_settings_due_month_range")
        ),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_dues_settings_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dues_settings")),
        sa.UniqueConstraint("association_id", name=op.f("uq_dues_settings_association_id")),
        sa.UniqueConstraint("stripe_account_id", name=op.f("uq_dues_settings_stripe_account_id")),
    )
    with op.batch_alter_table("dues_settings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dues_settings_association_id"), ["association_id"], unique=False
        )

    op.create_table(
        "dues_collection_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("central_household_id", sa.Integer(), nullable=True),
        sa.Column("collected_on", sa.Date(), nullable=False),
        sa.Column("collector_name", sa.String(length=60), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_dues_collection_batches_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["central_household_id"],
            ["households.id"],
            name=op.f("fk_dues_collection_batches_central_household_id_households"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_dues_collection_batches_recorded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dues_collection_batches")),
        sa.UniqueConstraint(
            "association_id", "id", name=op.f("uq_dues_collection_batches_association_id_id")
        ),
    )
    with op.batch_alter_table("dues_collection_batches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dues_collection_batches_association_id"),
            ["association_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_dues_collection_batches_central_household_id"),
            ["central_household_id"],
            unique=False,
        )

    op.create_table(
        "dues_charges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount_due_fen", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_due_fen > 0", name=op.f("ck_dues_charges_amount_positive")),
        sa.ForeignKeyConstraint(
            ["association_id", "member_id"],
            ["members.association_id", "members.id"],
            name="fk_dues_charges_member",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["association_id", "year"],
            ["dues_plans.association_id", "dues_plans.year"],
            name="fk_dues_charges_plan",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_dues_charges_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dues_charges")),
        sa.UniqueConstraint("association_id", "id", name=op.f("uq_dues_charges_association_id_id")),
        sa.UniqueConstraint(
            "association_id",
            "member_id",
            "year",
            name=op.f("uq_dues_charges_association_id_member_id_year"),
        ),
    )
    with op.batch_alter_table("dues_charges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dues_charges_association_id"), ["association_id"], unique=False
        )
        batch_op.create_index(
            "ix_dues_charges_association_year", ["association_id", "year"], unique=False
        )

    op.create_table(
        "dues_exemptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id", "member_id"],
            ["members.association_id", "members.id"],
            name="fk_dues_exemptions_member",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_dues_exemptions_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_dues_exemptions_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dues_exemptions")),
        sa.UniqueConstraint(
            "association_id",
            "member_id",
            "year",
            name=op.f("uq_dues_exemptions_association_id_member_id_year"),
        ),
    )
    with op.batch_alter_table("dues_exemptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dues_exemptions_association_id"), ["association_id"], unique=False
        )

    op.create_table(
        "dues_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column(
            "method",
            sa.Enum(
                "cash",
                "bank_transfer",
                "other",
                "stripe",
                name="paymentmethod",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("payer_name", sa.String(length=60), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("receipt_number", sa.String(length=20), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("void_reason", sa.String(length=200), nullable=True),
        sa.Column("voided_by_id", sa.Integer(), nullable=True),
        sa.Column("collected_via_household_id", sa.Integer(), nullable=True),
        sa.Column("collection_batch_id", sa.Integer(), nullable=True),
        sa.Column("stripe_checkout_session_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("refunded_fen", sa.Integer(), nullable=False),
        sa.Column("disputed", sa.Boolean(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(voided_at IS NULL AND void_reason IS NULL) OR "
            "(voided_at IS NOT NULL AND void_reason IS NOT NULL)",
            name=op.f("ck_dues_payments_void_has_reason"),
        ),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_dues_payments_amount_positive")),
        sa.CheckConstraint(
            "refunded_fen >= 0 AND refunded_fen <= amount_fen",
            name=op.f("ck_dues_payments_refund_range"),
        ),
        sa.ForeignKeyConstraint(
            ["association_id", "collection_batch_id"],
            ["dues_collection_batches.association_id", "dues_collection_batches.id"],
            name="fk_dues_payments_collection_batch",
        ),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_dues_payments_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["collected_via_household_id"],
            ["households.id"],
            name=op.f("fk_dues_payments_collected_via_household_id_households"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_dues_payments_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_dues_payments_recorded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["voided_by_id"],
            ["users.id"],
            name=op.f("fk_dues_payments_voided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dues_payments")),
        sa.UniqueConstraint(
            "association_id", "id", name=op.f("uq_dues_payments_association_id_id")
        ),
        sa.UniqueConstraint(
            "association_id",
            "receipt_number",
            name=op.f("uq_dues_payments_association_id_receipt_number"),
        ),
        sa.UniqueConstraint(
            "association_id",
            "stripe_checkout_session_id",
            name=op.f("uq_dues_payments_association_id_stripe_checkout_session_id"),
        ),
        sa.UniqueConstraint(
            "association_id",
            "stripe_payment_intent_id",
            name=op.f("uq_dues_payments_association_id_stripe_payment_intent_id"),
        ),
    )
    with op.batch_alter_table("dues_payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dues_payments_association_id"), ["association_id"], unique=False
        )
        batch_op.create_index(
            "ix_dues_payments_association_paid_on", ["association_id", "paid_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dues_payments_collected_via_household_id"),
            ["collected_via_household_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_dues_payments_collection_batch_id"),
            ["collection_batch_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_dues_payments_member_id"), ["member_id"], unique=False)

    op.create_table(
        "dues_payment_allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("charge_id", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "amount_fen > 0", name=op.f("ck_dues_payment_allocations_amount_positive")
        ),
        sa.ForeignKeyConstraint(
            ["association_id", "charge_id"],
            ["dues_charges.association_id", "dues_charges.id"],
            name="fk_dues_payment_allocations_charge",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["association_id", "payment_id"],
            ["dues_payments.association_id", "dues_payments.id"],
            name="fk_dues_payment_allocations_payment",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_dues_payment_allocations_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dues_payment_allocations")),
        sa.UniqueConstraint(
            "association_id",
            "payment_id",
            "charge_id",
            name=op.f("uq_dues_payment_allocations_association_id_payment_id_charge_id"),
        ),
    )
    with op.batch_alter_table("dues_payment_allocations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dues_payment_allocations_association_id"),
            ["association_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_dues_payment_allocations_charge", ["association_id", "charge_id"], unique=False
        )

    op.create_table(
        "dues_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("charge_id", sa.Integer(), nullable=False),
        sa.Column(
            "stage",
            sa.Enum("before_due", "after_due", name="reminderstage", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id", "charge_id"],
            ["dues_charges.association_id", "dues_charges.id"],
            name="fk_dues_reminders_charge",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_dues_reminders_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dues_reminders")),
        sa.UniqueConstraint(
            "association_id",
            "charge_id",
            "stage",
            name=op.f("uq_dues_reminders_association_id_charge_id_stage"),
        ),
    )
    with op.batch_alter_table("dues_reminders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dues_reminders_association_id"), ["association_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("dues_reminders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dues_reminders_association_id"))

    op.drop_table("dues_reminders")
    with op.batch_alter_table("dues_payment_allocations", schema=None) as batch_op:
        batch_op.drop_index("ix_dues_payment_allocations_charge")
        batch_op.drop_index(batch_op.f("ix_dues_payment_allocations_association_id"))

    op.drop_table("dues_payment_allocations")
    with op.batch_alter_table("dues_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dues_payments_member_id"))
        batch_op.drop_index(batch_op.f("ix_dues_payments_collection_batch_id"))
        batch_op.drop_index(batch_op.f("ix_dues_payments_collected_via_household_id"))
        batch_op.drop_index("ix_dues_payments_association_paid_on")
        batch_op.drop_index(batch_op.f("ix_dues_payments_association_id"))

    op.drop_table("dues_payments")
    with op.batch_alter_table("dues_exemptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dues_exemptions_association_id"))

    op.drop_table("dues_exemptions")
    with op.batch_alter_table("dues_charges", schema=None) as batch_op:
        batch_op.drop_index("ix_dues_charges_association_year")
        batch_op.drop_index(batch_op.f("ix_dues_charges_association_id"))

    op.drop_table("dues_charges")
    with op.batch_alter_table("dues_collection_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dues_collection_batches_central_household_id"))
        batch_op.drop_index(batch_op.f("ix_dues_collection_batches_association_id"))

    op.drop_table("dues_collection_batches")
    with op.batch_alter_table("dues_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dues_settings_association_id"))

    op.drop_table("dues_settings")
    with op.batch_alter_table("dues_receipt_sequences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dues_receipt_sequences_association_id"))

    op.drop_table("dues_receipt_sequences")
    with op.batch_alter_table("dues_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dues_plans_association_id"))

    op.drop_table("dues_plans")
