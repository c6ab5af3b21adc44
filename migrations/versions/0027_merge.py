"""merge the statistics reports, yearly assessment, undo for deletes, governance and SMS gaps and
national-scale branches; widen the new tables' references to growing tables to bigint

Revision ID: 0027_merge
Revises: 0026_assessments, 0026_govsms, 0026_reports_forms, 0026_scale_keys, 0026_undo_deletes

The branches were written side by side: a table another branch created after 0026_scale_keys
ran (the order of parallel branches is not fixed) still refers to members, activities or stored
files with a 32-bit column. The same widening runs again here; it changes only what is still
`integer`, so on a database where the order was the other way round it does nothing.
"""

import importlib.util
from pathlib import Path

revision = "0027_merge"
down_revision = (
    "0026_assessments",
    "0026_govsms",
    "0026_reports_forms",
    "0026_scale_keys",
    "0026_undo_deletes",
)
branch_labels = None
depends_on = None


def _scale_keys():
    path = Path(__file__).with_name("0026_scale_keys.py")
    spec = importlib.util.spec_from_file_location("migration_0026_scale_keys", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade():
    _scale_keys()._retype("bigint", "integer")


def downgrade():
    pass  # 0026_scale_keys' own downgrade narrows every one of them back
