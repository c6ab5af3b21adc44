"""Member and household registers: validation, protection, duplicates, linkage, list, ratio."""

import pytest
from sqlalchemy import select

from app.core.audit import AuditLog
from app.core.clock import china_today
from app.dashboards import rollup
from app.extensions import db
from app.members import households, services
from app.members.idnumbers import IdNumberProblem, mask_id_number, validate_id_number
from app.members.models import Member
from tenants.context import UNSCOPED_BYPASS, scope_for, subtree_reads, tenant_context
from tests.factories import create_household, create_member

VALID_ID = "11010519491231002X"  # the standard's own example
OTHER_ID = "340104199001011234"


def _valid(first17: str) -> str:
    from app.members.idnumbers import check_digit

    return first17 + check_digit(first17)


def test_id_numbers_are_checked_for_length_birth_date_and_checksum():
    assert validate_id_number(" 11010519491231002x ") == VALID_ID
    for raw, code in (
        ("1101051949123100", "length"),
        ("11010519491331002X", "birth_date"),
        ("110105194912310021", "checksum"),
        ("99010519491231002X", "region"),
        ("11010519491231002Y", "format"),
    ):
        with pytest.raises(IdNumberProblem) as problem:
            validate_id_number(raw)
        assert problem.value.code == code
    assert (
        mask_id_number(_valid("34010419900101123"))
        == "3401**********" + _valid("34010419900101123")[-4:]
    )


def test_id_number_is_stored_encrypted_and_shown_masked(app, world, make_client):
    number = _valid("34010419900101123")
    member = create_member(world.village_a1, "李四", id_number=number, phone="13812345678")
    with UNSCOPED_BYPASS("test reads the stored row"):
        stored = db.session.execute(select(Member.__table__)).mappings().one()
    assert number not in str(dict(stored))
    assert stored["id_number_masked"] == mask_id_number(number)
    page = make_client(world.secretary_a1.login).get(f"/a/village-a1/members/{member.id}")
    assert mask_id_number(number) in page.text and number not in page.text
    assert "13812345678" in page.text  # the secretary sees the phone


def test_secretary_reveal_is_logged_and_staff_cannot_reveal(app, world, make_client):
    number = _valid("34010419900101123")
    member = create_member(world.village_a1, "李四", id_number=number)
    url = f"/a/village-a1/members/{member.id}/reveal"
    assert make_client(world.staff_a1.login).post(url).status_code == 403
    response = make_client(world.secretary_a1.login).post(url)
    assert response.status_code == 200 and number in response.text
    with UNSCOPED_BYPASS("test reads the audit log"):
        reveals = db.session.scalars(select(AuditLog).where(AuditLog.action == "reveal")).all()
    assert [(r.target_type, r.target_id) for r in reveals] == [("Member", member.id)]
    assert number not in str(reveals[0].detail)


def test_auditor_sees_masked_phone_and_the_opening_is_logged(app, world, make_client):
    member = create_member(world.village_a1, "李四", phone="13812345678")
    page = make_client(world.county_auditor.login).get(f"/a/village-a1/members/{member.id}")
    assert page.status_code == 200
    assert "138****5678" in page.text and "13812345678" not in page.text
    listing = make_client(world.county_auditor.login).get("/a/village-a1/members/")
    assert "138****5678" in listing.text and "13812345678" not in listing.text
    with UNSCOPED_BYPASS("test reads the audit log"):
        views = db.session.scalars(select(AuditLog).where(AuditLog.action == "view_person")).all()
    assert [(v.target_id, v.user_id) for v in views] == [(member.id, world.county_auditor.id)]


def test_duplicate_id_number_or_phone_names_the_existing_member(app, world, make_client):
    number = _valid("34010419900101123")
    existing = create_member(world.village_a1, "李四", id_number=number, phone="13812345678")
    client = make_client(world.secretary_a1.login)
    response = client.post(
        "/a/village-a1/members/new", {"name": "王五", "id_number": number, "status": "active"}
    )
    assert response.status_code == 422
    assert "李四" in response.text and str(existing.id) in response.text
    response = client.post(
        "/a/village-a1/members/new", {"name": "王五", "phone": "138 1234 5678", "status": "active"}
    )
    assert response.status_code == 422 and "李四" in response.text
    # Another association may register the same person.
    create_member(world.village_a2, "李四", id_number=number, phone="13812345678")


def test_member_form_rejects_bad_checksum_and_phone(app, world, make_client):
    response = make_client(world.secretary_a1.login).post(
        "/a/village-a1/members/new",
        {"name": "王五", "id_number": "110105194912310021", "phone": "12345", "status": "active"},
    )
    assert response.status_code == 422
    assert "校验位" in response.text and "11位" in response.text


def test_secretary_adds_a_member_with_tags(app, world, make_client):
    household = create_household(world.village_a1, "幸福路3号")
    response = make_client(world.secretary_a1.login).post(
        "/a/village-a1/members/new",
        {
            "name": "赵六",
            "phone": "13900001111",
            "id_number": VALID_ID,
            "household_id": str(household.id),
            "status": "active",
            "joined_on": "2024-03-01",
            "backbone": ["老党员"],
            "other_tags": "志愿者",
        },
    )
    assert response.status_code == 303
    with tenant_context(scope_for(world.village_a1, writable=False)):
        member = db.session.scalar(select(Member))
        assert member.tags == ["老党员", "志愿者"]
        assert member.household_id == household.id
        assert member.gender.value == "female" and member.birth_date.year == 1949
        assert member.name_initials == "zl"


def test_search_by_name_initials_phone_tail_tag_and_status(app, world, make_client):
    create_member(world.village_a1, "张三", phone="13800001234", tags=["老党员"])
    create_member(world.village_a1, "李四", phone="13900005678", status="left")
    create_member(world.village_a2, "张三丰", phone="13700001234")
    client = make_client(world.secretary_a1.login)

    def names(**params):
        text = client.get("/a/village-a1/members/", query_string=params).text
        return {name for name in ("张三", "李四", "张三丰") if f">{name}<" in text}

    assert names(q="张") == {"张三"}
    assert names(q="zs") == {"张三"}
    assert names(q="1234") == {"张三"}
    assert names(q="13900005678") == {"李四"}
    assert names(tag="老党员") == {"张三"}
    assert names(status="left") == {"李四"}


def test_member_list_runs_a_fixed_number_of_queries(app, world, make_client, count_queries):
    for number in range(30):
        create_member(world.village_a1, f"会员{number}", phone=f"1380000{number:04d}")
    client = make_client(world.secretary_a1.login)
    client.get("/a/village-a1/members/?per_page=5")
    counts = []
    for per_page in (5, 30):
        with count_queries() as statements:
            response = client.get(f"/a/village-a1/members/?per_page={per_page}")
        assert response.status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]


def _scope(world):
    return tenant_context(scope_for(world.village_a1, writable=True))


def test_linkage_rules(app, world):
    central = create_household(world.village_a1, "一号", central=True)
    other_central = create_household(world.village_a1, "二号", central=True)
    linked = create_household(world.village_a1, "三号")
    with _scope(world):
        central, other_central, linked = (
            households.load_household(h.id) for h in (central, other_central, linked)
        )
        households.link_household(linked, central)
        assert households.linked_count(central.id) == 1
        # Moving: one central household at a time.
        households.link_household(linked, other_central)
        assert households.linked_count(central.id) == 0
        assert households.linked_count(other_central.id) == 1
        with pytest.raises(services.RegisterError):
            households.link_household(central, other_central)  # central under central
        with pytest.raises(services.RegisterError):
            households.link_household(linked, linked)
        with pytest.raises(services.RegisterError):
            households.unmark_central(other_central)  # still has linked households
        households.unlink_household(linked)
        households.unmark_central(other_central)
        db.session.commit()


def test_linkage_limit_is_configurable(app, world):
    central = create_household(world.village_a1, "中心", central=True)
    others = [create_household(world.village_a1, f"联户{n}") for n in range(4)]
    with _scope(world):
        households.set_linkage_limit(3)
        central = households.load_household(central.id)
        for household in others[:3]:
            households.link_household(households.load_household(household.id), central)
        with pytest.raises(services.RegisterError) as refused:
            households.link_household(households.load_household(others[3].id), central)
        assert "3" in str(refused.value)


def test_database_refuses_a_link_to_a_household_that_is_not_central(app, world):
    from sqlalchemy.exc import IntegrityError

    plain = create_household(world.village_a1, "普通户")
    other = create_household(world.village_a1, "另一户")
    with _scope(world), pytest.raises(IntegrityError):
        household = households.load_household(other.id)
        household.central_household_id = plain.id
        household.central_link = True
        db.session.flush()
    db.session.rollback()


def test_database_refuses_a_central_household_linked_under_another(app, world):
    from sqlalchemy.exc import IntegrityError

    first = create_household(world.village_a1, "甲", central=True)
    second = create_household(world.village_a1, "乙", central=True)
    with _scope(world), pytest.raises(IntegrityError):
        household = households.load_household(second.id)
        household.central_household_id = first.id
        household.central_link = True
        db.session.flush()
    db.session.rollback()


def test_household_views_show_unlinked_and_overloaded(app, world, make_client):
    central = create_household(world.village_a1, "中心户甲", central=True)
    linked = [create_household(world.village_a1, f"联户{n}") for n in range(3)]
    create_household(world.village_a1, "孤户")
    with _scope(world):
        for household in linked:
            households.link_household(households.load_household(household.id), central)
        households.set_linkage_limit(5)
        db.session.commit()
        households.set_linkage_limit(2)  # lowered after the links: now overloaded
        db.session.commit()
    client = make_client(world.secretary_a1.login)
    unlinked = client.get("/a/village-a1/households/?view=unlinked").text
    assert "孤户" in unlinked and "联户0" not in unlinked
    overloaded = client.get("/a/village-a1/households/?view=overloaded").text
    assert "中心户甲" in overloaded


def test_visit_log_of_a_central_household(app, world, make_client):
    central_id = create_household(world.village_a1, "中心户甲", central=True).id
    linked_id = create_household(world.village_a1, "联户一").id
    with _scope(world):
        households.link_household(
            households.load_household(linked_id), households.load_household(central_id)
        )
        db.session.commit()
    client = make_client(world.secretary_a1.login)
    response = client.post(
        f"/a/village-a1/households/{central_id}/visits",
        {"visited_on": "2025-05-29", "households": [str(linked_id)], "notes": "宣传生育关怀政策"},
    )
    assert response.status_code == 303
    page = client.get(f"/a/village-a1/households/{central_id}").text
    assert "宣传生育关怀政策" in page and "联户一" in page


def test_register_counts_and_member_ratio(app, world, make_client):
    central = create_household(world.village_a1, "中心", central=True)
    linked = create_household(world.village_a1, "联户")
    for number in range(3):
        create_member(world.village_a1, f"会员{number}")
    create_member(world.village_a1, "离开者", status="left")
    create_member(world.village_a2, "邻村会员")
    with _scope(world):
        households.link_household(households.load_household(linked.id), central)
        db.session.commit()
        assert services.register_counts() == {
            "members": 3,
            "households": 2,
            "central_households": 1,
            "linked_households": 1,
        }
    with tenant_context(scope_for(world.township_a, writable=False)), subtree_reads():
        figures, _as_of = rollup.read_total(world.township_a, china_today().year)
    assert figures.members == 4  # the township counts its whole subtree
    home = make_client(world.secretary_a1.login).get("/a/village-a1/").text
    assert "会员比例" in home and "9,000" in home


def test_member_corrects_own_contact_details(app, world, make_client):
    member_id = create_member(
        world.village_a1, "会员甲", phone="13800000001", user_id=world.member_a1.id
    ).id
    client = make_client(world.member_a1.login)
    assert "会员甲" in client.get("/a/village-a1/members/me").text
    response = client.post("/a/village-a1/members/me", {"phone": "13800000002"})
    assert response.status_code == 303
    with _scope(world):
        member = services.load_member(member_id)
        assert services.phone_of(member) == "13800000002"


def test_export_is_masked_unless_the_secretary_asks(app, world, make_client):
    number = _valid("34010419900101123")
    create_member(world.village_a1, "李四", id_number=number, phone="13812345678")
    secretary = make_client(world.secretary_a1.login)
    csv_file = secretary.get("/a/village-a1/members/export?format=csv")
    assert csv_file.data.startswith("\ufeff".encode())
    text = csv_file.data.decode("utf-8-sig")
    assert mask_id_number(number) in text and number not in text and "13812345678" in text
    revealed = secretary.get("/a/village-a1/members/export?format=csv&reveal=1")
    assert number in revealed.data.decode("utf-8-sig")
    auditor = make_client(world.county_auditor.login)
    audited = auditor.get("/a/village-a1/members/export?format=csv&reveal=1").data.decode()
    assert number not in audited and "138****5678" in audited
    xlsx = secretary.get("/a/village-a1/members/export?format=xlsx")
    assert xlsx.data[:2] == b"PK"
    with UNSCOPED_BYPASS("test reads the audit log"):
        exports = db.session.scalars(select(AuditLog).where(AuditLog.action == "export")).all()
    assert len(exports) == 4
    assert {e.detail["id_numbers"] for e in exports} == {"masked", "revealed"}
