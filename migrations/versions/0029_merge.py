"""merge the assessment corrections, the self-governance figures, the SMS gaps and the index of
deleted members

Revision ID: 0029_merge
Revises: 0028_assessment_corrections, 0028_cycle_figures, 0028_deleted_members_index, 0028_sms2

Four branches written side by side from 0027_merge; none touches another's tables.
"""

revision = "0029_merge"
down_revision = (
    "0028_assessment_corrections",
    "0028_cycle_figures",
    "0028_deleted_members_index",
    "0028_sms2",
)
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
