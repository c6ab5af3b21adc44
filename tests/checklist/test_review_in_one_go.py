"""Review in one go: the higher level accepts several submitted 七有 items at once, each still
recorded on its own; notices go to the higher level on submit and to the secretary on send-back;
the status line follows each step."""

import io
import re

from sqlalchemy import select

from app.checklist.models import ChecklistEvent, ChecklistItem, ItemState
from app.checklist.views import this_year
from app.core.audit import AuditLog
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tests.factories import create_checklist
from tests.uploads import samples

URL = "/a/village-a1/checklist/"


def _status_line(html: str) -> str:
    found = re.search(r'data-testid="checklist-status"[^>]*>(.*?)</p>', html, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def _states(checklist_id: int) -> dict[int, ItemState]:
    with UNSCOPED_BYPASS("test reads the items"):
        return {
            item.number: item.state
            for item in db.session.scalars(
                select(ChecklistItem)
                .where(ChecklistItem.checklist_id == checklist_id)
                .execution_options(populate_existing=True)
            )
        }


def test_the_auditor_accepts_several_items_at_once_each_recorded(world, make_client):
    checklist = create_checklist(world.village_a1, year=this_year(), submitted=True)
    ids = {item.number: item.id for item in checklist.items}
    auditor = make_client(world.county_auditor.login)
    page = auditor.get(URL).text
    assert 'data-testid="accept-selected"' in page and 'data-testid="pick-1"' in page

    picked = [ids[n] for n in (1, 2, 3, 7)]
    response = auditor.post(
        URL + "review", {"year": str(this_year()), "item_id": [str(i) for i in picked]}
    )
    assert response.status_code == 303
    states = _states(checklist.id)
    assert [n for n, s in sorted(states.items()) if s == ItemState.ACCEPTED] == [1, 2, 3, 7]
    assert {states[n] for n in (4, 5, 6)} == {ItemState.SUBMITTED}
    with UNSCOPED_BYPASS("test reads the history and the audit log"):
        accepted = db.session.scalars(
            select(ChecklistEvent.item_number).where(
                ChecklistEvent.checklist_id == checklist.id, ChecklistEvent.action == "accept"
            )
        ).all()
        audited = db.session.scalars(
            select(AuditLog.target_id).where(
                AuditLog.target_type == "ChecklistItem", AuditLog.user_id == world.county_auditor.id
            )
        ).all()
    assert sorted(accepted) == [1, 2, 3, 7]
    assert set(picked) <= set(audited)
    page = auditor.get(URL).text
    assert "1、2、3、7" in page or "1, 2, 3, 7" in page


def test_accepting_in_one_go_is_all_or_nothing_and_needs_a_choice(world, make_client):
    checklist = create_checklist(world.village_a1, year=this_year(), submitted=True)
    ids = {item.number: item.id for item in checklist.items}
    auditor = make_client(world.county_auditor.login)
    nothing = auditor.post(URL + "review", {"year": str(this_year())})
    assert nothing.status_code == 422 and "请选择要通过的项目" in nothing.text
    auditor.post(f"{URL}items/{ids[2]}/review", {"decision": "return", "comment": "名册不全"})
    mixed = auditor.post(
        URL + "review", {"year": str(this_year()), "item_id": [str(ids[1]), str(ids[2])]}
    )
    assert mixed.status_code == 422
    assert _states(checklist.id)[1] == ItemState.SUBMITTED  # rolled back with the refusal


def test_only_a_higher_level_accepts_in_one_go(world, make_client):
    checklist = create_checklist(world.village_a1, year=this_year(), submitted=True)
    secretary = make_client(world.secretary_a1.login)
    response = secretary.post(
        URL + "review", {"year": str(this_year()), "item_id": [str(checklist.items[0].id)]}
    )
    assert response.status_code == 403
    assert 'data-testid="accept-selected"' not in secretary.get(URL).text
    assert _states(checklist.id)[1] == ItemState.SUBMITTED


def test_submitting_tells_the_level_above_and_sending_back_tells_the_secretary(
    world, make_client, outbox
):
    secretary = make_client(world.secretary_a1.login)
    for number in (4, 5, 6):
        secretary.post(
            URL + "evidence",
            {
                "year": str(this_year()),
                "number": str(number),
                "note": "",
                "file": (io.BytesIO(samples.jpeg()), "照片.jpg"),
            },
            content_type="multipart/form-data",
        )
    outbox.clear()
    assert secretary.post(URL + "submit", {"year": str(this_year())}).status_code == 303
    to_above = [m for m in outbox if m.to == world.township_a_secretary.login]
    assert len(to_above) == 1
    assert "village-a1" in to_above[0].body or "计生协" in to_above[0].body
    assert f"/a/village-a1/checklist/?year={this_year()}" in to_above[0].body
    assert "://" in to_above[0].body  # an address that opens from a mail program
    assert not [m for m in outbox if m.to == world.secretary_a1.login]

    page = secretary.get(URL).text
    assert _status_line(page).startswith("已提交") and "等待上级" in _status_line(page)

    auditor = make_client(world.county_auditor.login)
    item_id = re.search(r'/items/(\d+)/review"[^>]*data-testid="review-3"', auditor.get(URL).text)
    outbox.clear()
    auditor.post(
        f"{URL}items/{item_id.group(1)}/review",
        {"decision": "return", "comment": "名册缺手机号13812345678的会员"},
    )
    to_secretary = [m for m in outbox if m.to == world.secretary_a1.login]
    assert len(to_secretary) == 1
    assert "13812345678" not in to_secretary[0].body and "名册缺手机号" in to_secretary[0].body
    assert "第3项" in to_secretary[0].subject or "3" in to_secretary[0].subject
    assert "退回" in _status_line(secretary.get(URL).text)

    # Corrected and submitted again, then everything accepted in one go: the line follows.
    assert secretary.post(URL + "submit", {"year": str(this_year())}).status_code == 303
    assert "等待上级" in _status_line(secretary.get(URL).text)
    page = auditor.get(URL).text
    picked = re.findall(r'name="item_id" value="(\d+)"', page)
    assert len(picked) == 7  # every item still waiting can be ticked
    assert (
        auditor.post(URL + "review", {"year": str(this_year()), "item_id": picked}).status_code
        == 303
    )
    assert "合格" in _status_line(secretary.get(URL).text)
