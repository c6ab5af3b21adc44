"""Association settings: display name and contact, population history, logo."""

import io

from PIL import Image
from sqlalchemy import select

from app.associations.models import AssociationSettings
from app.associations.settings import population_in_force
from app.core.clock import china_today
from app.extensions import db
from tenants.context import scope_for, tenant_context
from tenants.models import Association


def _fresh_association(association_id):
    db.session.commit()
    return db.session.get(Association, association_id)


def test_secretary_renames_and_sets_the_contact(world, client_for):
    secretary = client_for(world.secretary_a1.login)
    response = secretary.post(
        "/a/village-a1/settings",
        {
            "name": "梨花社区计生协会",
            "contact_name": "张敏",
            "contact_phone": "0551-6512345",
            "contact_email": "Lihua@Example.cn",
            "address": "梨花路1号",
        },
    )
    assert response.status_code == 303
    page = secretary.get("/a/village-a1/settings").get_data(as_text=True)
    assert "The settings have been saved." in page and "梨花社区计生协会" in page
    association = _fresh_association(world.village_a1.id)
    assert association.name == "梨花社区计生协会" and association.contact_name == "张敏"
    with tenant_context(scope_for(association, writable=False)):
        settings = db.session.scalar(select(AssociationSettings))
    assert settings.contact_email == "lihua@example.cn" and settings.address == "梨花路1号"


def test_a_name_taken_under_the_same_parent_is_refused(world, client_for):
    secretary = client_for(world.secretary_a1.login)
    response = secretary.post("/a/village-a1/settings", {"name": "village-a2计生协"})
    assert response.status_code == 422
    assert "already has this name" in response.get_data(as_text=True)
    assert _fresh_association(world.village_a1.id).name == "village-a1计生协"


def test_the_member_ratio_uses_the_population_in_force_for_the_year(world, client_for):
    this_year = china_today().year
    secretary = client_for(world.secretary_a1.login)
    for from_year, population in ((this_year - 3, 8000), (this_year, 9500)):
        response = secretary.post(
            "/a/village-a1/settings/population",
            {"from_year": str(from_year), "population": str(population)},
        )
        assert response.status_code == 303
    page = secretary.get("/a/village-a1/settings").get_data(as_text=True)
    assert "9,500" in page and "8,000" in page
    association = _fresh_association(world.village_a1.id)
    assert association.served_population == 9500
    with tenant_context(scope_for(association, writable=False)):
        assert population_in_force(association, this_year - 3) == 8000
        assert population_in_force(association, this_year - 1) == 8000
        assert population_in_force(association, this_year) == 9500


def test_a_population_of_zero_is_refused(world, client_for):
    secretary = client_for(world.secretary_a1.login)
    for bad in ("0", "-3"):
        response = secretary.post(
            "/a/village-a1/settings/population",
            {"from_year": str(china_today().year), "population": bad},
        )
        assert response.status_code == 422
        assert "Enter a population above zero." in response.get_data(as_text=True)
    assert _fresh_association(world.village_a1.id).served_population == 9000


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def test_secretary_uploads_a_logo_and_a_fake_one_is_refused(world, client_for):
    secretary = client_for(world.secretary_a1.login)
    response = secretary.post(
        "/a/village-a1/settings/logo",
        {"logo": (io.BytesIO(_png()), "logo.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    page = secretary.get("/a/village-a1/settings").get_data(as_text=True)
    assert 'data-testid="logo"' in page
    refused = secretary.post(
        "/a/village-a1/settings/logo",
        {"logo": (io.BytesIO(b"<html><script>alert(1)</script>"), "logo.jpg")},
        content_type="multipart/form-data",
    )
    assert refused.status_code in (415, 422)
