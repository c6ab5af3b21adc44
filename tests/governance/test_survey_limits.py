"""The evaluation's per-IP limit: guessing codes from one address stops at the limit."""

import pytest

from tests.factories import create_survey


@pytest.fixture
def app_config():
    return {"RATELIMIT_SURVEY": "3 per hour"}


def test_answers_and_texted_codes_are_limited_per_address(world, make_client, outbox):
    _survey_id, codes = create_survey(world.village_a1, codes=1)
    guesser = make_client()
    for guess in ("AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC"):
        answer = {"code": guess, "overall": "5"}
        assert guesser.post("/p/village-a1/survey", answer).status_code == 409
    answer = {"code": codes[0], "overall": "5"}
    assert guesser.post("/p/village-a1/survey", answer).status_code == 429
    assert guesser.get("/p/village-a1/survey").status_code == 200  # reading is not limited
    for phone in ("13800000001", "13800000002", "13800000003"):
        assert guesser.post("/p/village-a1/survey/phone", {"phone": phone}).status_code == 200
    assert guesser.post("/p/village-a1/survey/phone", {"phone": "13800000004"}).status_code == 429
    assert len(outbox) == 3
