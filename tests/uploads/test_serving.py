"""Stored files are read back only through the access-checked route, with safe headers."""

import io

from app.core.uploads import EVIDENCE, PHOTO, store_upload
from app.extensions import db
from tenants.context import scope_for, tenant_context
from tests.uploads import samples


def _keep(world, association, data, policy=PHOTO, name="photo.jpg") -> int:
    with tenant_context(scope_for(association, writable=True)):
        stored = store_upload(
            io.BytesIO(data),
            policy,
            association_id=association.id,
            uploaded_by_id=None,
            filename=name,
        )
        stored_id = stored.id
        db.session.commit()
    return stored_id


def test_a_photo_is_served_inline_with_nosniff_to_its_association(app, world, make_client):
    file_id = _keep(world, world.village_a1, samples.jpeg_with_gps(), name="活动.jpg")
    response = make_client(world.secretary_a1.login).get(f"/a/village-a1/files/{file_id}")
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert "filename*=UTF-8''%E6%B4%BB%E5%8A%A8.jpg" in response.headers["Content-Disposition"]
    assert b"GPS" not in response.data
    thumbnail = make_client(world.county_auditor.login).get(
        f"/a/village-a1/files/{file_id}/thumbnail"
    )
    assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/jpeg"


def test_documents_always_download_as_attachments(app, world, make_client):
    file_id = _keep(world, world.village_a1, samples.PDF, policy=EVIDENCE, name="制度.pdf")
    response = make_client(world.secretary_a1.login).get(f"/a/village-a1/files/{file_id}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_photo_access_is_refused_across_tenants(app, world, make_client):
    file_id = _keep(world, world.village_a1, samples.jpeg())
    # A sibling's secretary, under their own slug and under ours.
    sibling = make_client(world.secretary_a2.login)
    assert sibling.get(f"/a/village-a2/files/{file_id}").status_code == 404
    assert sibling.get(f"/a/village-a1/files/{file_id}").status_code == 404
    # An auditor of another branch.
    other_branch = make_client(world.township_b_auditor.login)
    assert other_branch.get(f"/a/village-a1/files/{file_id}/thumbnail").status_code == 404
    # A plain member of the association itself does not read the activity log's files.
    assert (
        make_client(world.member_a1.login).get(f"/a/village-a1/files/{file_id}").status_code == 403
    )
    # Nobody signed in.
    anonymous = make_client().get(f"/a/village-a1/files/{file_id}")
    assert anonymous.status_code == 302 and "/login" in anonymous.location
