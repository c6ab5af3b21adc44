"""Dates in a sensible range: every form, service and import that takes a date refuses one
before 1900 or more than a year after China's today, with the same translated message, and
writes nothing."""

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.activities.models import Activity
from app.core.clock import china_today
from app.core.dates import date_problem, is_sensible_date, latest_sensible_date
from app.dues import payments
from app.dues import services as dues
from app.dues.models import DuesPlan, Payment, PaymentMethod
from app.events.models import Event
from app.extensions import db
from app.members import importing
from app.members.models import CentralHouseholdVisit, Member
from app.oversight.models import RectificationTask
from app.volunteers.models import Shift
from tenants.context import scope_for, tenant_context
from tests.dues.makers import YEAR, create_charge
from tests.factories import create_household, create_member

MESSAGE = "Enter a date between 1900 and one year from today."
MESSAGE_ZH = "请输入1900年至今后一年之内的日期。"
BAD_DATES = {
    "year 1": date(1, 1, 1),
    "1899-12-31": date(1899, 12, 31),
    "two years ahead": china_today() + timedelta(days=731),
}


@dataclass
class Case:
    """A form with one date field: who posts it, where, and the rows it would write."""

    login: str  # attribute of the world
    path: str  # under /a/village-a1/
    data: dict
    field: str
    model: type
    datetime_local: bool = False


def _future_local(days: int) -> str:
    return (china_today() + timedelta(days=days)).isoformat() + "T10:00"


def _payment(world) -> Case:
    charge = create_charge(world.village_a1)
    data = {
        "charge_id": str(charge.id),
        "amount": "10",
        "method": "cash",
        "payer_name": "张三",
    }
    return Case(
        "secretary_a1", f"dues/members/{charge.member_id}/payments", data, "paid_on", Payment
    )


def _plan(world) -> Case:
    data = {"year": str(YEAR), "amount": "30", "join_rule": "full"}
    return Case("secretary_a1", "dues/plan", data, "due_on", DuesPlan)


def _activity(world) -> Case:
    data = {
        "title": "宣传活动",
        "type": "publicity",
        "participant_count": "10",
    }
    return Case("secretary_a1", "activities/new", data, "held_on", Activity)


def _event(world) -> Case:
    data = {
        "title": "健康讲座",
        "ends_at": _future_local(6),
        "capacity": "30",
        "scope": "association",
    }
    return Case("secretary_a1", "events/new", data, "starts_at", Event, datetime_local=True)


def _event_end(world) -> Case:
    data = {
        "title": "健康讲座",
        "starts_at": _future_local(5),
        "capacity": "30",
        "scope": "association",
    }
    return Case("secretary_a1", "events/new", data, "ends_at", Event, datetime_local=True)


def _shift(world) -> Case:
    data = {
        "title": "活动引导",
        "ends_at": _future_local(3),
        "people_needed": "3",
        "team_id": "0",
        "event_id": "0",
        "repeat_weeks": "0",
    }
    return Case(
        "secretary_a1", "volunteers/shifts/new", data, "starts_at", Shift, datetime_local=True
    )


def _new_member_joined(world) -> Case:
    return Case(
        "secretary_a1", "members/new", {"name": "王五", "status": "active"}, "joined_on", Member
    )


def _member_left(world) -> Case:
    member_id = create_member(world.village_a1, "李四").id
    data = {"name": "李四", "status": "left"}
    return Case("secretary_a1", f"members/{member_id}/edit", data, "status_on", Member)


def _visit(world) -> Case:
    from app.members import households

    central_id = create_household(world.village_a1, "中心户甲", central=True).id
    linked_id = create_household(world.village_a1, "联户一").id
    with tenant_context(scope_for(world.village_a1, writable=True)):
        households.link_household(
            households.load_household(linked_id), households.load_household(central_id)
        )
        db.session.commit()
    data = {"households": [str(linked_id)]}
    return Case(
        "secretary_a1", f"households/{central_id}/visits", data, "visited_on", CentralHouseholdVisit
    )


def _task(world) -> Case:
    data = {"title": "照片不全", "description": "请补充活动照片。"}
    return Case("county_auditor", "oversight/tasks/new", data, "deadline_on", RectificationTask)


FORMS = {
    "payment": _payment,
    "dues plan": _plan,
    "activity": _activity,
    "event start": _event,
    "event end": _event_end,
    "shift": _shift,
    "member joined": _new_member_joined,
    "member left": _member_left,
    "central household visit": _visit,
    "rectification task": _task,
}


def _count(world, model) -> int:
    with tenant_context(scope_for(world.village_a1, writable=False)):
        count = db.session.scalar(select(func.count()).select_from(model))
        db.session.commit()
    return count


@pytest.mark.parametrize("bad", list(BAD_DATES.values()), ids=list(BAD_DATES))
@pytest.mark.parametrize("form", list(FORMS.values()), ids=list(FORMS))
def test_a_date_outside_the_sensible_range_is_refused_and_nothing_is_written(
    world, client_for, form, bad
):
    case = form(world)
    before = _count(world, case.model)
    value = bad.isoformat() + ("T10:00" if case.datetime_local else "")
    client = client_for(getattr(world, case.login).login)
    response = client.post(f"/a/village-a1/{case.path}", {**case.data, case.field: value})
    assert response.status_code == 422
    assert MESSAGE in response.get_data(True)
    assert _count(world, case.model) == before


def test_the_message_is_in_chinese_by_default(world, make_client):
    case = _payment(world)
    response = make_client(world.secretary_a1.login).post(
        f"/a/village-a1/{case.path}", {**case.data, "paid_on": "0001-01-01"}
    )
    assert response.status_code == 422
    assert MESSAGE_ZH in response.get_data(True)
    assert _count(world, Payment) == 0


def test_a_cash_payment_dated_year_one_gets_no_receipt_number(world):
    charge = create_charge(world.village_a1)
    data = payments.PaymentInput(
        amount_fen=1000, paid_on=date(1, 1, 1), method=PaymentMethod.CASH, payer_name="张三"
    )
    with tenant_context(scope_for(world.village_a1, writable=True)):
        with pytest.raises(dues.DuesInvalid) as refused:
            payments.record_offline_payment(charge, data, recorded_by_id=None)
        db.session.rollback()
    assert str(refused.value.problems["paid_on"]) == MESSAGE_ZH
    assert _count(world, Payment) == 0


def test_a_member_form_refuses_a_joined_date_after_today(world, client_for):
    tomorrow = (china_today() + timedelta(days=1)).isoformat()
    response = client_for(world.secretary_a1.login).post(
        "/a/village-a1/members/new", {"name": "王五", "status": "active", "joined_on": tomorrow}
    )
    assert response.status_code == 422
    assert "The date cannot be in the future." in response.get_data(True)


def test_the_edges_of_the_range_are_accepted(world, client_for):
    today = china_today()
    assert is_sensible_date(date(1900, 1, 1), today)
    assert is_sensible_date(latest_sensible_date(today), today)
    assert not is_sensible_date(latest_sensible_date(today) + timedelta(days=1), today)
    assert latest_sensible_date(date(2028, 2, 29)) == date(2029, 2, 28)
    response = client_for(world.secretary_a1.login).post(
        "/a/village-a1/members/new",
        {"name": "王五", "status": "active", "joined_on": "1900-01-01"},
    )
    assert response.status_code == 303


def test_services_refuse_out_of_range_dates_without_a_form(world):
    from app.members import services as registers

    assert date_problem(date(1899, 12, 31)) is not None
    assert date_problem(china_today() + timedelta(days=1), not_future=True) is not None
    assert date_problem(china_today() + timedelta(days=1)) is None
    with tenant_context(scope_for(world.village_a1, writable=True)):
        with pytest.raises(registers.RegisterError) as refused:
            registers.create_member(registers.MemberInput(name="王五", joined_on=date(1, 1, 1)))
        db.session.rollback()
    assert refused.value.field == "joined_on"


@pytest.mark.parametrize("text", ["1899-12-31", "0001/1/1", "2999年1月1日"])
def test_an_import_row_with_an_out_of_range_date_is_rejected_with_the_message(app, world, text):
    records = [(2, {"name": "甲", "joined_on": text})]
    with tenant_context(scope_for(world.village_a1, writable=True)):
        rows = importing.check_rows(records, importing.RegisterSnapshot.load())
    assert [problem["code"] for problem in rows[0].problems] == ["date_range"]
    with app.test_request_context():
        assert importing.problem_message(rows[0].problems[0]) == MESSAGE_ZH


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31"])
def test_the_reconcile_command_refuses_a_day_outside_the_range(app, day):
    result = app.test_cli_runner().invoke(args=["dues", "reconcile", "--date", day])
    assert result.exit_code == 2
    assert "1900-01-01" in result.output
