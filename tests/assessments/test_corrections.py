"""The yearly assessment's deadlines and corrections (issue 15): a self-assessment due date with
reminders sent once each, model associations marked on the dashboards and withdrawn by the
level that named them, an assessment closed by mistake reopened with its ranking kept."""

import io
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from app.assessments.models import Assessment, AssessmentClosing, ModelAssociation
from app.assessments.reminders import send_assessment_reminders
from app.core.audit import AuditLog
from app.core.clock import china_today
from app.dashboards.models import ClosedPeriod
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Role
from tests.factories import create_assessment_sheet, create_tree_node, create_user

YEAR = china_today().year


def _sibling(world):
    sibling = create_tree_node("community-a3", world.village_a1.kind, world.township_a)
    secretary = create_user("sec.a3@test.cn", "秘书丁", roles=[(sibling, Role.SECRETARY)])
    return sibling, secretary


def _closed_with_a_model(world, make_client, sibling, sibling_secretary):
    """village_a1 scored 30 and sibling 3, closed, village_a1 named; returns the township's
    client."""
    sheet = create_assessment_sheet(world.township_a, year=YEAR)
    township = make_client(world.township_a_secretary.login)
    for association, login, points in (
        (world.village_a1, world.secretary_a1.login, "10"),
        (sibling, sibling_secretary.login, "1"),
    ):
        own = f"/a/{association.slug}/assessments/own"
        assert make_client(login).post(f"{own}/submit", {"year": YEAR}).status_code == 303
        award = {"year": YEAR, "decision": "score"} | {
            f"points-{item.id}": points for item in sheet.items
        }
        assert township.post(f"{own}/score", award).status_code == 303
    base = f"/a/{world.township_a.slug}/assessments/scoring"
    assert township.post(f"{base}/close", {"year": YEAR, "kind": "community"}).status_code == 303
    named = township.post(
        f"{base}/models",
        {"year": YEAR, "association": world.village_a1.id, "citation": "会员之家建设规范"},
    )
    assert named.status_code == 303
    return township


def _audit(action: str) -> list[AuditLog]:
    with UNSCOPED_BYPASS("test reads the audit log"):
        return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action)))


def test_a_model_association_is_marked_on_the_subtree_sheet_and_in_the_dashboard_export(
    world, make_client
):
    sibling, sibling_secretary = _sibling(world)
    _closed_with_a_model(world, make_client, sibling, sibling_secretary)
    county = make_client(world.county_auditor.login)
    sheet = county.get(f"/a/{world.county.slug}/dashboard/associations?year={YEAR}").text
    assert f'data-testid="mark-model-{world.village_a1.slug}"' in sheet
    assert f'data-testid="mark-model-{sibling.slug}"' not in sheet

    export = county.get(f"/a/{world.county.slug}/dashboard/export.xlsx?year={YEAR}")
    workbook = load_workbook(io.BytesIO(export.data))
    grassroots = workbook["基层协会"]
    header = [cell.value for cell in grassroots[1]]
    rows = {
        row[2]: dict(zip(header, row, strict=True))
        for row in grassroots.iter_rows(2, values_only=True)
    }
    assert rows[world.village_a1.name]["荣誉称号"] == "示范协会"
    assert rows[sibling.name]["荣誉称号"] is None
    # Counted in the roll-up: the county's whole subtree and the township holding it.
    first = workbook.worksheets[0]
    total, *children = first.iter_rows(2, values_only=True)
    counts = {row[0]: row[-1] for row in children}
    assert first.cell(1, first.max_column).value == "示范协会" and total[-1] == 1
    assert counts[world.township_a.name] == 1 and counts[world.township_b.name] == 0


def test_the_dashboard_export_reads_the_marks_in_one_query(world, make_client, count_queries):
    sibling, sibling_secretary = _sibling(world)
    client = make_client(world.county_auditor.login)
    url = f"/a/{world.county.slug}/dashboard/export.xlsx?year={YEAR}"

    def queries() -> int:
        client.get(url)
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    before = queries()
    _closed_with_a_model(world, make_client, sibling, sibling_secretary)
    for number in range(5):
        create_tree_node(f"extra-{number}", world.village_a1.kind, world.township_b)
    assert queries() == before


def test_a_naming_is_withdrawn_with_a_reason_by_the_level_that_made_it(world, make_client, outbox):
    sibling, sibling_secretary = _sibling(world)
    township = _closed_with_a_model(world, make_client, sibling, sibling_secretary)
    withdraw = f"/a/{world.township_a.slug}/assessments/scoring/models/withdraw"
    form = {"year": YEAR, "association": world.village_a1.id}
    # The named association itself, and a sibling's secretary, cannot.
    assert make_client(world.secretary_a1.login).post(withdraw, form).status_code == 404
    assert make_client(world.county_auditor.login).post(withdraw, form).status_code == 403
    # A reason is required; nothing changes without it.
    assert township.post(withdraw, form).status_code == 422
    with UNSCOPED_BYPASS("test reads the naming"):
        assert db.session.scalar(select(ModelAssociation.id)) is not None
    outbox.clear()
    done = township.post(withdraw, form | {"reason": "误选，应为第二名 13812345678"})
    assert done.status_code == 303
    with UNSCOPED_BYPASS("test reads the naming"):
        assert db.session.scalar(select(ModelAssociation.id)) is None
    entry = _audit("model_association_withdrawn")[0]
    assert entry.detail["reason"].startswith("误选") and "13812345678" not in entry.detail["reason"]
    assert entry.user_id == world.township_a_secretary.id
    assert [m.to for m in outbox] == [world.secretary_a1.login] and "误选" in outbox[0].body
    # The mark is gone from the association's home page and the dashboards.
    home = make_client(world.secretary_a1.login).get(f"/a/{world.village_a1.slug}/").text
    assert 'data-testid="home-model"' not in home
    sheet = township.get(f"/a/{world.township_a.slug}/dashboard/associations?year={YEAR}").text
    assert "mark-model-" not in sheet


def test_a_closed_assessment_is_reopened_keeping_its_ranking_as_history(world, make_client, outbox):
    sibling, sibling_secretary = _sibling(world)
    township = _closed_with_a_model(world, make_client, sibling, sibling_secretary)
    base = f"/a/{world.township_a.slug}/assessments/scoring"
    reopen = {"year": YEAR, "kind": "community", "reason": "漏评一个社区"}
    # Not while a model association named from it stands.
    refused = township.post(f"{base}/reopen", reopen)
    assert refused.status_code == 409 and world.village_a1.name in refused.text
    assert (
        township.post(
            f"{base}/models/withdraw",
            {"year": YEAR, "association": world.village_a1.id, "reason": "重新评定"},
        ).status_code
        == 303
    )
    assert township.post(f"{base}/reopen", reopen | {"reason": ""}).status_code == 422
    outbox.clear()
    assert township.post(f"{base}/reopen", reopen).status_code == 303
    with UNSCOPED_BYPASS("test reads the assessments"):
        states = {
            a.association_id: (a.state.value, a.rank)
            for a in db.session.scalars(select(Assessment))
        }
        assert db.session.scalar(select(AssessmentClosing.id)) is None
    assert states[world.village_a1.id] == ("scored", None) and states[sibling.id] == (
        "scored",
        None,
    )
    assert _audit("assessment_reopened")[0].detail["reason"] == "漏评一个社区"
    assert {m.to for m in outbox} == {world.secretary_a1.login, sibling_secretary.login}
    # The ranking as it stood is kept; scoring and closing work again.
    page = township.get(f"{base}?year={YEAR}&kind=community").text
    assert 'data-testid="reopening"' in page and "漏评一个社区" in page
    assert 'data-testid="close"' in page
    rank = (
        make_client(world.secretary_a1.login)
        .get(f"/a/{world.village_a1.slug}/assessments/own?year={YEAR}")
        .text
    )
    assert 'data-testid="rank"' not in rank
    assert township.post(f"{base}/close", {"year": YEAR, "kind": "community"}).status_code == 303
    # Siblings never see the level's scoring page or its history.
    assert make_client(sibling_secretary.login).get(f"{base}?year={YEAR}").status_code == 404


def test_corrections_are_refused_once_the_year_is_final(world, make_client):
    sibling, sibling_secretary = _sibling(world)
    township = _closed_with_a_model(world, make_client, sibling, sibling_secretary)
    with UNSCOPED_BYPASS("test closes the next year's first quarter"):
        db.session.add(ClosedPeriod(year=YEAR + 1, quarter=1))
        db.session.commit()
    base = f"/a/{world.township_a.slug}/assessments/scoring"
    withdraw = {"year": YEAR, "association": world.village_a1.id, "reason": "误选"}
    assert township.post(f"{base}/models/withdraw", withdraw).status_code == 409
    page = township.get(f"{base}?year={YEAR}&kind=community").text
    assert 'data-testid="reopen"' not in page and 'data-testid="withdraw"' not in page


def test_the_due_date_is_shown_and_reminders_go_once_to_those_not_submitted(
    world, make_client, outbox
):
    sibling, sibling_secretary = _sibling(world)
    today = china_today()
    create_assessment_sheet(world.township_a, year=YEAR, due_on=today + timedelta(days=3))
    page = make_client(world.secretary_a1.login).get(
        f"/a/{world.village_a1.slug}/assessments/own?year={YEAR}"
    )
    assert 'data-testid="due-on"' in page.text
    # The sibling has submitted: only village_a1 is reminded (village_a2 is another kind).
    own = f"/a/{sibling.slug}/assessments/own"
    assert (
        make_client(sibling_secretary.login).post(f"{own}/submit", {"year": YEAR}).status_code
        == 303
    )
    outbox.clear()
    assert send_assessment_reminders(today) == 1
    db.session.commit()
    assert [(m.to, m.subject) for m in outbox] == [
        (world.secretary_a1.login, "自评还有3天截止：" + str(YEAR))
    ]
    # Once: the next morning sends nothing more before the date, then "overdue" once.
    assert send_assessment_reminders(today + timedelta(days=1)) == 0
    assert send_assessment_reminders(today + timedelta(days=4)) == 1
    db.session.commit()  # as the job does: the e-mail leaves once the claim is committed
    assert send_assessment_reminders(today + timedelta(days=5)) == 0
    assert "逾期" in outbox[-1].subject and outbox[-1].to == world.secretary_a1.login


def test_a_lower_levels_due_date_replaces_the_one_above_for_its_subtree(world, make_client, outbox):
    today = china_today()
    create_assessment_sheet(world.county, year=YEAR, due_on=today + timedelta(days=2))
    create_assessment_sheet(world.township_a, year=YEAR, due_on=today + timedelta(days=20))
    page = (
        make_client(world.secretary_a1.login)
        .get(f"/a/{world.village_a1.slug}/assessments/own?year={YEAR}")
        .text
    )
    assert (today + timedelta(days=20)).isoformat() in page or str(
        (today + timedelta(days=20)).day
    ) in page
    outbox.clear()
    # The county's reminder does not reach village_a1, whose due date is the township's.
    assert send_assessment_reminders(today) == 0
