"""The yearly plan (承诺) and its progress (实施): drafted, approved with minutes and published by
the secretary; read by staff and the level above; each commitment judged on track / behind /
done from its figure or from dated notes with evidence."""

import io
from datetime import date

from sqlalchemy import func, select

from app.core.clock import china_today
from app.core.uploads import StoredFile
from app.extensions import db
from app.governance import services
from app.governance.models import Commitment, CommitmentUpdate, Measure, YearPlan
from tests.factories import create_activity, create_plan, reload
from tests.uploads import samples

BASE = "/a/village-a1/governance"
YEAR = china_today().year


def _count(model) -> int:
    from tenants.context import UNSCOPED_BYPASS

    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        return db.session.scalar(select(func.count()).select_from(model))


def _commitment(**fields) -> dict:
    return {
        "year": str(YEAR),
        "text": "全年开展活动不少于4次",
        "measure": "activities",
        "target": "4",
        "due_quarter": "4",
        **fields,
    }


def _approval(**fields) -> dict:
    return {
        "year": str(YEAR),
        "approved_by": "members_meeting",
        "approved_on": china_today().isoformat(),
        "attendance": "42",
        "minutes": (io.BytesIO(samples.PDF), "会议记录.pdf"),
        **fields,
    }


def test_the_secretary_drafts_approves_and_publishes_the_plan(world, make_client):
    secretary = make_client(world.secretary_a1.login)
    assert secretary.post(f"{BASE}/plan/commitments", _commitment()).status_code == 303
    manual = _commitment(text="走访困难家庭", measure="manual", unit="户", target="10")
    assert secretary.post(f"{BASE}/plan/commitments", manual).status_code == 303
    planned = {"year": str(YEAR), "month": "5", "title": "5·29 会员活动日"}
    assert secretary.post(f"{BASE}/plan/activities", planned).status_code == 303
    saved = {"year": str(YEAR), "summary": "今年我们承诺……", "show_activities": "y"}
    assert secretary.post(f"{BASE}/plan", saved).status_code == 303

    # Not before the approval is recorded, and not without its minutes.
    refused = secretary.post(f"{BASE}/plan/publish", {"year": str(YEAR)})
    assert refused.status_code == 422
    no_minutes = _approval()
    del no_minutes["minutes"]
    response = secretary.post(
        f"{BASE}/plan/approval", no_minutes, content_type="multipart/form-data"
    )
    assert response.status_code == 422 and _count(StoredFile) == 0
    response = secretary.post(
        f"{BASE}/plan/approval", _approval(), content_type="multipart/form-data"
    )
    assert response.status_code == 303
    assert secretary.post(f"{BASE}/plan/publish", {"year": str(YEAR)}).status_code == 303

    plan = reload(YearPlan, _plan_id())
    assert plan.is_published and plan.attendance == 42 and plan.summary == "今年我们承诺……"
    assert plan.show_activities and not plan.show_dues
    assert plan.association_id == world.village_a1.id
    page = secretary.get(f"{BASE}/plan?year={YEAR}").get_data(as_text=True)
    assert 'data-testid="public-link"' in page and "会议记录.pdf" in page
    assert "全年开展活动不少于4次" in page and "5·29 会员活动日" in page

    # Published: what was promised stays as it was promised.
    again = secretary.post(f"{BASE}/plan/commitments", _commitment(text="新承诺"))
    assert again.status_code == 409
    assert secretary.post(f"{BASE}/plan/publish", {"year": str(YEAR)}).status_code == 409
    assert _count(Commitment) == 2


def _plan_id() -> int:
    from tenants.context import UNSCOPED_BYPASS

    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        return db.session.scalar(select(YearPlan.id))


def test_staff_and_the_level_above_read_the_plan_without_its_forms(world, make_client):
    create_plan(world.village_a1, published=True)
    for login in (world.staff_a1.login, world.county_auditor.login):
        page = make_client(login).get(f"{BASE}/plan").get_data(as_text=True)
        assert "发展新会员" in page and 'data-testid="approval"' in page
        assert 'data-testid="commitment-form"' not in page
        assert 'data-testid="publish-form"' not in page
    auditor = make_client(world.county_auditor.login)
    assert auditor.post(f"{BASE}/plan/commitments", _commitment()).status_code == 403
    # The minutes are readable from above (监督) but not by a plain member.
    minutes = reload(YearPlan, _plan_id()).minutes_file_id
    assert auditor.get(f"/a/village-a1/files/{minutes}").status_code == 200
    assert (
        make_client(world.member_a1.login).get(f"/a/village-a1/files/{minutes}").status_code == 403
    )
    assert make_client(world.member_a1.login).get(f"{BASE}/plan").status_code == 403


def test_the_form_refuses_a_share_target_above_100(world, make_client):
    secretary = make_client(world.secretary_a1.login)
    response = secretary.post(
        f"{BASE}/plan/commitments", _commitment(measure="member_ratio", target="120")
    )
    assert response.status_code == 422 and _count(Commitment) == 0


def test_a_draft_commitment_can_be_removed(world, make_client):
    plan = create_plan(world.village_a1)
    secretary = make_client(world.secretary_a1.login)
    commitment_id = plan.commitments[0].id
    assert secretary.post(f"{BASE}/commitments/{commitment_id}/delete").status_code == 303
    assert _count(Commitment) == 0


def test_progress_noted_with_evidence_marks_a_manual_commitment_done(world, make_client):
    plan = create_plan(
        world.village_a1, commitments=(("走访困难家庭", "manual", 10, 4),), published=True
    )
    commitment_id = plan.commitments[0].id
    secretary = make_client(world.secretary_a1.login)
    note = {
        "noted_on": china_today().isoformat(),
        "note": "走访了6户",
        "value": "6",
        "evidence": (io.BytesIO(samples.jpeg()), "走访.jpg"),
    }
    url = f"{BASE}/commitments/{commitment_id}/updates"
    assert secretary.post(url, note, content_type="multipart/form-data").status_code == 303
    page = secretary.get(f"{BASE}/commitments/{commitment_id}").get_data(as_text=True)
    assert "走访了6户" in page and "走访.jpg" in page
    assert 'data-testid="commitment-value">6<' in page
    done = {"noted_on": china_today().isoformat(), "note": "全部走访", "value": "10"}
    assert secretary.post(url, done).status_code == 303
    page = secretary.get(f"{BASE}/commitments/{commitment_id}").get_data(as_text=True)
    assert 'class="progress-state progress-done"' in page
    assert _count(CommitmentUpdate) == 2
    # Staff read the notes but do not write them; a future date is refused.
    staff = make_client(world.staff_a1.login)
    assert staff.post(url, done).status_code == 403
    future = {**done, "noted_on": date(YEAR + 1, 1, 2).isoformat()}
    assert secretary.post(url, future).status_code == 422


def test_a_figure_commitment_takes_no_value_and_a_draft_takes_no_notes(world, make_client):
    draft = create_plan(world.village_a1)
    secretary = make_client(world.secretary_a1.login)
    note = {"noted_on": china_today().isoformat(), "note": "进展"}
    url = f"{BASE}/commitments/{draft.commitments[0].id}/updates"
    assert secretary.post(url, note).status_code == 409
    published = create_plan(world.village_a2, published=True)
    other = make_client(world.secretary_a2.login)
    url = f"/a/village-a2/governance/commitments/{published.commitments[0].id}/updates"
    assert other.post(url, {**note, "value": "3"}).status_code == 422


def test_a_commitment_linked_to_the_activity_count_follows_the_activity_log(world, make_client):
    plan = create_plan(
        world.village_a1, commitments=(("开展活动2次", "activities", 2, 4),), published=True
    )
    create_activity(world.village_a1, title="义诊", held_on=date(YEAR, 1, 10))
    create_activity(world.village_a1, title="宣传", held_on=date(YEAR, 2, 10))
    page = make_client(world.county_auditor.login).get(
        f"{BASE}/commitments/{plan.commitments[0].id}"
    )
    text = page.get_data(as_text=True)
    assert 'data-testid="commitment-value">2<' in text
    assert 'class="progress-state progress-done"' in text


def _commitment_row(measure=Measure.MEMBERS, target=100, quarter=4, updates=()):
    commitment = Commitment(text="t", measure=measure, target=target, due_quarter=quarter)
    commitment.updates = list(updates)
    return commitment


def test_judging_a_commitment():
    judge = services.judge
    c = _commitment_row(target=100, quarter=2)  # due 30 June
    assert judge(c, 2026, 20, date(2026, 1, 31)) == (services.ON_TRACK, 100 * 31 // 181)
    assert judge(c, 2026, 10, date(2026, 4, 30))[0] == services.BEHIND  # pro rata: 66
    assert judge(c, 2026, 100, date(2026, 4, 30))[0] == services.DONE
    assert judge(c, 2026, 99, date(2026, 7, 1))[0] == services.BEHIND  # due quarter over
    assert judge(c, 2027, 0, date(2026, 12, 1))[0] == services.ON_TRACK  # next year's plan
    share = _commitment_row(measure=Measure.COLLECTION_RATE, target=95, quarter=4)
    assert judge(share, 2026, 50, date(2026, 11, 1)) == (services.ON_TRACK, None)
    assert judge(share, 2025, 50, date(2026, 1, 1))[0] == services.BEHIND
    marked = _commitment_row(updates=[CommitmentUpdate(done=True, noted_on=date(2026, 3, 1))])
    assert judge(marked, 2026, None, date(2026, 12, 31))[0] == services.DONE


def test_a_planned_activity_links_to_the_activity_that_fulfilled_it(world, make_client):
    plan = create_plan(world.village_a1, published=True)
    planned_id = plan.planned_activities[0].id
    held = create_activity(world.village_a1, title="会员活动日 健康讲座", held_on=date(YEAR, 5, 29))
    last_year = create_activity(world.village_a1, title="去年的活动", held_on=date(YEAR - 1, 5, 29))
    elsewhere = create_activity(world.village_a2, title="乙村活动", held_on=date(YEAR, 5, 29))
    secretary = make_client(world.secretary_a1.login)
    url = f"{BASE}/planned-activities/{planned_id}/link"
    assert secretary.post(url, {"activity_id": str(last_year.id)}).status_code == 422
    assert secretary.post(url, {"activity_id": str(elsewhere.id)}).status_code == 404
    assert secretary.post(url, {"activity_id": str(held.id)}).status_code == 303
    page = secretary.get(f"{BASE}/plan").get_data(as_text=True)
    assert f'data-testid="planned-{planned_id}-held"' in page and "会员活动日 健康讲座" in page
    public = make_client().get("/p/village-a1").get_data(as_text=True)
    assert f'data-testid="planned-{planned_id}-held"' in public
    assert secretary.post(url, {}).status_code == 303  # no longer linked
    public = make_client().get("/p/village-a1").get_data(as_text=True)
    assert f'data-testid="planned-{planned_id}-held"' not in public
