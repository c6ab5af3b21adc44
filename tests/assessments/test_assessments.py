"""The yearly assessment (issue 15): publish a sheet, self-assess with evidence, the level above
scores, closing ranks the siblings, a model association is named and shown."""

import io
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from app.assessments.models import Assessment, ModelAssociation
from app.assessments.ranking import competition_ranks
from app.core.clock import china_today
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tests.factories import create_activity, create_assessment_sheet, create_tree_node
from tests.uploads.samples import jpeg

YEAR = china_today().year


def _publish_township_sheet(client, world):
    base = f"/a/{world.township_a.slug}/assessments"
    response = client.post(
        f"{base}/sheets", {"year": YEAR, "kind": "community", "title": "年度考核"}
    )
    assert response.status_code == 303
    sheet_url = response.headers["Location"]
    for title, points, rule in (
        ("七有合格", "10", "qiyou"),
        ("每季度开展活动", "10", "active_quarters"),
        ("宣传阵地建设", "5", "manual"),
    ):
        assert (
            client.post(
                f"{sheet_url}/items", {"title": title, "points": points, "rule": rule}
            ).status_code
            == 303
        )
    # A sheet is published with the date self-assessments are due.
    assert client.post(f"{sheet_url}/publish").status_code == 422
    due_on = china_today() + timedelta(days=20)
    assert client.post(f"{sheet_url}/publish", {"due_on": due_on.isoformat()}).status_code == 303
    return sheet_url


def _items(village):
    from app.assessments.self_assessment import effective_items

    return {item.title: item.id for item, _name in effective_items(village, YEAR)}


def _community_sibling(world):
    """A second community under township_a (village_a1 is a community, village_a2 a village),
    with its secretary."""
    from tenants.models import Role
    from tests.factories import create_user

    sibling = create_tree_node("community-a3", world.village_a1.kind, world.township_a)
    secretary = create_user("sec.a3@test.cn", "秘书丁", roles=[(sibling, Role.SECRETARY)])
    return sibling, secretary


def test_a_sheet_is_assessed_scored_closed_ranked_and_a_model_named(world, make_client, outbox):
    sibling, sibling_secretary = _community_sibling(world)
    township = make_client(world.township_a_secretary.login)
    _publish_township_sheet(township, world)
    subjects = [m.subject for m in outbox]
    # Both communities' secretaries hear of it, the village's (another kind) does not.
    assert sum("published" in s or "发布" in s for s in subjects) == 2

    items = _items(world.village_a1)
    a1 = make_client(world.secretary_a1.login)
    own = f"/a/{world.village_a1.slug}/assessments/own"
    page = a1.get(f"{own}?year={YEAR}")
    assert page.status_code == 200 and "宣传阵地建设" in page.text

    # A claim without evidence is refused, nothing is written.
    refused = a1.post(f"{own}/claim", {"year": YEAR, "item": items["宣传阵地建设"], "points": "5"})
    assert refused.status_code == 422
    assert "须有佐证" in refused.text
    # Points above the item's are refused.
    too_many = a1.post(
        f"{own}/claim",
        {
            "year": YEAR,
            "item": items["宣传阵地建设"],
            "points": "6",
            "file": (io.BytesIO(jpeg()), "a.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert too_many.status_code == 422
    claimed = a1.post(
        f"{own}/claim",
        {
            "year": YEAR,
            "item": items["宣传阵地建设"],
            "points": "4.5",
            "note": "宣传栏照片",
            "file": (io.BytesIO(jpeg()), "a.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert claimed.status_code == 303
    assert a1.post(f"{own}/submit", {"year": YEAR}).status_code == 303

    # The village cannot score itself; the county (two levels up) cannot either.
    award = {"year": YEAR, "decision": "score"} | {f"points-{i}": "5" for i in items.values()}
    assert a1.post(f"{own}/score", award).status_code == 403
    county = make_client(world.county_auditor.login)
    assert county.post(f"{own}/score", award).status_code == 403

    # The township scores each item, with a comment.
    over = dict(award) | {f"points-{items['宣传阵地建设']}": "6"}
    assert township.post(f"{own}/score", over).status_code == 422
    scored = township.post(
        f"{own}/score", award | {f"comment-{items['宣传阵地建设']}": "宣传栏规范"}
    )
    assert scored.status_code == 303
    assert any("已评分" in m.subject or "scored" in m.subject for m in outbox)

    # The sibling submits and is scored lower.
    a2 = make_client(sibling_secretary.login)
    own2 = f"/a/{sibling.slug}/assessments/own"
    assert a2.post(f"{own2}/submit", {"year": YEAR}).status_code == 303
    low = {"year": YEAR, "decision": "score"} | {f"points-{i}": "1" for i in items.values()}
    assert township.post(f"{own2}/score", low).status_code == 303

    # Siblings never see each other's sheets.
    assert a2.get(f"{own}?year={YEAR}").status_code == 404
    assert a2.get(f"/a/{world.township_a.slug}/assessments/scoring?year={YEAR}").status_code == 404

    closed = township.post(
        f"/a/{world.township_a.slug}/assessments/scoring/close", {"year": YEAR, "kind": "community"}
    )
    assert closed.status_code == 303
    mine = a1.get(f"{own}?year={YEAR}").text
    assert "15" in mine and ("1 / 2" in mine or "第 1 名" in mine or "1 of 2" in mine)
    assert "宣传栏规范" in mine
    theirs = a2.get(f"{own2}?year={YEAR}").text
    assert world.village_a1.name not in theirs and ("第 2 名" in theirs or "2 of 2" in theirs)
    # Frozen: no more scoring or claims.
    assert township.post(f"{own}/score", award).status_code == 409
    assert a1.post(f"{own}/submit", {"year": YEAR}).status_code == 409

    named = township.post(
        f"/a/{world.township_a.slug}/assessments/scoring/models",
        {"year": YEAR, "association": world.village_a1.id, "citation": "会员之家建设规范"},
    )
    assert named.status_code == 303
    home = a1.get(f"/a/{world.village_a1.slug}/").text
    assert "示范协会" in home or "Model association" in home
    dashboard = township.get(f"/a/{world.township_a.slug}/dashboard/?year={YEAR}").text
    assert 'data-testid="model-village-a1"' in dashboard
    with UNSCOPED_BYPASS("test reads the result"):
        assert db.session.scalar(select(ModelAssociation.rank)) == 1

    # The export marks the model association; the county's covers its whole subtree.
    exported = make_client(world.county_auditor.login).get(
        f"/a/{world.county.slug}/assessments/export?year={YEAR}"
    )
    assert exported.status_code == 200
    rows = {
        row[1]: row
        for row in load_workbook(io.BytesIO(exported.data)).active.iter_rows(values_only=True)
    }
    assert rows[world.village_a1.name][5] == 15 and rows[world.village_a1.name][8] == "是"
    assert rows[sibling.name][6] == 2 and rows[sibling.name][8] is None


def test_sending_back_needs_a_comment_and_opens_the_assessment_again(world, make_client, outbox):
    create_assessment_sheet(world.township_a, year=YEAR)
    a1 = make_client(world.secretary_a1.login)
    own = f"/a/{world.village_a1.slug}/assessments/own"
    assert a1.post(f"{own}/submit", {"year": YEAR}).status_code == 303
    township = make_client(world.township_a_secretary.login)
    assert township.post(f"{own}/score", {"year": YEAR, "decision": "return"}).status_code == 422
    back = township.post(
        f"{own}/score", {"year": YEAR, "decision": "return", "comment": "补充材料"}
    )
    assert back.status_code == 303
    page = a1.get(f"{own}?year={YEAR}").text
    assert "补充材料" in page and 'data-testid="submit"' in page
    assert any("退回" in m.subject or "sent back" in m.subject for m in outbox)


def test_closing_waits_for_every_submitted_assessment(world, make_client):
    create_assessment_sheet(world.township_a, year=YEAR)
    a1 = make_client(world.secretary_a1.login)
    assert (
        a1.post(f"/a/{world.village_a1.slug}/assessments/own/submit", {"year": YEAR}).status_code
        == 303
    )
    township = make_client(world.township_a_secretary.login)
    refused = township.post(
        f"/a/{world.township_a.slug}/assessments/scoring/close", {"year": YEAR, "kind": "community"}
    )
    assert refused.status_code == 422
    with UNSCOPED_BYPASS("test reads the state"):
        assert db.session.scalar(select(Assessment.state)).value == "submitted"


def test_items_from_the_figures_score_the_registers(world, make_client):
    create_assessment_sheet(world.township_a, year=YEAR)
    create_activity(world.village_a1)
    a1 = make_client(world.secretary_a1.login)
    page = a1.get(f"/a/{world.village_a1.slug}/assessments/own?year={YEAR}").text
    # One quarter with an activity: 2.5 of the 10 points; 七有 not qualified: 0.
    assert "2.5" in page
    assert "七有合格" in page


def test_a_lower_level_adds_items_to_the_sheet_it_inherits(world, make_client):
    create_assessment_sheet(world.county, year=YEAR, items=(("会员比例", 100, "member_ratio"),))
    create_assessment_sheet(world.township_a, year=YEAR, items=(("乡镇特色", 50, "manual"),))
    page = (
        make_client(world.secretary_a1.login)
        .get(f"/a/{world.village_a1.slug}/assessments/own?year={YEAR}")
        .text
    )
    assert "会员比例" in page and "乡镇特色" in page and "15" in page


def test_the_scoring_list_costs_the_same_for_2_or_12_children(world, make_client, count_queries):
    create_assessment_sheet(world.township_a, year=YEAR)
    client = make_client(world.township_a_secretary.login)
    url = f"/a/{world.township_a.slug}/assessments/scoring?year={YEAR}"

    def queries():
        client.get(url)
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    few = queries()
    for n in range(10):
        create_tree_node(f"village-extra-{n}", world.village_a1.kind, world.township_a)
    assert queries() == few


def test_competition_ranks_share_a_rank_on_equal_scores():
    assert competition_ranks([(1, 50), (2, 70), (3, 50), (4, 10)]) == {2: 1, 1: 2, 3: 2, 4: 4}


def test_the_responsibility_statement_records_signatures_with_the_targets(world, make_client):
    a1 = make_client(world.secretary_a1.login)
    url = f"/a/{world.village_a1.slug}/assessments/statement"
    assert a1.post(url, {"year": YEAR, "own_signatory": "李四"}).status_code == 422
    done = a1.post(
        url,
        {
            "year": YEAR,
            "upper_signatory": "王主任",
            "upper_signed_on": f"{YEAR}-01-05",
            "own_signatory": "李四",
            "own_signed_on": f"{YEAR}-01-05",
            "file": (io.BytesIO(jpeg()), "scan.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert done.status_code == 303
    page = a1.get(f"{url}?year={YEAR}").text
    assert "王主任" in page and "10%" in page and 'data-testid="statement-scan"' in page


def test_the_demo_has_a_published_sheet_and_a_submitted_self_assessment(app, make_client):
    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    township = make_client("township@demo.xiehui.cn")
    scoring = township.get(f"/a/nanqi/assessments/scoring?year={YEAR}").text
    assert "梨花社区计生协" in scoring and "待评分" in scoring
    page = township.get(f"/a/nanqi-lihua/assessments/own?year={YEAR}").text
    assert "宣传阵地建设" in page and 'data-testid="score-form"' in page


def test_an_activity_of_the_year_is_evidence_but_a_siblings_is_not_found(world, make_client):
    sheet = create_assessment_sheet(world.township_a, year=YEAR)
    manual = next(item.id for item in sheet.items if item.rule.value == "manual")
    own_activity = create_activity(world.village_a1)
    siblings_activity = create_activity(world.village_a2)
    a1 = make_client(world.secretary_a1.login)
    url = f"/a/{world.village_a1.slug}/assessments/own/claim"
    claim = {"year": YEAR, "item": manual, "points": "10"}
    assert a1.post(url, claim | {"activity": siblings_activity.id}).status_code == 422
    assert a1.post(url, claim | {"activity": own_activity.id}).status_code == 303
    page = a1.get(f"/a/{world.village_a1.slug}/assessments/own?year={YEAR}").text
    assert f'data-testid="evidence-activity-{manual}"' in page
