"""The 七有 page as the secretary and the reviewing auditor use it."""

import io

from app.checklist.views import this_year
from tests.factories import create_checklist
from tests.uploads import samples

URL = "/a/village-a1/checklist/"


def _upload(client, number, data=None, name="牌子.jpg", note="协会门口的牌子"):
    return client.post(
        URL + "evidence",
        {
            "year": str(this_year()),
            "number": str(number),
            "note": note,
            "file": (io.BytesIO(data or samples.jpeg()), name),
        },
        content_type="multipart/form-data",
    )


def test_secretary_uploads_evidence_and_submits_and_the_auditor_accepts(app, world, make_client):
    secretary = make_client(world.secretary_a1.login)
    assert "尚未提交" in secretary.get(URL).get_data(as_text=True)
    for number, data, name in (
        (4, None, "牌子.jpg"),
        (5, samples.PDF, "资料.pdf"),
        (6, samples.docx(), "制度.docx"),
    ):
        assert _upload(secretary, number, data, name).status_code == 303
    page = secretary.get(URL).get_data(as_text=True)
    assert "牌子.jpg" in page and "资料.pdf" in page and "制度.docx" in page
    assert "协会门口的牌子" in page
    response = secretary.post(URL + "submit", {"year": str(this_year())})
    assert response.status_code == 303
    assert "已提交 7 项" in secretary.get(URL).get_data(as_text=True)

    auditor = make_client(world.county_auditor.login)
    page = auditor.get(URL).get_data(as_text=True)
    assert 'data-testid="review-4"' in page
    item_id = page.split('data-testid="review-4"')[0].rsplit("/items/", 1)[1].split("/")[0]
    response = auditor.post(f"{URL}items/{item_id}/review", {"decision": "accept"})
    assert response.status_code == 303
    page = auditor.get(URL).get_data(as_text=True)
    assert "第4项已通过" in page or "已通过" in page
    history = page.split('data-testid="history"')[1]
    assert "县审核员" in history and "county计生协" in history


def test_the_secretary_sees_what_was_sent_back_and_resubmits(app, world, make_client):
    checklist = create_checklist(world.village_a1, year=this_year(), submitted=True)
    item_id = checklist.items[5].id
    auditor = make_client(world.county_auditor.login)
    no_comment = auditor.post(f"{URL}items/{item_id}/review", {"decision": "return"})
    assert no_comment.status_code == 422
    assert "退回时请说明需要修改什么" in no_comment.get_data(as_text=True)
    auditor.post(f"{URL}items/{item_id}/review", {"decision": "return", "comment": "制度要盖章"})

    secretary = make_client(world.secretary_a1.login)
    page = secretary.get(URL).get_data(as_text=True)
    assert "制度要盖章" in page and "已退回" in page
    assert _upload(secretary, 6, samples.PDF, "盖章制度.pdf").status_code == 303
    assert secretary.post(URL + "submit", {"year": str(this_year())}).status_code == 303
    page = secretary.get(URL).get_data(as_text=True)
    assert "盖章制度.pdf" in page and "照片" in page  # both versions are listed


def test_a_secretary_may_not_review_their_own_checklist(app, world, make_client):
    checklist = create_checklist(world.village_a1, year=this_year(), submitted=True)
    response = make_client(world.secretary_a1.login).post(
        f"{URL}items/{checklist.items[0].id}/review", {"decision": "accept"}
    )
    assert response.status_code == 403


def test_a_withdrawn_item_is_refused_when_reviewed(app, world, make_client):
    checklist = create_checklist(world.village_a1, year=this_year(), submitted=True)
    item_id = checklist.items[3].id
    secretary = make_client(world.secretary_a1.login)
    assert secretary.post(f"{URL}items/{item_id}/withdraw").status_code == 303
    response = make_client(world.county_auditor.login).post(
        f"{URL}items/{item_id}/review", {"decision": "accept"}
    )
    assert response.status_code == 422
    assert "已撤回" in response.get_data(as_text=True)


def test_submitting_without_evidence_explains_what_is_missing(app, world, make_client):
    secretary = make_client(world.secretary_a1.login)
    _upload(secretary, 4)
    response = secretary.post(URL + "submit", {"year": str(this_year())})
    assert response.status_code == 422
    assert "请先为第 5, 6 项上传证明材料" in response.get_data(as_text=True)


def test_a_hostile_file_is_refused_as_evidence(app, world, make_client):
    secretary = make_client(world.secretary_a1.login)
    response = _upload(secretary, 5, samples.HTML, "资料.pdf")
    assert response.status_code == 415
    assert "只能上传图片" in response.get_data(as_text=True)


def test_the_register_figures_or_their_absence_are_shown(app, world, make_client, monkeypatch):
    monkeypatch.setattr("app.checklist.services.register_counts", lambda: None)
    page = make_client(world.county_auditor.login).get(URL).get_data(as_text=True)
    assert "会员名册尚不可用" in page
    monkeypatch.setattr(
        "app.checklist.services.register_counts",
        lambda: {"members": 321, "central_households": 9, "linked_households": 47},
    )
    page = make_client(world.county_auditor.login).get(URL).get_data(as_text=True)
    assert 'data-testid="item-2-figure">321<' in page


def test_the_checklist_page_runs_a_fixed_number_of_queries(app, world, make_client, count_queries):
    client = make_client(world.county_auditor.login)
    create_checklist(world.village_a1, year=2024, evidence_for=(4,))
    client.get(URL + "?year=2024")  # warm up: session, translations
    with count_queries() as few:
        assert client.get(URL + "?year=2024").status_code == 200
    checklist = create_checklist(world.village_a1, year=2025, submitted=True)
    for item in checklist.items[:3]:
        client.post(f"{URL}items/{item.id}/review", {"decision": "accept"})
    client.post(
        f"{URL}items/{checklist.items[3].id}/review", {"decision": "return", "comment": "重拍"}
    )
    client.get(URL + "?year=2025")
    with count_queries() as many:
        assert client.get(URL + "?year=2025").status_code == 200
    assert len(many) == len(few)
