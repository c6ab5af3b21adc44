"""What hangs off a deleted member leaves with her (issue 18): while the secretary's delete can be
undone, her event sign-ups, activity participations, volunteer profile, shift places and hours,
charges and receipts leave every list, export, count and reminder; restoring her brings them
all back, and nothing is lost in between."""

from datetime import date, timedelta

from sqlalchemy import func, select

from app.activities.participants import ActivityParticipant
from app.associations.group_sms.models import Group
from app.associations.group_sms.recipients import recipients_of
from app.core.clock import china_today, utcnow
from app.core.soft_delete import INCLUDE_DELETED
from app.dashboards import rollup
from app.dues import payments
from app.dues import reminders as dues_reminders
from app.dues import services as dues
from app.dues.models import Charge, Payment, PaymentMethod
from app.events.models import Registration
from app.extensions import db
from app.volunteers import reminders as volunteer_reminders
from app.volunteers import services as volunteering
from app.volunteers.models import Assignment, AssignmentStatus, Volunteer
from tenants.context import UNSCOPED_BYPASS, scope_for, subtree_reads, tenant_context
from tenants.models import Role
from tests.dues.makers import YEAR as DUES_YEAR
from tests.dues.makers import create_charge
from tests.events.test_checkin_card import scan, token_of
from tests.factories import create_activity, create_event, create_member, create_user
from tests.volunteers.makers import create_shift, put_on_shift

BASE = "/a/village-a1"
YEAR = china_today().year
PAGES = (
    "event",
    "door list",
    "activity",
    "volunteers",
    "shift",
    "hours",
    "ranking",
    "payments",
    "arrears",
)


def _rows(model) -> int:
    """Rows in the table, those of deleted members included."""
    with UNSCOPED_BYPASS("test: count rows, hidden ones too"):
        return db.session.scalar(
            select(func.count()).select_from(model).execution_options(**INCLUDE_DELETED)
        )


def _volunteer(association, member_id: int, name: str) -> int:
    with tenant_context(scope_for(association, writable=True)):
        volunteer = volunteering.create_volunteer(
            volunteering.VolunteerInput(member_id=member_id, name=name)
        )
        db.session.commit()
        return volunteer.id


def _paid_charge(association, member_id: int, amount_fen: int) -> None:
    charge = create_charge(association, member_id=member_id, year=YEAR)
    with tenant_context(scope_for(association, writable=True)):
        payments.record_offline_payment(
            dues.load_charge(charge.id),
            payments.PaymentInput(
                paid_on=china_today(),
                amount_fen=amount_fen,
                method=PaymentMethod.CASH,
                payer_name="交款人",
            ),
            recorded_by_id=None,
            on=china_today(),
        )
        db.session.commit()


def _village_figures(world):
    with tenant_context(scope_for(world.township_a, writable=False)), subtree_reads():
        figures, _as_of = rollup.read_total(world.township_a, YEAR)
    return figures


def _lists(secretary, count_queries, *, event_id, activity_id, shift_id) -> dict:
    """The pages a secretary reads, by name, and how many queries each ran ("<name> queries")."""
    pages = {
        "event": f"{BASE}/events/{event_id}",
        "door list": f"{BASE}/events/{event_id}/checkin",
        "activity": f"{BASE}/activities/{activity_id}",
        "volunteers": f"{BASE}/volunteers/people",
        "shift": f"{BASE}/volunteers/shifts/{shift_id}",
        "hours": f"{BASE}/volunteers/hours",
        "ranking": f"{BASE}/volunteers/ranking",
        "payments": f"{BASE}/dues/payments?year={YEAR}",
        "arrears": f"{BASE}/dues/arrears?year={YEAR}",
    }
    assert tuple(pages) == PAGES
    texts = {}
    for name, page in pages.items():
        secretary.get(page)  # warm: the once-a-minute touches are not the page's queries
        with count_queries() as statements:
            response = secretary.get(page)
        assert response.status_code == 200, name
        texts[name] = response.text
        texts[f"{name} queries"] = len(statements)
    return texts


def test_what_hangs_off_a_deleted_member_leaves_with_her_and_comes_back(
    world, make_client, count_queries
):
    kept = create_member(world.village_a1, "王五").id
    gone = create_member(world.village_a1, "李四", user_id=world.member_a1.id).id
    event = create_event(world.village_a1)
    member = make_client(world.member_a1.login)
    assert member.post(f"{BASE}/events/{event.id}/signup").status_code == 303
    activity = create_activity(world.village_a1, member_ids=[kept, gone])
    shift = create_shift(world.village_a1, starts_in=timedelta(hours=-4), hours=2)
    for member_id, name in ((kept, "王五"), (gone, "李四")):
        volunteer_id = _volunteer(world.village_a1, member_id, name)
        put_on_shift(
            world.village_a1,
            shift,
            Volunteer(id=volunteer_id),
            status=AssignmentStatus.SIGNED_UP,
            minutes=120 if name == "王五" else 180,
            served_on=china_today(),
            confirmed_at=utcnow(),
        )
    _paid_charge(world.village_a1, kept, 1000)
    _paid_charge(world.village_a1, gone, 2000)
    secretary = make_client(world.secretary_a1.login)
    before = _lists(
        secretary, count_queries, event_id=event.id, activity_id=activity.id, shift_id=shift.id
    )
    for name in PAGES:
        assert ("会员甲" if name in ("event", "door list") else "李四") in before[name], name
    figures = _village_figures(world)
    assert (figures.volunteer_minutes, figures.dues_collected_fen) == (300, 3000)

    assert secretary.post(f"{BASE}/members/{gone}/delete").status_code == 303

    after = _lists(
        secretary, count_queries, event_id=event.id, activity_id=activity.id, shift_id=shift.id
    )
    for name in PAGES:
        assert ("会员甲" if name in ("event", "door list") else "李四") not in after[name], name
        # Hiding her costs no query: the condition rides on each list's own query.
        assert after[f"{name} queries"] == before[f"{name} queries"], name
    for name in ("activity", "volunteers", "shift", "hours", "ranking", "payments", "arrears"):
        assert "王五" in after[name], name
    assert secretary.get(f"{BASE}/volunteers/people/{_ids(Volunteer)[gone]}").status_code == 404
    figures = _village_figures(world)
    assert (figures.volunteer_minutes, figures.dues_collected_fen) == (120, 1000)
    # Nothing is lost while she is deleted, and all of it is still hers to see and download.
    own_data = member.get(f"{BASE}/members/me/data")
    assert own_data.status_code == 200
    for held in ("健康讲座", "会员活动日", "活动引导", "30.00"):
        assert held in own_data.text, held
    assert member.get(f"{BASE}/members/me/data.xlsx").status_code == 200
    rows = (Registration, ActivityParticipant, Volunteer, Assignment, Charge, Payment)
    assert [_rows(model) for model in rows] == [1, 2, 2, 2, 2, 2]

    assert secretary.post(f"{BASE}/members/{gone}/restore").status_code == 303

    again = _lists(
        secretary, count_queries, event_id=event.id, activity_id=activity.id, shift_id=shift.id
    )
    for name in PAGES:
        assert ("会员甲" if name in ("event", "door list") else "李四") in again[name], name
    figures = _village_figures(world)
    assert (figures.volunteer_minutes, figures.dues_collected_fen) == (300, 3000)


def _ids(model) -> dict[int, int]:
    """member id → row id."""
    with UNSCOPED_BYPASS("test: map members to their rows"):
        return dict(
            db.session.execute(
                select(model.member_id, model.id).execution_options(**INCLUDE_DELETED)
            ).all()
        )


def test_a_deleted_members_card_and_sign_up_are_refused_until_she_is_restored(world, make_client):
    gone = create_member(world.village_a1, "李四", user_id=world.member_a1.id).id
    event = create_event(world.village_a1)
    member = make_client(world.member_a1.login)
    secretary = make_client(world.secretary_a1.login)
    token = token_of(world.member_a1, world.village_a1)
    secretary.post(f"{BASE}/members/{gone}/delete")

    scanned = scan(secretary, world.village_a1, event, token, **{"HX-Request": "true"})
    assert scanned.status_code == 422
    assert "最近删除" in scanned.text
    refused = member.post(f"{BASE}/events/{event.id}/signup")
    assert refused.status_code == 422 and "最近删除" in refused.text
    assert _rows(Registration) == 0

    secretary.post(f"{BASE}/members/{gone}/restore")
    assert member.post(f"{BASE}/events/{event.id}/signup").status_code == 303
    again = scan(secretary, world.village_a1, event, token, **{"HX-Request": "true"})
    assert again.status_code == 200 and "会员甲 已签到" in again.text


def test_a_deleted_member_gets_no_reminders_until_she_is_restored(world, make_client, outbox):
    gone = create_member(world.village_a1, "李四", user_id=world.member_a1.id).id
    create_charge(world.village_a1, member_id=gone, year=DUES_YEAR, due_on=date(DUES_YEAR, 6, 30))
    shift = create_shift(world.village_a1, "明早巡查", starts_in=timedelta(hours=10))
    put_on_shift(world.village_a1, shift, Volunteer(id=_volunteer(world.village_a1, gone, "李四")))
    start = utcnow() + timedelta(hours=10)
    event = create_event(world.village_a1, "健康讲座", starts_at=start, signup_deadline=start)
    member = make_client(world.member_a1.login)
    assert member.post(f"{BASE}/events/{event.id}/signup").status_code == 303
    secretary = make_client(world.secretary_a1.login)
    secretary.post(f"{BASE}/members/{gone}/delete")

    assert dues_reminders.send_dues_reminders(on=date(DUES_YEAR, 6, 20)) == 0
    assert volunteer_reminders.send_reminders() == 0
    assert outbox == []

    secretary.post(f"{BASE}/members/{gone}/restore")
    assert dues_reminders.send_dues_reminders(on=date(DUES_YEAR, 6, 20)) == 1
    assert volunteer_reminders.send_reminders() == 2
    bodies = " ".join(message.subject + message.body for message in outbox)
    assert {message.to for message in outbox} == {world.member_a1.login}
    assert "明早巡查" in bodies and "健康讲座" in bodies


def test_group_messages_leave_a_deleted_member_out(world, make_client):
    # She signs in with her mobile number: her sign-up reaches her even without the register.
    user = create_user("13812345678", "李四", roles=[(world.village_a1, Role.MEMBER)])
    gone = create_member(world.village_a1, "李四", phone="13812345678", user_id=user.id).id
    create_member(world.village_a1, "王五", phone="13812345679")
    event = create_event(world.village_a1)
    make_client(user.login).post(f"{BASE}/events/{event.id}/signup")
    secretary = make_client(world.secretary_a1.login)

    def recipients(group, target_id=None) -> int:
        with tenant_context(scope_for(world.village_a1, writable=False)):
            found, _skipped = recipients_of(group, target_id)
            return len(found)

    assert (recipients(Group.MEMBERS), recipients(Group.EVENT, event.id)) == (2, 1)
    secretary.post(f"{BASE}/members/{gone}/delete")
    assert (recipients(Group.MEMBERS), recipients(Group.EVENT, event.id)) == (1, 0)
    secretary.post(f"{BASE}/members/{gone}/restore")
    assert (recipients(Group.MEMBERS), recipients(Group.EVENT, event.id)) == (2, 1)


def test_editing_an_activity_while_a_participant_is_deleted_keeps_her_part(world, make_client):
    kept = create_member(world.village_a1, "王五").id
    gone = create_member(world.village_a1, "李四").id
    secretary = make_client(world.secretary_a1.login)
    created = secretary.post(
        f"{BASE}/activities/new",
        {
            "title": "会员活动日",
            "held_on": china_today().isoformat(),
            "type": "member_day",
            "participant_count": "3",
            "member_ids": [kept, gone],
        },
    )
    assert created.status_code == 303
    secretary.post(f"{BASE}/members/{gone}/delete")
    edit_page = secretary.get(created.location + "/edit").text
    assert f'value="{kept}" checked' in edit_page and f'value="{gone}"' not in edit_page
    edited = secretary.post(
        created.location + "/edit",
        {
            "title": "会员活动日（改）",
            "held_on": china_today().isoformat(),
            "type": "member_day",
            "participant_count": "3",
            "member_ids": [kept],
        },
    )
    assert edited.status_code == 303

    secretary.post(f"{BASE}/members/{gone}/restore")
    page = secretary.get(created.location).text
    assert "会员活动日（改）" in page and "王五" in page and "李四" in page
