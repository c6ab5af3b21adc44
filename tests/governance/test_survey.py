"""The residents' evaluation (评议) by one-time printed codes, and the level above's comments
(监督): one answer per code, satisfaction = (satisfied + very satisfied) ÷ responses, comments
public only after moderation, nothing stored that ties an answer to a slip."""

from datetime import date, timedelta

from sqlalchemy import func, select

from app.core.clock import china_today
from app.extensions import db
from app.governance.models import (
    CommentState,
    SupervisionComment,
    Survey,
    SurveyCode,
    SurveyResponse,
)
from tenants.context import UNSCOPED_BYPASS
from tests.factories import create_household, create_plan, create_survey, reload

BASE = "/a/village-a1/governance"
YEAR = china_today().year


def _count(model, *where) -> int:
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _answer(client, code, overall="5", comment="", **scores):
    return client.post(
        "/p/village-a1/survey", {"code": code, "overall": overall, "comment": comment, **scores}
    )


def test_the_secretary_opens_the_evaluation_and_prints_codes_shown_once(world, make_client):
    secretary = make_client(world.secretary_a1.login)
    opening = {
        "year": str(YEAR),
        "closes_on": date(YEAR, 12, 31).isoformat(),
        "target_percent": "95",
    }
    # Not before the plan is published.
    assert secretary.post(f"{BASE}/survey/open", opening).status_code == 422
    create_plan(world.village_a1, published=True)
    assert secretary.post(f"{BASE}/survey/open", opening).status_code == 303
    assert secretary.post(f"{BASE}/survey/open", opening).status_code == 409

    response = secretary.post(f"{BASE}/survey/codes", {"year": str(YEAR), "count": "5"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    codes = [line.split(">")[1].split("<")[0] for line in page.split('data-testid="slip-code"')[1:]]
    assert len(codes) == 5 and len(set(codes)) == 5
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        stored = db.session.scalars(select(SurveyCode.code_hash)).all()
    assert len(stored) == 5 and not set(codes) & set(stored)
    assert not any(code.replace("-", "") in "".join(stored) for code in codes)
    assert reload(Survey, _survey_id()).codes_issued == 5
    # A code on the page answers once.
    assert _answer(make_client(), codes[0]).status_code == 200


def _survey_id() -> int:
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        return db.session.scalar(select(Survey.id))


def test_one_answer_per_code_and_a_wrong_code_keeps_nothing(world, make_client):
    _, codes = create_survey(world.village_a1, codes=2)
    resident = make_client()
    form = resident.get("/p/village-a1/survey")
    assert form.status_code == 200 and 'data-testid="answer-form"' in form.get_data(as_text=True)
    thanks = _answer(resident, codes[0].lower().replace("-", ""), comment="活动很多")
    assert thanks.status_code == 200 and 'data-testid="survey-thanks"' in thanks.get_data(
        as_text=True
    )
    assert _answer(make_client(), codes[0]).status_code == 409  # double voting refused
    assert _answer(make_client(), "ABCD-EFGH").status_code == 409
    _, other_codes = create_survey(world.village_a2, codes=1)
    assert _answer(make_client(), other_codes[0]).status_code == 409  # another association's
    assert _count(SurveyResponse) == 1
    assert _count(SurveyCode, SurveyCode.used.is_(True)) == 1
    # The answer keeps no code and no time of day.
    columns = set(SurveyResponse.__table__.columns.keys())
    assert not columns & {"code", "code_hash", "code_id", "created_at", "ip"}


def test_satisfaction_is_the_satisfied_and_very_satisfied_share_of_responses(world, make_client):
    for address in ("幸福路1号", "幸福路2号", "幸福路3号", "幸福路4号"):
        create_household(world.village_a1, address=address)
    _, codes = create_survey(world.village_a1, codes=3)
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        from app.governance.models import Commitment

        commitment_id = db.session.scalar(select(Commitment.id))
    for code, overall in zip(codes, ("5", "4", "2"), strict=True):
        assert (
            _answer(make_client(), code, overall, **{f"score-{commitment_id}": "5"}).status_code
            == 200
        )
    public = make_client().get("/p/village-a1").get_data(as_text=True)
    assert "66.7%" in public
    by_commitment = public.split('data-testid="public-satisfaction-by-commitment"')[1]
    assert "发展新会员: 3 份中 3 份满意" in by_commitment.split("</ul>")[0]
    page = make_client(world.county_auditor.login).get(f"{BASE}/survey").get_data(as_text=True)
    assert "66.7%" in page and "3 / 4" in page  # responses vs households
    assert "3 / 3" in page  # the commitment: three satisfied of three answers


def test_comments_are_public_only_once_the_secretary_publishes_them(world, make_client):
    _, codes = create_survey(world.village_a1, codes=2)
    _answer(make_client(), codes[0], comment="希望多办健康讲座")
    _answer(make_client(), codes[1], comment="不要公开这条")
    assert "希望多办健康讲座" not in make_client().get("/p/village-a1").get_data(as_text=True)
    # The level above sees every comment, moderated or not.
    above = make_client(world.county_auditor.login).get(f"{BASE}/survey").get_data(as_text=True)
    assert "希望多办健康讲座" in above and "不要公开这条" in above
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        first, second = db.session.scalars(select(SurveyResponse.id).order_by(SurveyResponse.id))
    secretary = make_client(world.secretary_a1.login)
    url = f"{BASE}/survey/comments"
    assert secretary.post(f"{url}/{first}", {"decision": "publish"}).status_code == 303
    assert secretary.post(f"{url}/{second}", {"decision": "hide"}).status_code == 303
    assert (
        make_client(world.staff_a1.login).post(f"{url}/{first}", {"decision": "hide"}).status_code
        == 403
    )
    public = make_client().get("/p/village-a1").get_data(as_text=True)
    assert "希望多办健康讲座" in public and "不要公开这条" not in public
    assert reload(SurveyResponse, second).comment_state == CommentState.HIDDEN


def test_a_closed_evaluation_takes_no_answers(world, make_client):
    survey_id, codes = create_survey(world.village_a1, codes=1)
    with UNSCOPED_BYPASS("test fixture closes the evaluation"):
        db.session.get(Survey, survey_id).closes_on = china_today() - timedelta(days=1)
        db.session.commit()
    assert _answer(make_client(), codes[0]).status_code == 409
    assert _count(SurveyResponse) == 0


def test_the_level_above_comments_on_the_plan_and_the_secretary_reads_it(world, make_client):
    create_plan(world.village_a1, published=True)
    auditor = make_client(world.county_auditor.login)
    comment = {"year": str(YEAR), "body": "请补充第三季度活动照片"}
    assert auditor.post(f"{BASE}/supervision-comments", comment).status_code == 303
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        row = db.session.scalar(select(SupervisionComment))
    assert row.association_id == world.village_a1.id
    assert row.author_association_id == world.county.id
    page = make_client(world.secretary_a1.login).get(f"{BASE}/survey").get_data(as_text=True)
    assert "请补充第三季度活动照片" in page and "县审核员" in page
    secretary = make_client(world.secretary_a1.login)
    assert secretary.post(f"{BASE}/supervision-comments", comment).status_code == 403
    # A secretary of the township above supervises too.
    township = make_client(world.township_a_secretary.login)
    assert township.post(f"{BASE}/supervision-comments", comment).status_code == 303
    assert _count(SupervisionComment) == 2
    assert "请补充第三季度活动照片" not in make_client().get("/p/village-a1").get_data(as_text=True)


def test_the_level_above_opens_a_rectification_task_from_a_commitment(world, make_client):
    plan = create_plan(world.village_a1, published=True)
    auditor = make_client(world.county_auditor.login)
    page = auditor.get(f"{BASE}/commitments/{plan.commitments[0].id}").get_data(as_text=True)
    assert 'data-testid="open-task-link"' in page
    link = page.split('data-testid="open-task-link"')[0].rsplit('href="', 1)[1].split('"')[0]
    form = auditor.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert 'value="发展新会员"' in form
    secretary = make_client(world.secretary_a1.login)
    own = secretary.get(f"{BASE}/commitments/{plan.commitments[0].id}").get_data(as_text=True)
    assert 'data-testid="open-task-link"' not in own


def test_a_burst_of_answers_is_reported_once_to_the_secretaries_here_and_above(
    world, make_client, outbox, monkeypatch
):
    from app.governance import surveys

    monkeypatch.setattr(surveys, "BURST_ANSWERS_PER_DAY", 2)
    _, codes = create_survey(world.village_a1, codes=3)
    assert _answer(make_client(), codes[0]).status_code == 200
    assert outbox == []
    assert _answer(make_client(), codes[1]).status_code == 200
    told = sorted(message.to for message in outbox)
    assert told == sorted([world.secretary_a1.login, world.township_a_secretary.login])
    assert all("2" in message.body and "village-a1" in message.body for message in outbox)
    assert _answer(make_client(), codes[2]).status_code == 200
    assert len(outbox) == 2  # once a day
