"""The 七有 review queue of a higher level, and recorded, reproducible spot checks (抽查)."""

from datetime import date, timedelta

from sqlalchemy import func, select

from app.core.clock import china_today
from app.extensions import db
from app.oversight import spot_checking
from app.oversight.models import RectificationTask, SpotCheck, SpotCheckEntry, Verdict
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tenants.models import Role
from tests.factories import (
    create_activity,
    create_checklist,
    create_spot_check,
    create_user,
    reload,
)


def _queue_items(page: str) -> list[str]:
    return [part.split('"')[0] for part in page.split('data-testid="queue-item-')[1:]]


# --- the review queue -------------------------------------------------------------------------


def test_each_level_sees_the_items_waiting_below_it_oldest_first(world, make_client):
    older = create_checklist(world.village_a1, year=2024, submitted=True)
    newer = create_checklist(world.village_b1, year=2025, submitted=True)
    a1 = [str(item.id) for item in older.items]
    b1 = [str(item.id) for item in newer.items]

    county = make_client(world.county_auditor.login).get("/a/county/oversight/reviews")
    assert county.status_code == 200
    page = county.get_data(True)
    assert _queue_items(page) == a1 + b1
    assert "/a/village-a1/checklist/?year=2024" in page and "village-b1计生协" in page

    township_b = make_client(world.township_b_auditor.login)
    assert _queue_items(township_b.get("/a/township-b/oversight/reviews").get_data(True)) == b1
    township_a = make_client(world.township_a_secretary.login)
    assert _queue_items(township_a.get("/a/township-a/oversight/reviews").get_data(True)) == a1
    # Nobody reviews their own association's items; a sibling branch sees nothing at all.
    own = make_client(world.secretary_a1.login).get("/a/village-a1/oversight/reviews")
    assert own.status_code == 200 and 'data-testid="queue-empty"' in own.get_data(True)
    assert township_b.get("/a/township-a/oversight/reviews").status_code == 404
    assert (
        make_client(world.member_a1.login).get("/a/village-a1/oversight/reviews").status_code == 403
    )


def test_a_reviewed_item_leaves_the_queue(world, make_client):
    checklist = create_checklist(world.village_a1, year=2024, submitted=True)
    auditor = make_client(world.county_auditor.login)
    first = checklist.items[0].id
    response = auditor.post(f"/a/village-a1/checklist/items/{first}/review", {"decision": "accept"})
    assert response.status_code == 303
    remaining = _queue_items(auditor.get("/a/county/oversight/reviews").get_data(True))
    assert str(first) not in remaining and len(remaining) == 6


def test_items_of_an_association_where_one_works_are_not_in_ones_queue(world, make_client):
    """app/checklist refuses a review by someone holding a working role in the association."""
    both = create_user(
        "both@test.cn",
        "兼职审核员",
        roles=[(world.county, Role.AUDITOR), (world.village_a1, Role.STAFF)],
    )
    create_checklist(world.village_a1, year=2024, submitted=True)
    b1 = create_checklist(world.village_b1, year=2024, submitted=True)
    page = make_client(both.login).get("/a/county/oversight/reviews").get_data(True)
    assert _queue_items(page) == [str(item.id) for item in b1.items]


def test_the_review_queue_is_paginated_with_a_fixed_number_of_queries(
    world, make_client, count_queries
):
    client = make_client(world.county_auditor.login)
    create_checklist(world.village_a1, year=2024, submitted=True)
    client.get("/a/county/oversight/reviews")
    with count_queries() as few:
        assert client.get("/a/county/oversight/reviews").status_code == 200
    create_checklist(world.village_a2, year=2024, submitted=True)
    create_checklist(world.village_b1, year=2024, submitted=True)
    with count_queries() as many:
        page = client.get("/a/county/oversight/reviews").get_data(True)
    assert len(_queue_items(page)) == 20 and 'data-testid="next-page"' in page
    assert len(many) == len(few)
    second = client.get("/a/county/oversight/reviews?page=2").get_data(True)
    assert len(_queue_items(second)) == 1


# --- spot checks ------------------------------------------------------------------------------


def _activities(world) -> dict[str, list[int]]:
    """Records of 2025 below the county, plus some that never fit a county draw of 2025."""
    made = {"a1": [], "a2": [], "b1": [], "township_a": [], "outside": []}
    for month in (1, 2, 5):
        made["a1"].append(create_activity(world.village_a1, held_on=date(2025, month, 10)).id)
    for month in (3, 8):
        made["a2"].append(create_activity(world.village_a2, held_on=date(2025, month, 1)).id)
    for month in (4, 11):
        made["b1"].append(create_activity(world.village_b1, held_on=date(2025, month, 2)).id)
    made["township_a"].append(create_activity(world.township_a, held_on=date(2025, 6, 6)).id)
    made["outside"].append(create_activity(world.county, held_on=date(2025, 6, 6)).id)
    made["outside"].append(create_activity(world.village_a1, held_on=date(2024, 6, 6)).id)
    return made


def _spot_checks() -> list[SpotCheck]:
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        rows = db.session.scalars(
            select(SpotCheck).order_by(SpotCheck.id).execution_options(populate_existing=True)
        ).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


def test_a_draw_is_recorded_and_reproducible_from_its_seed(world, make_client):
    made = _activities(world)
    below = made["a1"] + made["a2"] + made["b1"] + made["township_a"]
    auditor = make_client(world.county_auditor.login)
    response = auditor.post(
        "/a/county/oversight/spot-checks", {"year": "2025", "quarter": "", "size": "4"}
    )
    assert response.status_code == 303
    [draw] = _spot_checks()
    assert draw.association_id == world.county.id and draw.drawn_by_id == world.county_auditor.id
    assert draw.population == len(below) and draw.sample_size == 4
    assert len(set(draw.activity_ids)) == 4 and set(draw.activity_ids) <= set(below)
    # Anyone can redo the draw from the record: the sorted population and the seed.
    assert spot_checking.draw_sample(below, 4, draw.seed) == draw.activity_ids
    assert spot_checking.draw_sample(list(reversed(below)), 4, draw.seed) == draw.activity_ids
    with tenant_context(scope_for(world.county, writable=False)):
        assert spot_checking.reproduce(world.county, draw) == draw.activity_ids
    page = auditor.get(response.location).get_data(True)
    assert 'data-testid="reproducible"><span class="ok">' in page
    for activity_id in draw.activity_ids:
        assert f'data-testid="entry-{activity_id}"' in page

    # Drawing again is a new record; the first stays as it was.
    again = auditor.post(
        "/a/county/oversight/spot-checks", {"year": "2025", "quarter": "", "size": "4"}
    )
    assert again.status_code == 303
    first, second = _spot_checks()
    assert first.id == draw.id and first.seed == draw.seed
    assert first.activity_ids == draw.activity_ids and second.id != first.id
    history = auditor.get("/a/county/oversight/spot-checks").get_data(True)
    assert (
        f'data-testid="draw-{first.id}"' in history and f'data-testid="draw-{second.id}"' in history
    )


def test_the_draw_keeps_to_its_filters(world, make_client):
    made = _activities(world)
    auditor = make_client(world.county_auditor.login)
    response = auditor.post(
        "/a/county/oversight/spot-checks",
        {"year": "2025", "quarter": "", "child_id": str(world.township_a.id), "size": "6"},
    )
    assert response.status_code == 303
    [draw] = _spot_checks()
    assert sorted(draw.activity_ids) == sorted(made["a1"] + made["a2"] + made["township_a"])
    assert draw.child_association_id == world.township_a.id
    auditor.post("/a/county/oversight/spot-checks", {"year": "2025", "quarter": "1", "size": "3"})
    quarter = _spot_checks()[-1]
    assert sorted(quarter.activity_ids) == sorted(made["a1"][:2] + made["a2"][:1])


def test_a_bad_sample_size_is_explained_and_nothing_is_drawn(world, client_for, make_client):
    _activities(world)
    # In Chinese first: the English client below keeps English as the user's choice.
    chinese = make_client(world.county_auditor.login).post(
        "/a/county/oversight/spot-checks", {"year": "2025", "size": "0"}
    )
    assert "请至少抽取一条活动记录" in chinese.get_data(True)
    auditor = client_for(world.county_auditor.login)
    zero = auditor.post("/a/county/oversight/spot-checks", {"year": "2025", "size": "0"})
    assert zero.status_code == 422
    assert "Draw at least one activity record." in zero.get_data(True)
    too_many = auditor.post("/a/county/oversight/spot-checks", {"year": "2025", "size": "9"})
    assert too_many.status_code == 422
    assert "Only 8 activity records match these filters: draw 8 or fewer." in too_many.get_data(
        True
    )
    sibling = auditor.post(
        "/a/county/oversight/spot-checks",
        {"year": "2025", "child_id": str(world.village_a1.id), "size": "1"},
    )
    assert sibling.status_code == 422
    assert _spot_checks() == []


def test_draws_are_seen_by_the_association_and_those_above_only(world, make_client):
    activity = create_activity(world.village_a1, held_on=date(2025, 5, 29))
    draw = create_spot_check(
        world.township_a, activity_ids=[activity.id], drawn_by=world.township_a_secretary
    )
    url = f"/a/township-a/oversight/spot-checks/{draw.id}"
    assert make_client(world.township_a_secretary.login).get(url).status_code == 200
    assert make_client(world.county_auditor.login).get(url).status_code == 200
    county_history = make_client(world.county_auditor.login).get(
        "/a/township-a/oversight/spot-checks"
    )
    assert f'data-testid="draw-{draw.id}"' in county_history.get_data(True)
    assert make_client(world.township_b_auditor.login).get(url).status_code == 404
    assert make_client(world.secretary_a1.login).get(url).status_code == 404


def test_inspecting_marks_records_and_a_problem_opens_a_task_in_one_step(world, client_for):
    with_photo = create_activity(world.village_a1, held_on=date(2025, 5, 29), photos=1)
    without = create_activity(world.village_a2, held_on=date(2025, 7, 11))
    draw = create_spot_check(
        world.county, activity_ids=[with_photo.id, without.id], drawn_by=world.county_auditor
    )
    with UNSCOPED_BYPASS("fix the owners the way a real draw records them"):
        entries = db.session.scalars(
            select(SpotCheckEntry).where(SpotCheckEntry.spot_check_id == draw.id)
        ).all()
        owners = {with_photo.id: world.village_a1.id, without.id: world.village_a2.id}
        for entry in entries:
            entry.activity_association_id = owners[entry.activity_id]
        db.session.commit()
    first, second = draw.entries
    auditor = client_for(world.county_auditor.login)
    page = auditor.get(f"/a/county/oversight/spot-checks/{draw.id}").get_data(True)
    assert f"/a/village-a1/activities/{with_photo.id}" in page
    assert "/a/village-a1/files/" in page and "/thumbnail" in page

    ok = auditor.post(f"/a/county/oversight/spot-check-entries/{first.id}", {"verdict": "ok"})
    assert ok.status_code == 303
    assert reload(SpotCheckEntry, first.id).verdict == Verdict.OK

    no_note = auditor.post(
        f"/a/county/oversight/spot-check-entries/{second.id}", {"verdict": "problem"}
    )
    assert no_note.status_code == 422 and "Say what the problem is." in no_note.get_data(True)
    past = auditor.post(
        f"/a/county/oversight/spot-check-entries/{second.id}",
        {
            "verdict": "problem",
            "note": "参与人数与照片不符",
            "open_task": "y",
            "title": "核实参与人数",
            "deadline_on": (china_today() - timedelta(days=1)).isoformat(),
        },
    )
    assert past.status_code == 422 and "The deadline cannot be in the past." in past.get_data(True)
    assert reload(SpotCheckEntry, second.id).verdict == Verdict.PENDING

    problem = auditor.post(
        f"/a/county/oversight/spot-check-entries/{second.id}",
        {
            "verdict": "problem",
            "note": "参与人数与照片不符",
            "open_task": "y",
            "title": "核实参与人数",
            "deadline_on": (china_today() + timedelta(days=10)).isoformat(),
        },
    )
    assert problem.status_code == 303
    entry = reload(SpotCheckEntry, second.id)
    assert entry.verdict == Verdict.PROBLEM and entry.note == "参与人数与照片不符"
    task = reload(RectificationTask, entry.task_id)
    assert task.association_id == world.village_a2.id and task.activity_id == without.id
    assert task.description == "参与人数与照片不符" and task.opened_by_id == world.county_auditor.id
    home = client_for(world.secretary_a2.login).get("/a/village-a2/").get_data(True)
    assert "核实参与人数" in home
    page = auditor.get(f"/a/county/oversight/spot-checks/{draw.id}").get_data(True)
    assert f'data-testid="entry-task-{without.id}"' in page
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        assert db.session.scalar(select(func.count(RectificationTask.id))) == 1


def test_spot_check_pages_run_a_fixed_number_of_queries(world, make_client, count_queries):
    client = make_client(world.county_auditor.login)
    one = create_activity(world.village_a1, held_on=date(2025, 3, 1), photos=1)
    small = create_spot_check(world.county, activity_ids=[one.id], drawn_by=world.county_auditor)
    client.get("/a/county/oversight/spot-checks")
    with count_queries() as few_history:
        assert client.get("/a/county/oversight/spot-checks").status_code == 200
    with count_queries() as few_entries:
        assert client.get(f"/a/county/oversight/spot-checks/{small.id}").status_code == 200
    more = [create_activity(world.village_b1, held_on=date(2025, 4, 1), photos=2).id for _ in "abc"]
    for _ in range(3):
        big = create_spot_check(world.county, activity_ids=more + [one.id])
    with count_queries() as many_history:
        assert client.get("/a/county/oversight/spot-checks").status_code == 200
    with count_queries() as many_entries:
        assert client.get(f"/a/county/oversight/spot-checks/{big.id}").status_code == 200
    assert len(many_history) == len(few_history)
    assert len(many_entries) == len(few_entries)
