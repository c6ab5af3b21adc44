"""Offboarding: export a subtree in one archive, then delete it for good: nothing is left."""

import io
import zipfile
from pathlib import Path

from python_calamine import CalamineWorkbook
from sqlalchemy import select

from app.accounts.models import User
from app.admin.offboarding import remaining_rows, tenant_models
from app.core import storage
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tenants.models import Association


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), (0, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def _fill_township_a(world, client_for):
    """Data in several tenant tables of the subtree: people, invitations, settings, population,
    a logo file, audit entries."""
    secretary = client_for(world.secretary_a1.login)
    secretary.post("/a/village-a1/settings", {"name": "梨花社区", "contact_email": "a@b.cn"})
    secretary.post("/a/village-a1/settings/population", {"from_year": "2025", "population": "9100"})
    secretary.post(
        "/a/village-a1/settings/logo",
        {"logo": (io.BytesIO(_png()), "logo.png")},
        content_type="multipart/form-data",
    )
    secretary.post(
        "/a/village-a1/people/invite", {"name": "新人", "login": "13900000009", "role": "staff"}
    )
    client_for(world.township_a_secretary.login).post(
        "/a/township-a/children",
        {"name": "新村", "kind": "village", "served_population": "800"},
    )
    db.session.commit()


def _storage_root(app) -> Path:
    return storage.get_storage().root


def test_export_holds_every_table_and_the_files(app, world, client_for):
    _fill_township_a(world, client_for)
    admin = client_for(world.admin.login)
    response = admin.get(f"/admin/associations/{world.township_a.id}/export")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    assert "data.xlsx" in names
    assert any(name.startswith(f"files/{world.village_a1.id}/") for name in names)
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(archive.read("data.xlsx")))
    sheets = set(workbook.sheet_names)
    assert {"associations", "users"} | {m.__table__.name[:31] for m in tenant_models()} <= sheets
    associations = workbook.get_sheet_by_name("associations").to_python()
    exported = {row[associations[0].index("slug")] for row in associations[1:]}
    assert {"township-a", "village-a1", "village-a2"} <= exported
    assert "village-b1" not in exported and "county" not in exported
    users = workbook.get_sheet_by_name("users").to_python()
    assert "password_hash" not in users[0]
    assert "sec.a1@test.cn" in {row[users[0].index("login")] for row in users[1:]}
    assert "sec.b1@test.cn" not in {row[users[0].index("login")] for row in users[1:]}


def test_deleting_a_subtree_leaves_zero_rows_and_zero_files(app, world, client_for):
    _fill_township_a(world, client_for)
    with UNSCOPED_BYPASS("test"):
        ids = list(
            db.session.scalars(
                select(Association.id).where(Association.path.startswith(world.township_a.path))
            )
        )
    assert len(ids) == 4
    before = remaining_rows(ids)
    assert before["population_records"] and before["memberships"] and before["invitations"]
    root = _storage_root(app)
    assert any((root / str(association_id)).exists() for association_id in ids)

    admin = client_for(world.admin.login)
    wrong = admin.post(f"/admin/associations/{world.township_a.id}/delete", {"confirm": "nope"})
    assert wrong.status_code == 422
    assert remaining_rows(ids)["associations"] == 4

    done = admin.post(
        f"/admin/associations/{world.township_a.id}/delete", {"confirm": "township-a"}
    )
    assert done.status_code == 303
    db.session.commit()
    assert remaining_rows(ids) == {name: 0 for name in remaining_rows(ids)}
    assert all(not (root / str(association_id)).exists() for association_id in ids)
    # Logins that held roles only there are gone; others stay, and so does the rest of the tree.
    logins = set(db.session.scalars(select(User.login)))
    for gone in ("sec.a1@test.cn", "staff.a1@test.cn", "member.a1@test.cn", "sec.ta@test.cn"):
        assert gone not in logins
    assert {"sec.b1@test.cn", "auditor.c@test.cn", "admin@test.cn"} <= logins
    assert client_for(world.secretary_b1.login).get("/a/village-b1/").status_code == 200
    assert admin.get(f"/admin/associations/{world.county.id}").status_code == 200
