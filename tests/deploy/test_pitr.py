"""Point-in-time recovery as docs/operations.md describes it: WAL archive + base backup,
restored to a moment between two writes (bench/pitr_drill.py on a throwaway cluster)."""

import os

import pytest

from bench.pitr_drill import PG_BIN, run_drill


@pytest.mark.skipif(
    os.geteuid() != 0 or not (PG_BIN / "pg_basebackup").exists(),
    reason="needs root (PostgreSQL runs as postgres) and PostgreSQL 15's binaries",
)
def test_a_restore_to_a_moment_between_two_writes_has_the_first_and_not_the_second():
    assert run_drill().rows_after_restore == ["first"]
