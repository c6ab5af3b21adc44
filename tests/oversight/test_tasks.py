"""Rectification tasks (整改): opened from above, answered with evidence, accepted or sent back;
illegal steps refused; overdue tasks counted up the tree."""

import io
from datetime import timedelta

from sqlalchemy import func, select

from app.core.clock import china_today
from app.core.uploads import StoredFile
from app.extensions import db
from app.oversight import rectification
from app.oversight.models import RectificationTask, TaskEvent, TaskEvidence, TaskState
from app.oversight.problems import OversightRefused
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tests.factories import create_activity, create_task, reload
from tests.oversight.helpers import TARGET, task_form
from tests.uploads import samples


def _count(model) -> int:
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        return db.session.scalar(select(func.count()).select_from(model))


def _events(task_id: int) -> list[tuple[str, int | None, int | None]]:
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        return [
            (event.action, event.actor_id, event.actor_association_id)
            for event in db.session.scalars(
                select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)
            )
        ]


def _answer(client, task_id, note="已补充照片", files=()):
    return client.post(
        f"{TARGET}/tasks/{task_id}/answer",
        {"note": note, "files": [(io.BytesIO(data), name) for data, name in files]},
        content_type="multipart/form-data",
    )


def test_the_whole_cycle_open_answer_send_back_answer_accept(world, make_client):
    auditor = make_client(world.county_auditor.login)
    activity = create_activity(world.village_a1, title="义诊活动")
    response = auditor.post(f"{TARGET}/tasks/new", task_form(activity_id=str(activity.id)))
    assert response.status_code == 303
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        task = db.session.scalar(select(RectificationTask))
    # The row belongs to the target, opened from the county.
    assert task.association_id == world.village_a1.id
    assert task.opened_by_association_id == world.county.id
    assert task.state == TaskState.OPEN and task.activity_id == activity.id

    secretary = make_client(world.secretary_a1.login)
    home = secretary.get("/a/village-a1/").get_data(as_text=True)
    assert f'data-testid="home-task-{task.id}"' in home and "活动照片不全" in home
    listing = secretary.get(f"{TARGET}/tasks").get_data(as_text=True)
    assert f'data-testid="task-{task.id}"' in listing
    page = secretary.get(f"{TARGET}/tasks/{task.id}").get_data(as_text=True)
    assert "第二季度的活动记录没有照片" in page and "义诊活动" in page
    assert 'data-testid="answer-form"' in page and 'data-testid="decision-form"' not in page

    assert (
        _answer(secretary, task.id, files=[(samples.jpeg_with_gps(), "补拍.jpg")]).status_code
        == 303
    )
    assert reload(RectificationTask, task.id).state == TaskState.ANSWERED
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        evidence = db.session.scalar(select(TaskEvidence))
        stored = db.session.get(StoredFile, evidence.stored_file_id)
        assert stored.association_id == world.village_a1.id and stored.purpose == "evidence"
    # The auditor sees the evidence through the protected route of the target, EXIF removed.
    page = auditor.get(f"{TARGET}/tasks/{task.id}").get_data(as_text=True)
    assert "补拍.jpg" in page and 'data-testid="decision-form"' in page
    download = auditor.get(f"/a/village-a1/files/{stored.id}")
    assert download.status_code == 200 and b"Exif" not in download.data
    assert download.headers["X-Content-Type-Options"] == "nosniff"

    no_comment = auditor.post(f"{TARGET}/tasks/{task.id}/decide", {"decision": "return"})
    assert no_comment.status_code == 422
    assert "退回时请说明还缺什么" in no_comment.get_data(as_text=True)
    assert reload(RectificationTask, task.id).state == TaskState.ANSWERED
    sent_back = auditor.post(
        f"{TARGET}/tasks/{task.id}/decide", {"decision": "return", "comment": "照片要有横幅"}
    )
    assert sent_back.status_code == 303
    assert reload(RectificationTask, task.id).state == TaskState.RETURNED
    assert "照片要有横幅" in secretary.get(f"{TARGET}/tasks/{task.id}").get_data(as_text=True)

    assert _answer(secretary, task.id, note="已重拍，附横幅").status_code == 303
    accepted = auditor.post(f"{TARGET}/tasks/{task.id}/decide", {"decision": "accept"})
    assert accepted.status_code == 303
    closed = reload(RectificationTask, task.id)
    assert closed.state == TaskState.CLOSED and closed.closed_at is not None
    auditor_id, secretary_id = world.county_auditor.id, world.secretary_a1.id
    county, village = world.county.id, world.village_a1.id
    assert _events(task.id) == [
        ("open", auditor_id, county),
        ("answer", secretary_id, village),
        ("return", auditor_id, county),
        ("answer", secretary_id, village),
        ("accept", auditor_id, county),
    ]
    history = secretary.get(f"{TARGET}/tasks/{task.id}").get_data(as_text=True)
    history = history.split('data-testid="task-history"')[1]
    assert "县审核员" in history and "秘书甲" in history and "county计生协" in history


def test_the_target_secretary_cannot_open_or_close_a_task_on_their_own(world, client_for):
    secretary = client_for(world.secretary_a1.login)
    assert secretary.post(f"{TARGET}/tasks/new", task_form()).status_code == 403
    task = create_task(world.village_a1, opened_by=world.county_auditor, state="answered")
    response = secretary.post(f"{TARGET}/tasks/{task.id}/decide", {"decision": "accept"})
    assert response.status_code == 403
    assert reload(RectificationTask, task.id).state == TaskState.ANSWERED
    # Not through the service either.
    try:
        rectification.decide_task(
            world.village_a1, task.id, user_id=world.secretary_a1.id, accept=True, comment=""
        )
    except OversightRefused:
        pass
    else:
        raise AssertionError("the target's secretary closed their own task")


def test_a_sibling_branch_sees_and_touches_nothing(world, make_client):
    task = create_task(world.village_a1, opened_by=world.county_auditor, state="answered")
    outsider = make_client(world.township_b_auditor.login)
    assert outsider.get(f"{TARGET}/tasks/{task.id}").status_code == 404
    assert (
        outsider.post(f"{TARGET}/tasks/{task.id}/decide", {"decision": "accept"}).status_code == 404
    )
    assert outsider.post(f"{TARGET}/tasks/new", task_form()).status_code == 404
    assert "活动照片不全" not in outsider.get("/a/township-b/oversight/tasks").get_data(True)
    assert reload(RectificationTask, task.id).state == TaskState.ANSWERED


def test_a_lower_level_cannot_close_what_a_higher_level_opened(world, make_client):
    task = create_task(world.village_a1, opened_by=world.county_auditor, state="answered")
    township = make_client(world.township_a_secretary.login)
    assert 'data-testid="decision-form"' not in township.get(f"{TARGET}/tasks/{task.id}").get_data(
        True
    )
    response = township.post(f"{TARGET}/tasks/{task.id}/decide", {"decision": "accept"})
    assert response.status_code == 403
    assert reload(RectificationTask, task.id).state == TaskState.ANSWERED
    # The township may close its own tasks.
    own = create_task(world.village_a1, opened_by=world.township_a_secretary, state="answered")
    assert (
        township.post(f"{TARGET}/tasks/{own.id}/decide", {"decision": "accept"}).status_code == 303
    )


def test_illegal_steps_are_refused_with_a_reason(world, client_for):
    secretary = client_for(world.secretary_a1.login)
    auditor = client_for(world.county_auditor.login)
    closed = create_task(world.village_a1, opened_by=world.county_auditor, state="closed")
    response = _answer(secretary, closed.id)
    assert response.status_code == 422
    assert "This step is not possible for a task that is closed." in response.get_data(True)
    assert _count(TaskEvent) == 1  # its opening only: nothing was answered
    open_task = create_task(world.village_a1, opened_by=world.county_auditor)
    response = auditor.post(f"{TARGET}/tasks/{open_task.id}/decide", {"decision": "accept"})
    assert response.status_code == 422
    assert "not possible for a task that is open, waiting for an answer" in response.get_data(True)
    assert reload(RectificationTask, open_task.id).state == TaskState.OPEN
    # The auditor does not answer for the association.
    assert _answer(auditor, open_task.id).status_code == 403


def test_bad_task_input_is_explained_and_nothing_is_written(world, client_for):
    auditor = client_for(world.county_auditor.login)
    yesterday = (china_today() - timedelta(days=2)).isoformat()
    past = auditor.post(f"{TARGET}/tasks/new", task_form(deadline_on=yesterday))
    assert past.status_code == 422
    assert "The deadline cannot be in the past." in past.get_data(True)
    empty = auditor.post(f"{TARGET}/tasks/new", task_form(description="  "))
    assert empty.status_code == 422
    assert "Describe what is wrong and what must be done." in empty.get_data(True)
    foreign = create_activity(world.village_a2)
    other = auditor.post(f"{TARGET}/tasks/new", task_form(activity_id=str(foreign.id)))
    assert other.status_code == 422
    assert _count(RectificationTask) == 0 and _count(TaskEvent) == 0


def test_bad_input_messages_are_translated(world, make_client):
    auditor = make_client(world.county_auditor.login)
    yesterday = (china_today() - timedelta(days=2)).isoformat()
    page = auditor.post(f"{TARGET}/tasks/new", task_form(deadline_on=yesterday)).get_data(True)
    assert "期限不能早于今天" in page


def test_an_answer_with_a_hostile_file_is_refused_whole(world, client_for):
    task = create_task(world.village_a1, opened_by=world.county_auditor)
    secretary = client_for(world.secretary_a1.login)
    response = _answer(
        secretary, task.id, files=[(samples.jpeg(), "ok.jpg"), (samples.HTML, "假照片.jpg")]
    )
    assert response.status_code == 415
    assert "假照片.jpg was not accepted" in response.get_data(True)
    assert reload(RectificationTask, task.id).state == TaskState.OPEN
    assert _count(TaskEvidence) == 0 and _count(StoredFile) == 0
    empty = _answer(secretary, task.id, note=" ")
    assert empty.status_code == 422 and "Say what was done to correct it." in empty.get_data(True)


# --- overdue ----------------------------------------------------------------------------------


def test_overdue_tasks_are_counted_per_association_and_per_child(world, count_queries):
    # China's date, as the service's default: from 16:00 UTC it is already tomorrow there.
    today = china_today()
    past = today - timedelta(days=3)
    create_task(world.village_a1, opened_by=world.county_auditor, deadline_on=past)
    create_task(
        world.village_a1, opened_by=world.county_auditor, deadline_on=past, state="answered"
    )
    create_task(world.village_a2, opened_by=world.county_auditor, deadline_on=past)
    create_task(world.village_b1, opened_by=world.county_auditor, deadline_on=past)
    create_task(world.township_a, opened_by=world.county_auditor, deadline_on=past)
    # Not overdue: closed, or the deadline is today or later.
    create_task(world.village_a1, opened_by=world.county_auditor, deadline_on=past, state="closed")
    create_task(world.village_a1, opened_by=world.county_auditor, deadline_on=today)
    with tenant_context(scope_for(world.county, writable=False)):
        with count_queries() as queries:
            counts = rectification.overdue_task_counts(world.county, today=today)
        by_child = rectification.overdue_by_child(world.county, today=today)
    assert len(queries) == 1
    assert counts == {
        world.village_a1.id: 2,
        world.village_a2.id: 1,
        world.village_b1.id: 1,
        world.township_a.id: 1,
    }
    assert by_child == {world.township_a.id: 4, world.township_b.id: 1}
    with tenant_context(scope_for(world.township_a, writable=False)):
        assert rectification.overdue_task_counts(world.township_a) == {
            world.village_a1.id: 2,
            world.village_a2.id: 1,
            world.township_a.id: 1,
        }
        assert rectification.overdue_by_child(world.township_a) == {
            world.village_a1.id: 2,
            world.village_a2.id: 1,
            world.township_a.id: 1,
        }
    # A day later, today's deadline has passed too.
    with tenant_context(scope_for(world.village_a1, writable=False)):
        tomorrow = today + timedelta(days=1)
        assert rectification.overdue_task_counts(world.village_a1, today=tomorrow) == {
            world.village_a1.id: 3
        }


def test_overdue_tasks_show_in_red_at_the_target_and_up_the_tree(world, make_client):
    past = china_today() - timedelta(days=3)
    late = create_task(world.village_a1, opened_by=world.county_auditor, deadline_on=past)
    on_time = create_task(world.village_a1, opened_by=world.county_auditor, title="制度未上墙")
    home = make_client(world.secretary_a1.login).get("/a/village-a1/").get_data(True)
    assert f'<li class="overdue" data-testid="home-task-{late.id}">' in home
    assert f'<li class="" data-testid="home-task-{on_time.id}">' in home
    county = make_client(world.county_auditor.login)
    assert 'data-testid="overdue-below"' in county.get("/a/county/").get_data(True)
    listing = county.get("/a/county/oversight/tasks?state=overdue").get_data(True)
    assert f'data-testid="overdue-{late.id}"' in listing
    assert f'data-testid="task-{on_time.id}"' not in listing
    # Another branch does not see it at all.
    other = make_client(world.township_b_auditor.login).get("/a/township-b/").get_data(True)
    assert 'data-testid="overdue-below"' not in other


def test_the_task_list_runs_a_fixed_number_of_queries(world, make_client, count_queries):
    client = make_client(world.county_auditor.login)
    create_task(world.village_a1, opened_by=world.county_auditor)
    client.get("/a/county/oversight/tasks")
    with count_queries() as few:
        assert client.get("/a/county/oversight/tasks").status_code == 200
    for target in (world.village_a2, world.village_b1, world.township_a, world.village_a1):
        create_task(target, opened_by=world.county_auditor)
    with count_queries() as many:
        page = client.get("/a/county/oversight/tasks")
    assert page.status_code == 200 and page.get_data(True).count('data-testid="task-') == 5
    assert len(many) == len(few)


def test_an_auditor_finds_an_association_below_and_opens_a_task(world, make_client):
    county = make_client(world.county_auditor.login)
    page = county.get("/a/county/oversight/tasks?find=village-b1").get_data(True)
    assert 'data-testid="target-village-b1"' in page
    assert "/a/village-b1/oversight/tasks/new" in page
    # Only associations below are found.
    township = make_client(world.township_b_auditor.login)
    assert 'data-testid="target-' not in township.get(
        "/a/township-b/oversight/tasks?find=village-a1"
    ).get_data(True)
