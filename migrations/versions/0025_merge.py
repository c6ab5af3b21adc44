"""merge the sessions, second factor, row-level-security wall, household moves, import mappings,
governance, closed periods, manual target values and SMS branches

Revision ID: 0025_merge
Revises: 0016_server_sessions, 0017_second_factor, 0018_rls_wall, 0019_household_moves,
0020_import_mappings, 0022_governance, 0023_period_snapshots, 0024_manual_target_values,
0024_sms_sign_in
"""

revision = "0025_merge"
down_revision = (
    "0016_server_sessions",
    "0017_second_factor",
    "0018_rls_wall",
    "0019_household_moves",
    "0020_import_mappings",
    "0022_governance",
    "0023_period_snapshots",
    "0024_manual_target_values",
    "0024_sms_sign_in",
)
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
