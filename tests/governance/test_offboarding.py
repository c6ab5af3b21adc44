"""An association leaving the platform takes its plan, minutes, progress evidence, evaluation
and report with it: the operator's deletion leaves zero governance rows and zero files."""

import io

from sqlalchemy import select

from app.admin.offboarding import remaining_rows
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Association
from tests.factories import create_plan, create_survey_response
from tests.uploads import samples

TABLES = (
    "year_plans",
    "plan_commitments",
    "planned_activities",
    "commitment_updates",
    "surveys",
    "survey_codes",
    "survey_responses",
    "stored_files",
)


def test_deleting_the_subtree_removes_every_governance_row(world, client_for):
    plan = create_plan(world.village_a1, commitments=(("走访", "manual", 5, 4),), published=True)
    secretary = client_for(world.secretary_a1.login)
    note = {
        "noted_on": plan.published_at.date().isoformat(),
        "note": "走访",
        "value": "2",
        "evidence": (io.BytesIO(samples.jpeg()), "a.jpg"),
    }
    url = f"/a/village-a1/governance/commitments/{plan.commitments[0].id}/updates"
    assert secretary.post(url, note, content_type="multipart/form-data").status_code == 303
    create_survey_response(world.village_a1)
    with UNSCOPED_BYPASS("test"):
        ids = list(
            db.session.scalars(
                select(Association.id).where(Association.path.startswith(world.township_a.path))
            )
        )
    before = remaining_rows(ids)
    assert all(before[table] for table in TABLES), before
    admin = client_for(world.admin.login)
    done = admin.post(
        f"/admin/associations/{world.township_a.id}/delete", {"confirm": "township-a"}
    )
    assert done.status_code == 303
    db.session.commit()
    assert remaining_rows(ids) == {name: 0 for name in remaining_rows(ids)}
