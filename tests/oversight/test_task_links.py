"""The "open a rectification task" links on the activity and 七有 pages: shown to those who may
open a task against the association, pre-filling the task form; forged ids refused."""

from sqlalchemy import select

from app.extensions import db
from app.oversight.models import RectificationTask
from tenants.context import UNSCOPED_BYPASS
from tests.factories import create_activity, create_checklist
from tests.oversight.helpers import TARGET, task_form


def _only_task() -> RectificationTask | None:
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        return db.session.scalar(select(RectificationTask))


def test_the_activity_page_offers_a_task_to_the_county_auditor_only(world, make_client):
    activity = create_activity(world.village_a1, title="义诊活动")
    page = f"/a/village-a1/activities/{activity.id}"
    link = f'href="/a/village-a1/oversight/tasks/new?activity_id={activity.id}"'
    for login in (world.county_auditor.login, world.township_a_secretary.login):
        response = make_client(login).get(page)
        assert response.status_code == 200
        assert link in response.get_data(as_text=True)
    for login in (world.secretary_a1.login, world.staff_a1.login):
        response = make_client(login).get(page)
        assert response.status_code == 200
        assert 'data-testid="open-task-link"' not in response.get_data(as_text=True)
    # Another branch sees neither the activity nor the link.
    outsider = make_client(world.township_b_auditor.login).get(page)
    assert outsider.status_code in (403, 404)
    assert "open-task-link" not in outsider.get_data(as_text=True)


def test_the_checklist_page_offers_a_task_per_item_to_the_county_auditor_only(world, make_client):
    checklist = create_checklist(world.village_a1, evidence_for=(4,))
    item = next(i for i in checklist.items if i.number == 4)
    page = f"/a/village-a1/checklist/?year={checklist.year}"
    link = f'href="/a/village-a1/oversight/tasks/new?item_id={item.id}"'
    response = make_client(world.county_auditor.login).get(page)
    assert response.status_code == 200 and link in response.get_data(as_text=True)
    response = make_client(world.secretary_a1.login).get(page)
    assert response.status_code == 200
    assert "open-task-link" not in response.get_data(as_text=True)
    outsider = make_client(world.township_b_auditor.login).get(page)
    assert outsider.status_code in (403, 404)
    assert "open-task-link" not in outsider.get_data(as_text=True)


def test_following_the_links_prefills_thetask_form(world, make_client):
    activity = create_activity(world.village_a1, title="义诊活动")
    checklist = create_checklist(world.village_a1, evidence_for=(5,))
    item = next(i for i in checklist.items if i.number == 5)
    auditor = make_client(world.county_auditor.login)

    form = auditor.get(f"{TARGET}/tasks/new?activity_id={activity.id}")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert f'name="activity_id" value="{activity.id}"' in html
    assert 'data-testid="linked-activity"' in html and "义诊活动" in html

    form = auditor.get(f"{TARGET}/tasks/new?item_id={item.id}")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert f'name="checklist_item_id" value="{item.id}"' in html
    assert 'data-testid="linked-item"' in html

    sent = auditor.post(f"{TARGET}/tasks/new", task_form(checklist_item_id=str(item.id)))
    assert sent.status_code == 303
    assert _only_task().checklist_item_id == item.id


def test_an_id_of_another_association_is_refused_with_a_reason(world, client_for):
    elsewhere = create_activity(world.village_a2, title="别村活动")
    other_checklist = create_checklist(world.village_a2, evidence_for=(4,))
    other_item = other_checklist.items[0]
    auditor = client_for(world.county_auditor.login)

    for query, message in (
        (f"activity_id={elsewhere.id}", "That activity is not this association"),
        (f"item_id={other_item.id}", "That 七有 item is not this association"),
        ("activity_id=abc", "That activity is not this association"),
        ("item_id=99999999999999999999", "That 七有 item is not this association"),
    ):
        response = auditor.get(f"{TARGET}/tasks/new?{query}")
        assert response.status_code == 404, query
        html = response.get_data(as_text=True)
        assert message in html and 'data-testid="task-form"' in html
        assert "别村活动" not in html and 'name="activity_id"' not in html

    forged = auditor.post(f"{TARGET}/tasks/new", task_form(activity_id=str(elsewhere.id)))
    assert forged.status_code == 422
    assert "That activity is not this association" in forged.get_data(as_text=True)
    assert _only_task() is None


def test_the_village_secretary_cannot_use_the_link_by_hand(world, make_client):
    activity = create_activity(world.village_a1)
    secretary = make_client(world.secretary_a1.login)
    response = secretary.get(f"{TARGET}/tasks/new?activity_id={activity.id}")
    assert response.status_code == 403
