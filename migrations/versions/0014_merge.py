"""merge the volunteers, dues/Stripe, dashboards, oversight and personal-data branches

Revision ID: 0014_merge
Revises: 0008_volunteers, 0010_stripe, 0011_dashboards, 0012_oversight, 0013_personal_data
"""

revision = "0014_merge"
down_revision = (
    "0008_volunteers",
    "0010_stripe",
    "0011_dashboards",
    "0012_oversight",
    "0013_personal_data",
)
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
