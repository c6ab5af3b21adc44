"""Which registered members took part: search-as-you-type, the count rule, other associations."""

from datetime import date

from app.activities.views import today
from tests.factories import create_activity, create_member

URL = "/a/village-a1/activities"


def _form(**overrides):
    data = {
        "title": "会员活动日",
        "held_on": today().isoformat(),
        "type": "member_day",
        "participant_count": "3",
    }
    data.update(overrides)
    return data


def test_members_are_found_by_name_initials_or_phone_tail(app, world, make_client):
    create_member(world.village_a1, "张三", phone="13800001234")
    create_member(world.village_a1, "李四")
    create_member(world.village_a2, "张邻村")
    client = make_client(world.secretary_a1.login)

    def found(query):
        text = client.get(f"{URL}/members/search", query_string=query).get_data(as_text=True)
        return [name for name in ("张三", "李四", "张邻村") if name in text]

    assert found({"member_q": "张"}) == ["张三"]
    assert found({"member_q": "zs"}) == ["张三"]
    assert found({"member_q": "1234"}) == ["张三"]
    assert found({"member_q": ""}) == []


def test_already_picked_members_are_not_offered_again(app, world, make_client):
    picked_id = create_member(world.village_a1, "王五").id  # read before the next commit
    create_member(world.village_a1, "王六")
    text = (
        make_client(world.secretary_a1.login)
        .get(f"{URL}/members/search", query_string={"member_q": "王", "member_ids": picked_id})
        .get_data(as_text=True)
    )
    assert "王六" in text and "王五" not in text


def test_an_activity_records_the_members_who_took_part(app, world, make_client):
    first_id = create_member(world.village_a1, "赵一").id
    second_id = create_member(world.village_a1, "钱二").id
    client = make_client(world.secretary_a1.login)
    response = client.post(f"{URL}/new", _form(member_ids=[first_id, second_id]))
    assert response.status_code == 303
    page = client.get(response.location).get_data(as_text=True)
    assert "赵一" in page and "钱二" in page
    edit = client.get(response.location + "/edit").get_data(as_text=True)
    assert f'value="{first_id}" checked' in edit


def test_participant_count_below_the_members_listed_is_refused(app, world, make_client):
    member_ids = [create_member(world.village_a1, name).id for name in ("甲", "乙", "丙")]
    response = make_client(world.secretary_a1.login).post(
        f"{URL}/new", _form(participant_count="2", member_ids=member_ids)
    )
    assert response.status_code == 422
    assert "已列出 3 名会员参加,参加人数至少应为 3" in response.get_data(as_text=True)


def test_members_of_another_association_cannot_be_listed(app, world, make_client):
    outsider_id = create_member(world.village_a2, "邻村会员").id
    response = make_client(world.secretary_a1.login).post(
        f"{URL}/new", _form(member_ids=[outsider_id])
    )
    assert response.status_code == 422
    assert "不在本协会的会员名册中" in response.get_data(as_text=True)


def test_the_yearly_report_names_the_members_who_took_part(app, world, make_client):
    member_id = create_member(world.village_a1, "孙七").id
    client = make_client(world.secretary_a1.login)
    client.post(f"{URL}/new", _form(member_ids=[member_id], held_on="2025-05-29"))
    create_activity(world.village_a1, title="无会员名单", held_on=date(2025, 7, 11))
    text = client.get(f"{URL}/report?year=2025").get_data(as_text=True)
    assert "孙七" in text and "无会员名单" in text
