"""Residents without a slip answer the evaluation with their phone: a code texted to it, one
answer per phone, and the number itself never kept."""

import re

from sqlalchemy import func, select

from app.extensions import db
from app.governance.models import SurveyPhone, SurveyResponse
from tenants.context import UNSCOPED_BYPASS
from tests.factories import create_survey

PHONE = "13912345678"


def _count(model) -> int:
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        return db.session.scalar(select(func.count()).select_from(model))


def _code(outbox) -> str:
    message = outbox[-1]
    assert message.to == PHONE
    return re.search(r"\d{6}", message.body).group(0)


def _answer(client, code, phone=PHONE, overall="5"):
    return client.post(
        "/p/village-a1/survey", {"phone": phone, "sms_code": code, "overall": overall}
    )


def test_a_phone_answers_once_and_its_number_is_not_kept(world, make_client, outbox):
    create_survey(world.village_a1, codes=1)
    resident = make_client()
    sent = resident.post("/p/village-a1/survey/phone", {"phone": "139 1234 5678"})
    assert sent.status_code == 200 and 'data-testid="code-sent"' in sent.get_data(as_text=True)
    code = _code(outbox)
    assert _answer(resident, code).status_code == 200
    assert _count(SurveyResponse) == 1
    # The same phone again: no new code, no second answer.
    assert resident.post("/p/village-a1/survey/phone", {"phone": PHONE}).status_code == 409
    assert _answer(make_client(), code).status_code == 409
    assert _count(SurveyResponse) == 1
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        rows = db.session.execute(select(SurveyPhone.__table__)).mappings().all()
    assert len(rows) == 1 and rows[0]["answered"] and rows[0]["code_hash"] is None
    assert PHONE not in str(dict(rows[0]))


def test_wrong_codes_count_and_five_end_the_code(world, make_client, outbox):
    create_survey(world.village_a1, codes=1)
    resident = make_client()
    resident.post("/p/village-a1/survey/phone", {"phone": PHONE})
    code = _code(outbox)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert _answer(resident, wrong).status_code == 409
    with UNSCOPED_BYPASS("test assertion reads the database directly"):
        assert db.session.scalar(select(SurveyPhone.failed_attempts)) == 5
    assert _answer(resident, code).status_code == 409  # even the right one, now
    assert _count(SurveyResponse) == 0
    # A new code is allowed (at most three per phone).
    assert resident.post("/p/village-a1/survey/phone", {"phone": PHONE}).status_code == 200
    assert _answer(resident, _code(outbox)).status_code == 200
    assert resident.post("/p/village-a1/survey/phone", {"phone": "13800001111"}).status_code == 200
    for _ in range(2):
        resident.post("/p/village-a1/survey/phone", {"phone": "13800001111"})
    assert resident.post("/p/village-a1/survey/phone", {"phone": "13800001111"}).status_code == 429


def test_a_bad_number_or_no_code_is_refused(world, make_client, outbox):
    create_survey(world.village_a1, codes=1)
    resident = make_client()
    assert resident.post("/p/village-a1/survey/phone", {"phone": "12345"}).status_code == 422
    assert resident.post("/p/village-a1/survey", {"overall": "5"}).status_code == 422
    assert outbox == [] and _count(SurveyResponse) == 0
