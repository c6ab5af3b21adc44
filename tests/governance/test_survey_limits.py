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


@pytest.mark.parametrize("app_config", [{"RATELIMIT_SURVEY_PHONE": "2 per hour"}], indirect=False)
def test_codes_to_one_phone_are_limited_per_hour_across_surveys_and_addresses(
    world, make_client, outbox, app_config
):
    create_survey(world.village_a1, codes=1)
    create_survey(world.village_a2, codes=1)
    phone = {"phone": "13800000009"}

    def send(address: str, village: str, form: dict):
        return make_client().post(
            f"/p/{village}/survey/phone", form, environ_overrides={"REMOTE_ADDR": address}
        )

    assert send("10.0.0.1", "village-a1", phone).status_code == 200
    assert send("10.0.0.2", "village-a2", phone).status_code == 200
    # A third code for the same number within the hour: refused, whatever survey or address.
    assert send("10.0.0.3", "village-a1", phone).status_code == 429
    assert len(outbox) == 2
    # Another number is not held back by it.
    assert send("10.0.0.3", "village-a1", {"phone": "13800000010"}).status_code == 200
