"""Volunteers: profiles, teams, shifts with sign-up and assignment, the gaps, confirmed hours,
totals, certificate and ranking, reminders before shifts and events."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core.clock import CHINA, china_today, utcnow
from app.core.sms_outbox.consent import record_consent
from app.core.sms_outbox.models import ConsentMethod
from app.events.models import Registration, RegistrationStatus
from app.extensions import db
from app.volunteers import reminders, services
from app.volunteers.models import Assignment, AssignmentStatus, Shift, Volunteer
from tenants.context import UNSCOPED_BYPASS, scope_for, subtree_reads, tenant_context
from tenants.models import Role
from tests.factories import create_event, create_user
from tests.volunteers.makers import (
    create_shift,
    create_team,
    create_volunteer,
    put_on_shift,
)


def url(association, path: str) -> str:
    return f"/a/{association.slug}/volunteers{path}"


def assignments(shift_id: int) -> list[Assignment]:
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        rows = db.session.scalars(
            select(Assignment)
            .where(Assignment.shift_id == shift_id)
            .order_by(Assignment.id)
            .execution_options(populate_existing=True)
        ).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


def signed_up(shift_id: int) -> int:
    return sum(1 for a in assignments(shift_id) if a.status == AssignmentStatus.SIGNED_UP)


def volunteer_user(association, login: str, name: str, role=Role.MEMBER):
    """A member with a login and a volunteer profile: (user, volunteer)."""
    user = create_user(login, name, roles=[(association, role)])
    return user, create_volunteer(association, name, user=user)


def local(instant) -> str:
    return instant.astimezone(CHINA).strftime("%Y-%m-%dT%H:%M")


# --- profiles ---------------------------------------------------------------------------------


def test_secretary_registers_a_member_and_a_non_member_as_volunteers(world, client_for):
    from tests.factories import create_member

    member = create_member(world.village_a1, name="赵大妈")
    client = client_for(world.secretary_a1.login)
    assert "赵大妈" in client.get(url(world.village_a1, "/people/new")).text
    response = client.post(
        url(world.village_a1, "/people/new"),
        {
            "member_id": str(member.id),
            "tags": ["五老", "院楼长"],
            "skills": "急救",
            "weekdays": ["1", "3"],
            "times_of_day": ["morning"],
            "availability": "周末不行",
            "active": "y",
        },
    )
    assert response.status_code == 303
    response = client.post(
        url(world.village_a1, "/people/new"),
        {
            "member_id": "0",
            "name": "钱师傅",
            "phone": "138 0013 8000",
            "tags": ["信息员"],
            "active": "y",
        },
    )
    assert response.status_code == 303
    with tenant_context(scope_for(world.village_a1, writable=False)):
        rows = {v.display_name: v for v in db.session.scalars(select(Volunteer))}
    assert rows["赵大妈"].member_id == member.id and rows["赵大妈"].tags == ["五老", "院楼长"]
    assert rows["赵大妈"].weekdays == ["1", "3"] and rows["赵大妈"].times_of_day == ["morning"]
    assert rows["钱师傅"].member_id is None and rows["钱师傅"].phone_masked == "138****8000"
    assert "13800138000" not in (rows["钱师傅"].phone_encrypted or "")
    page = client.get(url(world.village_a1, "/people")).text
    assert "赵大妈" in page and "钱师傅" in page and "Not a member" in page
    detail = client.get(url(world.village_a1, f"/people/{rows['赵大妈'].id}")).text
    assert "急救" in detail and "Mon" in detail and "Mornings" in detail


def test_bad_volunteer_input_is_refused_with_a_message(world, client_for):
    client = client_for(world.secretary_a1.login)
    response = client.post(
        url(world.village_a1, "/people/new"), {"member_id": "0", "name": "孙", "phone": "12345"}
    )
    assert response.status_code == 422
    assert "mobile" in response.text.lower()
    response = client.post(url(world.village_a1, "/people/new"), {"member_id": "0", "name": ""})
    assert response.status_code == 422
    assert "Choose a member, or enter the name of a volunteer who is not one." in response.text
    with tenant_context(scope_for(world.village_a1, writable=False)):
        assert db.session.scalar(select(func.count(Volunteer.id))) == 0


def test_a_member_gets_one_volunteer_profile_only(world, client_for):
    volunteer = create_volunteer(world.village_a1, "周阿姨")
    response = client_for(world.secretary_a1.login).post(
        url(world.village_a1, "/people/new"), {"member_id": str(volunteer.member_id)}
    )
    assert response.status_code == 422
    assert "This member already has a volunteer profile." in response.text


def test_higher_level_sees_masked_phones_and_the_opening_is_logged(world, make_client):
    from app.core.audit import AuditLog

    volunteer = create_volunteer(world.village_a1, "钱师傅", member=False, phone="13812345678")
    auditor = make_client(world.county_auditor.login)
    page = auditor.get(url(world.village_a1, f"/people/{volunteer.id}"))
    assert page.status_code == 200
    assert "138****5678" in page.text and "13812345678" not in page.text
    assert (
        auditor.get(url(world.village_a1, f"/people/{volunteer.id}/certificate")).status_code == 200
    )
    make_client(world.secretary_a1.login).get(url(world.village_a1, f"/people/{volunteer.id}"))
    with UNSCOPED_BYPASS("test reads the audit log"):
        views = db.session.scalars(
            select(AuditLog).where(
                AuditLog.action == "view_person", AuditLog.target_type == "Volunteer"
            )
        ).all()
    assert [(v.target_id, v.user_id) for v in views] == [
        (volunteer.id, world.county_auditor.id)
    ] * 2


# --- teams ------------------------------------------------------------------------------------


def test_team_with_leader_members_and_standing_duties(world, client_for):
    leader = create_volunteer(world.village_a1, "吴楼长", tags=["院楼长"])
    helper = create_volunteer(world.village_a1, "郑组长")
    client = client_for(world.secretary_a1.login)
    response = client.post(
        url(world.village_a1, "/teams/new"),
        {"name": "梨花楼栋队", "leader_id": str(leader.id), "duties": "楼栋巡查、信息上报"},
    )
    assert response.status_code == 303
    team_url = response.location
    response = client.post(
        team_url + "/members", {"volunteer_id": str(helper.id), "duty": "3栋1-2单元"}
    )
    assert response.status_code == 303
    page = client.get(team_url).text
    assert "吴楼长" in page and "郑组长" in page and "3栋1-2单元" in page and "楼栋巡查" in page
    again = client.post(team_url + "/members", {"volunteer_id": str(helper.id)})
    assert again.status_code == 422 and "This volunteer is already in the team." in again.text
    duplicate = client.post(url(world.village_a1, "/teams/new"), {"name": "梨花楼栋队"})
    assert duplicate.status_code == 422
    assert "There is already a team with this name." in duplicate.text


# --- shifts and the gaps ----------------------------------------------------------------------


def _shift_form(**overrides):
    start = utcnow() + timedelta(days=2)
    data = {
        "title": "5·29活动引导",
        "starts_at": local(start),
        "ends_at": local(start + timedelta(hours=3)),
        "people_needed": "3",
        "place": "社区广场",
        "team_id": "0",
        "event_id": "0",
        "repeat_weeks": "0",
    }
    data.update(overrides)
    return data, start


def test_secretary_creates_a_shift_for_an_event(world, client_for):
    event = create_event(world.village_a1, title="健康讲座")
    data, _ = _shift_form(event_id=str(event.id))
    client = client_for(world.secretary_a1.login)
    assert "健康讲座" in client.get(url(world.village_a1, "/shifts/new")).text
    response = client.post(url(world.village_a1, "/shifts/new"), data)
    assert response.status_code == 303
    with tenant_context(scope_for(world.village_a1, writable=False)):
        shift = db.session.scalar(select(Shift))
    assert shift.event_id == event.id and shift.people_needed == 3 and shift.minutes == 180
    assert "5·29活动引导" in client.get(url(world.village_a1, "/")).text


def test_a_recurring_task_repeats_weekly(world, client_for):
    data, start = _shift_form(title="周三楼道清扫", repeat_weeks="3")
    response = client_for(world.secretary_a1.login).post(url(world.village_a1, "/shifts/new"), data)
    assert response.status_code == 303
    with tenant_context(scope_for(world.village_a1, writable=False)):
        starts = list(db.session.scalars(select(Shift.starts_at).order_by(Shift.starts_at)))
    assert len(starts) == 4
    assert [b - a for a, b in zip(starts, starts[1:], strict=False)] == [timedelta(weeks=1)] * 3


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ends": -1}, "The shift must end after it starts."),
        ({"people_needed": "0"}, "People needed must be from 1 to 1,000."),
        ({"people_needed": "-2"}, "People needed must be from 1 to 1,000."),
        ({"title": ""}, "Give the shift a title."),
    ],
)
def test_bad_shift_input_is_refused_with_a_message(world, client_for, overrides, message):
    data, start = _shift_form()
    overrides = dict(overrides)  # the parameter is shared by both databases' runs
    if overrides.pop("ends", None):
        data["ends_at"] = local(start - timedelta(hours=1))
    data.update(overrides)
    response = client_for(world.secretary_a1.login).post(url(world.village_a1, "/shifts/new"), data)
    assert response.status_code == 422
    assert message in response.text
    with tenant_context(scope_for(world.village_a1, writable=False)):
        assert db.session.scalar(select(func.count(Shift.id))) == 0


def test_bad_shift_input_messages_are_translated(world, make_client):
    data, start = _shift_form(ends_at=local(utcnow()))
    response = make_client(world.secretary_a1.login).post(
        url(world.village_a1, "/shifts/new"), data
    )
    assert response.status_code == 422
    assert "结束时间必须晚于开始时间" in response.text


def test_member_signs_up_on_the_phone_and_the_gap_closes(world, client_for):
    user, volunteer = volunteer_user(world.village_a1, "vol1@test.cn", "冯志愿")
    shift = create_shift(world.village_a1, people_needed=1)
    client = client_for(user.login)
    home = client.get(url(world.village_a1, "/")).text
    assert "1 upcoming shifts are short of people" in home
    assert f'data-testid="signup-{shift.id}"' in home
    assert f"shift-{shift.id}" in client.get(url(world.village_a1, "/gaps")).text
    response = client.post(url(world.village_a1, f"/shifts/{shift.id}/signup"))
    assert response.status_code == 303
    assert signed_up(shift.id) == 1
    assert "Every upcoming shift has its people" in client.get(url(world.village_a1, "/")).text
    assert f"shift-{shift.id}" not in client.get(url(world.village_a1, "/gaps")).text
    mine = client.get(url(world.village_a1, "/me")).text
    assert shift.title in mine and "Upcoming" in mine
    # Signing up twice is refused.
    twice = client.post(url(world.village_a1, f"/shifts/{shift.id}/signup"))
    assert twice.status_code == 422
    assert "You are already signed up for this shift." in twice.text
    # Cancelling frees the place again.
    assert client.post(url(world.village_a1, f"/shifts/{shift.id}/cancel")).status_code == 303
    assert signed_up(shift.id) == 0
    assert client.post(url(world.village_a1, f"/shifts/{shift.id}/signup")).status_code == 303
    assert len(assignments(shift.id)) == 1  # the row is reused


def test_a_full_shift_refuses_more_people(world, client_for):
    first, _ = volunteer_user(world.village_a1, "vol1@test.cn", "冯志愿")
    second, _ = volunteer_user(world.village_a1, "vol2@test.cn", "陈志愿")
    shift = create_shift(world.village_a1, people_needed=1)
    assert (
        client_for(first.login)
        .post(url(world.village_a1, f"/shifts/{shift.id}/signup"))
        .status_code
        == 303
    )
    response = client_for(second.login).post(url(world.village_a1, f"/shifts/{shift.id}/signup"))
    assert response.status_code == 422
    assert "This shift already has all the people it needs." in response.text
    assert signed_up(shift.id) == 1


def test_a_past_shift_refuses_sign_up(world, client_for):
    user, _ = volunteer_user(world.village_a1, "vol1@test.cn", "冯志愿")
    shift = create_shift(world.village_a1, starts_in=timedelta(hours=-1))
    response = client_for(user.login).post(url(world.village_a1, f"/shifts/{shift.id}/signup"))
    assert response.status_code == 422
    assert "This shift has already started: sign-up is closed." in response.text
    assert signed_up(shift.id) == 0


def test_a_member_without_a_volunteer_profile_is_told_how_to_join(world, client_for):
    shift = create_shift(world.village_a1)
    response = client_for(world.member_a1.login).post(
        url(world.village_a1, f"/shifts/{shift.id}/signup")
    )
    assert response.status_code == 422
    assert "Only volunteers can sign up for shifts" in response.text
    assert assignments(shift.id) == []


def test_shift_cannot_need_fewer_people_than_it_has(world, client_for):
    shift = create_shift(world.village_a1, people_needed=2)
    for i in range(2):
        put_on_shift(world.village_a1, shift, create_volunteer(world.village_a1, f"人{i}"))
    data, _ = _shift_form(
        title=shift.title,
        starts_at=local(shift.starts_at),
        ends_at=local(shift.ends_at),
        people_needed="1",
    )
    response = client_for(world.secretary_a1.login).post(
        url(world.village_a1, f"/shifts/{shift.id}/edit"), data
    )
    assert response.status_code == 422
    assert "2 people are already on this shift: it cannot need fewer." in response.text


# --- assigning --------------------------------------------------------------------------------


def test_secretary_and_team_leader_assign_people_others_may_not(world, client_for):
    leader_user, leader = volunteer_user(world.village_a1, "leader@test.cn", "褚队长")
    other_user, other = volunteer_user(world.village_a1, "other@test.cn", "卫队员")
    third = create_volunteer(world.village_a1, "蒋大爷")
    team = create_team(world.village_a1, leader=leader)
    shift = create_shift(world.village_a1, team_id=team.id, people_needed=2)
    path = url(world.village_a1, f"/shifts/{shift.id}/assign")
    # A volunteer who does not lead the shift's team may not.
    assert (
        client_for(other_user.login).post(path, {"volunteer_id": str(third.id)}).status_code == 403
    )
    assert (
        client_for(leader_user.login).post(path, {"volunteer_id": str(third.id)}).status_code == 303
    )
    assert (
        client_for(world.secretary_a1.login).post(path, {"volunteer_id": str(other.id)}).status_code
        == 303
    )
    assert signed_up(shift.id) == 2
    # Full: a third person is refused, also for the secretary.
    full = client_for(world.secretary_a1.login).post(path, {"volunteer_id": str(leader.id)})
    assert (
        full.status_code == 422 and "This shift already has all the people it needs." in full.text
    )
    twice = client_for(world.secretary_a1.login).post(
        url(world.village_a1, f"/shifts/{shift.id}/assign"), {"volunteer_id": str(third.id)}
    )
    assert twice.status_code == 422 and "蒋大爷 is already on this shift." in twice.text


def test_volunteers_of_another_association_cannot_be_assigned(world, client_for):
    shift = create_shift(world.village_a1)
    foreign = create_volunteer(world.village_a2, "外人")
    response = client_for(world.secretary_a1.login).post(
        url(world.village_a1, f"/shifts/{shift.id}/assign"), {"volunteer_id": str(foreign.id)}
    )
    assert response.status_code == 422
    assert assignments(shift.id) == []


# --- hours ------------------------------------------------------------------------------------


def _served_shift(association, *, team=None, hours=3):
    return create_shift(
        association,
        title="敬老院慰问",
        starts_in=timedelta(hours=-hours - 1),
        hours=hours,
        team_id=team.id if team else None,
    )


def test_hours_confirmed_only_by_secretary_staff_or_the_team_leader(world, client_for):
    leader_user, leader = volunteer_user(world.village_a1, "leader@test.cn", "褚队长")
    other_user, other = volunteer_user(world.village_a1, "other@test.cn", "卫队员")
    team = create_team(world.village_a1, leader=leader, members=[other])
    shift = _served_shift(world.village_a1, team=team)
    third = create_volunteer(world.village_a1, "蒋大爷")
    for volunteer in (leader, other, third):
        put_on_shift(world.village_a1, shift, volunteer)

    def confirm(login, volunteer, hours=""):
        return client_for(login).post(
            url(world.village_a1, f"/shifts/{shift.id}/people/{volunteer.id}/hours"),
            {"hours": hours},
        )

    # A volunteer on the shift who does not lead the team: refused, themselves included.
    assert confirm(other_user.login, other).status_code == 403
    assert confirm(world.member_a1.login, other).status_code == 403
    assert confirm(world.county_auditor.login, other).status_code == 403
    assert all(a.confirmed_at is None for a in assignments(shift.id))
    # The team leader, staff and the secretary may; the default is the shift's length.
    assert confirm(leader_user.login, other).status_code == 303
    assert confirm(world.staff_a1.login, third, "2.5").status_code == 303
    assert confirm(world.secretary_a1.login, leader).status_code == 303
    minutes = {a.volunteer_id: a.minutes for a in assignments(shift.id)}
    assert minutes == {other.id: 180, third.id: 150, leader.id: 180}
    # Confirming twice is refused, and nothing changes.
    twice = confirm(world.secretary_a1.login, third, "5")
    assert twice.status_code == 422 and "These hours are already confirmed." in twice.text
    assert {a.volunteer_id: a.minutes for a in assignments(shift.id)}[third.id] == 150


def test_a_team_leader_cannot_confirm_hours_of_another_teams_shift(world, client_for):
    leader_user, leader = volunteer_user(world.village_a1, "leader@test.cn", "褚队长")
    create_team(world.village_a1, "甲队", leader=leader)
    other_team = create_team(world.village_a1, "乙队")
    shift = _served_shift(world.village_a1, team=other_team)
    person = create_volunteer(world.village_a1, "蒋大爷")
    put_on_shift(world.village_a1, shift, person)
    response = client_for(leader_user.login).post(
        url(world.village_a1, f"/shifts/{shift.id}/people/{person.id}/hours"), {"hours": "1"}
    )
    assert response.status_code == 403
    assert assignments(shift.id)[0].confirmed_at is None


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ("-2", "Hours must be more than zero."),
        ("0", "Hours must be more than zero."),
        ("25", "At most 24 hours can be recorded for one shift."),
        ("abc", "Enter the hours as a number, e.g. 2 or 1.5."),
    ],
)
def test_bad_hours_are_refused(world, client_for, hours, message):
    shift = _served_shift(world.village_a1)
    person = create_volunteer(world.village_a1, "蒋大爷")
    put_on_shift(world.village_a1, shift, person)
    response = client_for(world.secretary_a1.login).post(
        url(world.village_a1, f"/shifts/{shift.id}/people/{person.id}/hours"), {"hours": hours}
    )
    assert response.status_code == 422
    assert message in response.text
    assert assignments(shift.id)[0].confirmed_at is None


def test_hours_of_a_shift_that_has_not_started_cannot_be_confirmed(world, client_for):
    shift = create_shift(world.village_a1)
    person = create_volunteer(world.village_a1, "蒋大爷")
    put_on_shift(world.village_a1, shift, person)
    response = client_for(world.secretary_a1.login).post(
        url(world.village_a1, f"/shifts/{shift.id}/people/{person.id}/hours"), {"hours": "1"}
    )
    assert response.status_code == 422
    assert "Hours can be confirmed once the shift has started." in response.text


def _confirmed(association, volunteer, shift, minutes):
    today = shift.starts_at.astimezone(CHINA).date()
    return put_on_shift(
        association, shift, volunteer, minutes=minutes, served_on=today, confirmed_at=utcnow()
    )


def test_totals_per_volunteer_team_and_year(world, client_for):
    a = create_volunteer(world.village_a1, "甲志愿")
    b = create_volunteer(world.village_a1, "乙志愿")
    team = create_team(world.village_a1, "巡查队", leader=a, members=[b])
    one = _served_shift(world.village_a1, team=team)
    two = _served_shift(world.village_a1)
    _confirmed(world.village_a1, a, one, 180)
    _confirmed(world.village_a1, b, one, 90)
    _confirmed(world.village_a1, a, two, 60)
    put_on_shift(world.village_a1, create_shift(world.village_a1), b)  # not yet served
    year = one.starts_at.astimezone(CHINA).year
    with tenant_context(scope_for(world.village_a1, writable=False)):
        people = {r.volunteer.name: r.minutes for r in services.volunteer_list(year)}
        teams = {
            r.team.name: (r.minutes, r.people, r.leader_name) for r in services.team_list(year)
        }
        years = services.yearly_totals()
        assert services.volunteer_list(year - 1)[0].minutes == 0
    assert people == {"甲志愿": 240, "乙志愿": 90}
    assert teams == {"巡查队": (270, 2, "甲志愿")}
    assert years == [(year, 330, 2)]
    page = client_for(world.secretary_a1.login).get(url(world.village_a1, f"/hours?year={year}"))
    assert page.status_code == 200
    assert f'{year}</a></td><td class="num">5.5</td>' in page.text  # the year's total
    assert '巡查队</a></td><td class="num">4.5</td>' in page.text  # the team's
    assert '甲志愿</a></td><td class="num">2</td><td class="num">4</td>' in page.text


def test_confirmed_hours_roll_up_per_association_for_dashboards(world):
    shift = _served_shift(world.village_a1)
    _confirmed(world.village_a1, create_volunteer(world.village_a1, "甲"), shift, 90)
    other = _served_shift(world.village_a2)
    _confirmed(world.village_a2, create_volunteer(world.village_a2, "乙"), other, 120)
    year = shift.starts_at.astimezone(CHINA).year
    with tenant_context(scope_for(world.township_a, writable=False)), subtree_reads():
        totals = services.confirmed_hours_by_association(year)
    assert totals == {world.village_a1.id: 1.5, world.village_a2.id: 2.0}
    with tenant_context(scope_for(world.village_a1, writable=False)):
        assert services.confirmed_minutes_by_association(year) == {world.village_a1.id: 90}
        assert services.confirmed_minutes_by_association(year - 1) == {}


@pytest.mark.parametrize("page", ["/people", "/teams", "/gaps", "/", "/hours"])
def test_list_pages_run_a_fixed_number_of_queries(world, client_for, count_queries, page):
    client = client_for(world.secretary_a1.login)
    # The first request after signing in also stores what the session learns once (whether a
    # second factor is required): the page's own cost is what must not grow.
    client.get(url(world.village_a1, page))

    def measure():
        with count_queries() as statements:
            assert client.get(url(world.village_a1, page)).status_code == 200
        return len(statements)

    def add(n, offset):
        team = create_team(world.village_a1, f"队{offset}")
        for i in range(n):
            volunteer = create_volunteer(world.village_a1, f"人{offset}-{i}", member=i % 2 == 0)
            shift = create_shift(
                world.village_a1, f"班{offset}-{i}", team_id=team.id, people_needed=3
            )
            put_on_shift(world.village_a1, shift, volunteer)
            _confirmed(world.village_a1, volunteer, _served_shift(world.village_a1, team=team), 60)

    add(2, 0)
    few = measure()
    add(8, 1)
    assert measure() == few


# --- recognition ------------------------------------------------------------------------------


def test_certificate_for_the_volunteer_and_staff_but_no_one_else(world, make_client):
    user, volunteer = volunteer_user(world.village_a1, "vol1@test.cn", "冯志愿")
    other_user, _ = volunteer_user(world.village_a1, "vol2@test.cn", "陈志愿")
    shift = _served_shift(world.village_a1)
    _confirmed(world.village_a1, volunteer, shift, 150)
    year = shift.starts_at.astimezone(CHINA).year
    path = url(world.village_a1, f"/people/{volunteer.id}/certificate?year={year}")
    page = make_client(user.login).get(path)
    assert page.status_code == 200
    assert "志愿服务证明" in page.text and "冯志愿" in page.text and "2.5" in page.text
    assert "@media print" in make_client().get("/static/css/volunteers.css").text
    assert make_client(world.secretary_a1.login).get(path).status_code == 200
    assert make_client(other_user.login).get(path).status_code == 403
    mine = make_client(user.login).get(url(world.village_a1, f"/me?year={year}")).text
    assert "2.5" in mine and "敬老院慰问" in mine


def test_ranking_is_shown_to_members_only_when_the_association_chooses(world, client_for):
    a = create_volunteer(world.village_a1, "甲志愿")
    b = create_volunteer(world.village_a1, "乙志愿")
    shift = _served_shift(world.village_a1)
    _confirmed(world.village_a1, a, shift, 60)
    _confirmed(world.village_a1, b, shift, 120)
    year = shift.starts_at.astimezone(CHINA).year
    path = url(world.village_a1, f"/ranking?year={year}")
    member = client_for(world.member_a1.login)
    assert member.get(path).status_code == 404
    assert "ranking-link" not in member.get(url(world.village_a1, "/")).text
    secretary = client_for(world.secretary_a1.login)
    page = secretary.get(path).text
    assert page.index("乙志愿") < page.index("甲志愿")
    assert (
        secretary.post(url(world.village_a1, "/settings"), {"ranking_visible": "y"}).status_code
        == 303
    )
    assert member.get(path).status_code == 200
    assert "ranking-link" in member.get(url(world.village_a1, "/")).text
    # Another association's setting changes nothing here.
    assert (
        client_for(world.secretary_a2.login)
        .post(url(world.village_a2, "/settings"), {})
        .status_code
        == 303
    )
    assert member.get(path).status_code == 200
    assert secretary.post(url(world.village_a1, "/settings"), {}).status_code == 303
    assert member.get(path).status_code == 404


# --- reminders --------------------------------------------------------------------------------


def test_reminders_go_once_before_shifts_and_events(world, outbox, app, sms_notices):
    user, volunteer = volunteer_user(world.village_a1, "vol1@test.cn", "冯志愿")
    gone_user, gone = volunteer_user(world.village_a1, "vol2@test.cn", "陈志愿")
    outsider = create_volunteer(world.village_a1, "钱师傅", member=False, phone="13900001234")
    soon = create_shift(
        world.village_a1, "明早巡查", starts_in=timedelta(hours=20), people_needed=5
    )
    later = create_shift(world.village_a1, "下周巡查", starts_in=timedelta(days=5))
    put_on_shift(world.village_a1, soon, volunteer)
    put_on_shift(world.village_a1, soon, outsider)
    put_on_shift(world.village_a1, soon, gone, status=AssignmentStatus.CANCELLED)
    put_on_shift(world.village_a1, later, volunteer)
    # Another association's shift, reminded under its own tenant.
    other_user, other = volunteer_user(world.village_b1, "vol3@test.cn", "丙志愿")
    put_on_shift(
        world.village_b1, create_shift(world.village_b1, starts_in=timedelta(hours=3)), other
    )
    start = utcnow() + timedelta(hours=10)
    event = create_event(world.village_a1, "健康讲座", starts_at=start, signup_deadline=start)
    with tenant_context(scope_for(world.village_a1, writable=True)):
        for who, status in (
            (user, RegistrationStatus.CONFIRMED),
            (gone_user, RegistrationStatus.CANCELLED),
            (world.member_a1, RegistrationStatus.WAITLISTED),
        ):
            db.session.add(
                Registration(event_id=event.id, user_id=who.id, name=who.name, status=status)
            )
        db.session.commit()

    # The outsider has no login: her register phone is used once her consent is recorded.
    record_consent(
        world.village_a1.id,
        "13900001234",
        method=ConsentMethod.PAPER_FORM,
        consented_on=china_today(),
        purpose="通知",
        recorded_by_id=None,
    )
    db.session.commit()

    assert reminders.send_reminders() == 4
    sent = sorted((m.channel, m.to, m.subject) for m in outbox)
    assert [(c, t) for c, t, _ in sent] == [
        ("email", "vol1@test.cn"),
        ("email", "vol1@test.cn"),
        ("email", "vol3@test.cn"),
    ]
    [(phone, text)] = sms_notices()
    assert phone == "13900001234" and "明早巡查" in text
    bodies = " ".join(m.subject + m.body for m in outbox)
    assert "明早巡查" in bodies and "健康讲座" in bodies and "下周巡查" not in bodies
    assert "志愿" in bodies  # written in Chinese
    # A rerun sends nothing more, also through the command line.
    assert reminders.send_reminders() == 0
    result = app.test_cli_runner().invoke(args=["jobs", "run", "volunteer_reminders"])
    assert result.exit_code == 0, result.output
    assert len(outbox) == 3 and len(sms_notices()) == 1


# --- capacity under concurrency ---------------------------------------------------------------


def test_a_shift_is_never_over_subscribed_when_many_sign_up_at_once(app, world):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter; SQLite serialises writers")
    needed, people = 3, 10
    shift = create_shift(world.village_a1, people_needed=needed)
    volunteers = [
        volunteer_user(world.village_a1, f"rush{i}@test.cn", f"抢{i}")[1] for i in range(people)
    ]
    association_id = world.village_a1.id
    barrier = threading.Barrier(people)
    outcomes, errors = [], []

    def rush(volunteer_id):
        try:
            with app.app_context():
                from tenants.models import Association

                home = db.session.get(Association, association_id)
                with tenant_context(scope_for(home, writable=False)):
                    loaded_shift = db.session.get(Shift, shift.id)
                    volunteer = db.session.get(Volunteer, volunteer_id)
                    barrier.wait(timeout=30)
                    try:
                        services.sign_up(
                            loaded_shift, volunteer=volunteer, association=home, now=utcnow()
                        )
                        db.session.commit()
                        outcomes.append("in")
                    except services.VolunteerRefused:
                        db.session.rollback()
                        outcomes.append("refused")
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=rush, args=(v.id,)) for v in volunteers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert signed_up(shift.id) == needed
    assert sorted(outcomes) == ["in"] * needed + ["refused"] * (people - needed)


# --- demo data --------------------------------------------------------------------------------


def test_demo_secretary_and_member_see_volunteering(app, make_client):
    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    secretary = make_client("secretary@demo.xiehui.cn")
    home = secretary.get("/a/nanqi-lihua/volunteers/").text
    assert "周六义诊现场引导" in home and "有 1 个即将开始的班次缺人" in home
    assert "梨花社区楼栋志愿队" in secretary.get("/a/nanqi-lihua/volunteers/teams").text
    hours = secretary.get("/a/nanqi-lihua/volunteers/hours").text
    assert '梨花社区楼栋志愿队</a></td><td class="num">9</td>' in hours
    member = make_client("member@demo.xiehui.cn").get("/a/nanqi-lihua/volunteers/me").text
    assert "周六义诊现场引导" in member and "已确认 3 小时" in member
