"""The 七有 checklist rules: submission, review, versioned evidence and refused transitions."""

import io
from datetime import date

import pytest
from sqlalchemy import select

from app.checklist import services
from app.checklist.models import ChecklistEvent, ItemState
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tests.factories import create_activity, create_checklist
from tests.uploads import samples

YEAR = 2026


def _as_secretary(world):
    return tenant_context(scope_for(world.village_a1, writable=True))


def _view(world):
    with tenant_context(scope_for(world.village_a1, writable=False)):
        return services.checklist_view(YEAR)


def _states(world):
    return [entry.state for entry in _view(world).items]


def _item_id(world, number):
    return _view(world).items[number - 1].item.id


def _review(world, reviewer, number, *, accept=True, comment=""):
    item = services.review_item(
        world.village_a1,
        _item_id(world, number),
        reviewer_id=reviewer.id,
        accept=accept,
        comment=comment,
    )
    db.session.commit()
    return item


def _upload(world, number, data=None):
    with _as_secretary(world):
        evidence = services.add_evidence(
            YEAR,
            number,
            io.BytesIO(data or samples.jpeg()),
            note="新照片",
            association_id=world.village_a1.id,
            user_id=world.secretary_a1.id,
        )
        db.session.commit()
        return evidence.id


def _submit(world):
    with _as_secretary(world):
        numbers = [item.number for item in services.submit(YEAR, user_id=world.secretary_a1.id)]
        db.session.commit()
        return numbers


@pytest.mark.parametrize(
    ("state", "action", "allowed"),
    [
        (ItemState.DRAFT, "submit", True),
        (ItemState.RETURNED, "submit", True),
        (ItemState.WITHDRAWN, "submit", True),
        (ItemState.SUBMITTED, "accept", True),
        (ItemState.SUBMITTED, "return", True),
        (ItemState.SUBMITTED, "withdraw", True),
        (ItemState.DRAFT, "accept", False),
        (ItemState.WITHDRAWN, "accept", False),
        (ItemState.WITHDRAWN, "return", False),
        (ItemState.ACCEPTED, "return", False),
        (ItemState.ACCEPTED, "withdraw", False),
        (ItemState.ACCEPTED, "submit", False),
        (ItemState.RETURNED, "accept", False),
        (ItemState.SUBMITTED, "submit", False),
    ],
)
def test_the_state_machine_allows_only_its_transitions(app, state, action, allowed):
    if allowed:
        assert services.next_state(state, action) in ItemState
    else:
        with pytest.raises(services.IllegalTransition):
            services.next_state(state, action)


def test_submitting_needs_evidence_for_items_4_5_and_6(app, world):
    create_checklist(world.village_a1, year=YEAR, evidence_for=(4,))
    with pytest.raises(services.ChecklistError) as refused, _as_secretary(world):
        services.submit(YEAR, user_id=world.secretary_a1.id)
    with app.test_request_context():
        assert "5, 6" in str(refused.value.message)
    db.session.rollback()
    assert set(_states(world)) == {ItemState.DRAFT}


def test_submission_moves_every_item_to_review_and_records_the_figures(app, world):
    create_activity(world.village_a1, held_on=date(YEAR, 3, 1))
    create_activity(world.village_a1, held_on=date(YEAR, 6, 1))
    create_checklist(world.village_a1, year=YEAR, submitted=True)
    view = _view(world)
    assert [entry.state for entry in view.items] == [ItemState.SUBMITTED] * 7
    assert view.items[6].item.submitted_figure == 2
    assert all(entry.item.round == 1 for entry in view.items)
    assert [e.action for e in view.events].count("submit") == 7


def test_an_auditor_above_accepts_and_all_seven_accepted_is_qualified(app, world):
    create_checklist(world.village_a1, year=YEAR, submitted=True)
    for number in range(1, 8):
        assert not _view(world).qualified
        _review(world, world.county_auditor, number)
    view = _view(world)
    assert view.qualified and view.status == "qualified"
    accept = next(e for e in view.events if e.action == "accept")
    assert accept.actor_id == world.county_auditor.id
    assert accept.actor_association_id == world.county.id


def test_the_township_above_may_review_too(app, world):
    create_checklist(world.village_a1, year=YEAR, submitted=True)
    _review(world, world.township_a_secretary, 2)
    assert _states(world)[1] == ItemState.ACCEPTED


def test_an_auditor_of_a_sibling_branch_may_not_review(app, world):
    create_checklist(world.village_a1, year=YEAR, submitted=True)
    with pytest.raises(services.ReviewRefused):
        _review(world, world.township_b_auditor, 4)
    with pytest.raises(services.ReviewRefused):
        _review(world, world.secretary_a2, 4)
    assert _states(world)[3] == ItemState.SUBMITTED


def test_a_secretary_may_not_accept_their_own_items(app, world):
    create_checklist(world.village_a1, year=YEAR, submitted=True)
    for insider in (world.secretary_a1, world.staff_a1):
        with pytest.raises(services.ReviewRefused):
            _review(world, insider, 4)
    assert _states(world)[3] == ItemState.SUBMITTED


def test_a_withdrawn_item_cannot_be_reviewed(app, world):
    create_checklist(world.village_a1, year=YEAR, submitted=True)
    with _as_secretary(world):
        services.withdraw(services.load_item(_item_id(world, 5)), user_id=world.secretary_a1.id)
        db.session.commit()
    with pytest.raises(services.IllegalTransition):
        _review(world, world.county_auditor, 5)
    assert _states(world)[4] == ItemState.WITHDRAWN


def test_sending_back_needs_a_comment(app, world):
    create_checklist(world.village_a1, year=YEAR, submitted=True)
    with pytest.raises(services.ChecklistError):
        _review(world, world.county_auditor, 4, accept=False, comment="  ")
    assert _states(world)[3] == ItemState.SUBMITTED


def test_a_new_upload_after_a_return_keeps_what_the_auditor_reviewed(app, world):
    create_checklist(world.village_a1, year=YEAR, submitted=True)
    first = _view(world).items[3].evidence[0]
    _review(world, world.county_auditor, 4, accept=False, comment="牌子照片看不清")
    view = _view(world)
    assert view.items[3].state == ItemState.RETURNED
    assert view.items[3].item.review_comment == "牌子照片看不清"
    returned = next(e for e in view.events if e.action == "return")
    assert returned.detail["evidence"] == [first.id]

    second_id = _upload(world, 4)
    with pytest.raises(services.ChecklistError), _as_secretary(world):
        # What was reviewed cannot be removed.
        services.remove_evidence(_view(world).items[3].evidence[0], user_id=None)
    db.session.rollback()
    _submit(world)
    entry = _view(world).items[3]
    assert [(e.id, e.version, e.round) for e in entry.evidence] == [
        (first.id, 1, 1),
        (second_id, 2, 2),
    ]
    assert entry.state == ItemState.SUBMITTED and entry.item.round == 2
    _review(world, world.county_auditor, 4)
    accepted = next(e for e in _view(world).events if e.action == "accept")
    assert accepted.detail["evidence"] == [first.id, second_id]


def test_evidence_cannot_be_added_while_in_review_or_after_acceptance(app, world):
    create_checklist(world.village_a1, year=YEAR, submitted=True)
    with pytest.raises(services.ChecklistError):
        _upload(world, 6)
    db.session.rollback()
    _review(world, world.county_auditor, 6)
    with pytest.raises(services.ChecklistError):
        _upload(world, 6)


def test_evidence_not_yet_submitted_can_be_removed(app, world):
    evidence_id = _upload(world, 5)
    with _as_secretary(world):
        [evidence] = _view(world).items[4].evidence
        assert evidence.id == evidence_id
        services.remove_evidence(evidence, user_id=None)
        db.session.commit()
    assert _view(world).items[4].evidence == []


def test_evidence_is_only_for_items_4_5_and_6_and_only_safe_files(app, world):
    with pytest.raises(services.ChecklistError):
        _upload(world, 2)
    db.session.rollback()
    with pytest.raises(services.ChecklistError) as refused:
        _upload(world, 6, samples.SVG)
    assert refused.value.status == 415
    db.session.rollback()
    assert _upload(world, 6, samples.docx())


def test_resubmitting_sends_only_what_is_not_accepted(app, world):
    create_checklist(world.village_a1, year=YEAR, submitted=True)
    _review(world, world.county_auditor, 1)
    _review(world, world.county_auditor, 2, accept=False, comment="会员人数偏少")
    for number in range(3, 8):
        _review(world, world.county_auditor, number)
    assert _submit(world) == [2]
    with pytest.raises(services.ChecklistError):
        _submit(world)


def test_every_step_is_in_the_history(app, world):
    create_checklist(world.village_a1, year=YEAR, submitted=True)
    _review(world, world.county_auditor, 4, accept=False, comment="请补充")
    _upload(world, 4)
    _submit(world)
    with UNSCOPED_BYPASS("test assertion"):
        actions = db.session.scalars(
            select(ChecklistEvent.action)
            .where(ChecklistEvent.item_number == 4)
            .order_by(ChecklistEvent.id)
        ).all()
    assert actions == ["upload", "submit", "return", "upload", "resubmit"]


def test_items_1_2_3_show_as_unavailable_without_the_member_register(app, world, monkeypatch):
    monkeypatch.setattr(services, "register_counts", lambda: None)
    figures = _view(world).items
    assert [entry.figure for entry in figures[:3]] == [None, None, None]
    assert figures[6].figure == 0


def test_items_1_2_3_count_the_register_when_it_is_there(app, world, monkeypatch):
    monkeypatch.setattr(
        services,
        "register_counts",
        lambda: {"members": 120, "central_households": 8, "linked_households": 50},
    )
    assert [entry.figure for entry in _view(world).items[:3]] == [8, 120, 50]
