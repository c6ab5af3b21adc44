"""Hours logged after the fact — a past shift, or a standalone entry confirmed as of today — and
pickers that tell same-name volunteers apart."""

from datetime import timedelta

from sqlalchemy import select

from app.core.clock import CHINA, utcnow
from app.extensions import db
from app.volunteers.models import Assignment, Shift
from tenants.context import UNSCOPED_BYPASS
from tests.factories import create_member
from tests.volunteers.makers import create_shift, create_volunteer

BASE = "/a/village-a1/volunteers"


def _local(instant) -> str:
    return instant.astimezone(CHINA).strftime("%Y-%m-%dT%H:%M")


def _assignments(volunteer_id: int) -> list[Assignment]:
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        return list(
            db.session.scalars(
                select(Assignment)
                .where(Assignment.volunteer_id == volunteer_id)
                .execution_options(populate_existing=True)
            )
        )


def _shift_form(start, **overrides):
    data = {
        "title": "上周义诊引导",
        "starts_at": _local(start),
        "ends_at": _local(start + timedelta(hours=2)),
        "people_needed": "2",
        "place": "",
        "team_id": "0",
        "event_id": "0",
        "repeat_weeks": "0",
    }
    return {**data, **overrides}


def test_a_past_shift_is_created_and_its_hours_confirmed(world, client_for):
    volunteer = create_volunteer(world.village_a1, "何阿姨")
    secretary = client_for(world.secretary_a1.login)
    last_week = utcnow() - timedelta(days=6)
    assert secretary.post(f"{BASE}/shifts/new", _shift_form(last_week)).status_code == 303
    with UNSCOPED_BYPASS("test reads the shift"):
        shift_id = db.session.scalar(select(Shift.id).where(Shift.title == "上周义诊引导"))
    assign = secretary.post(f"{BASE}/shifts/{shift_id}/assign", {"volunteer_id": volunteer.id})
    assert assign.status_code == 303
    confirm = secretary.post(f"{BASE}/shifts/{shift_id}/people/{volunteer.id}/hours", {})
    assert confirm.status_code == 303
    (assignment,) = _assignments(volunteer.id)
    assert assignment.minutes == 120
    assert assignment.served_on == last_week.astimezone(CHINA).date()


def test_a_shift_more_than_a_year_ago_is_refused(world, client_for):
    long_ago = utcnow() - timedelta(days=400)
    response = client_for(world.secretary_a1.login).post(
        f"{BASE}/shifts/new", _shift_form(long_ago)
    )
    assert response.status_code == 422
    assert "A shift more than a year ago cannot be recorded." in response.text


def test_a_standalone_entry_counts_on_the_day_served_and_is_confirmed_today(
    world, client_for, make_client
):
    volunteer = create_volunteer(world.village_a1, "何阿姨")
    served_on = (utcnow() - timedelta(days=3)).astimezone(CHINA).date()
    response = client_for(world.secretary_a1.login).post(
        f"{BASE}/people/{volunteer.id}/hours",
        {"title": "上门探访独居老人", "served_on": served_on.isoformat(), "hours": "2.5"},
    )
    assert response.status_code == 303
    (assignment,) = _assignments(volunteer.id)
    assert assignment.minutes == 150 and assignment.served_on == served_on
    assert assignment.confirmed_at is not None
    assert assignment.confirmed_by_id == world.secretary_a1.id
    page = make_client(world.secretary_a1.login).get(f"{BASE}/people/{volunteer.id}").text
    assert "上门探访独居老人" in page


def test_a_standalone_entry_for_a_future_day_or_by_a_member_is_refused(world, client_for):
    volunteer = create_volunteer(world.village_a1, "何阿姨")
    tomorrow = (utcnow() + timedelta(days=1)).astimezone(CHINA).date()
    form = {"title": "探访", "served_on": tomorrow.isoformat(), "hours": "2"}
    url = f"{BASE}/people/{volunteer.id}/hours"
    assert client_for(world.secretary_a1.login).post(url, form).status_code == 422
    yesterday = {**form, "served_on": (tomorrow - timedelta(days=2)).isoformat()}
    assert client_for(world.member_a1.login).post(url, yesterday).status_code == 403
    assert (
        client_for(world.secretary_a1.login).post(url, {**yesterday, "hours": ""}).status_code
        == 422
    )
    assert _assignments(volunteer.id) == []


def test_same_name_volunteers_are_told_apart_in_the_pickers(world, make_client):
    create_volunteer(world.village_a1, "王秀英", phone="13800001234")
    create_volunteer(world.village_a1, "王秀英", phone="13900005678")
    create_volunteer(world.village_a1, "李建国", phone="13700009999")
    create_member(world.village_a1, "张桂兰", phone="13600001111")
    create_member(world.village_a1, "张桂兰", phone="13600002222")
    shift = create_shift(world.village_a1, title="周末值守")
    secretary = make_client(world.secretary_a1.login)
    picker = secretary.get(f"{BASE}/shifts/{shift.id}").text
    assert "王秀英 · 手机尾号1234" in picker and "王秀英 · 手机尾号5678" in picker
    assert ">李建国<" in picker  # a unique name stands alone
    new_volunteer = secretary.get(f"{BASE}/people/new").text
    assert "张桂兰 · 手机尾号1111" in new_volunteer and "张桂兰 · 手机尾号2222" in new_volunteer
