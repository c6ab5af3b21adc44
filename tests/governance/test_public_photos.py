"""Activity photos on the public page: only those the secretary marked public, after saying
that the residents in them agreed (or cannot be recognised); served re-encoded, without EXIF."""

import io

from PIL import Image
from sqlalchemy import select

from app.activities.models import ActivityPhoto
from app.core.clock import china_today
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tests.factories import create_activity, create_plan
from tests.uploads import samples

YEAR = china_today().year


def _activity_with_photos(world, client):
    """An activity whose two photos were uploaded from a phone (EXIF with GPS)."""
    activity = create_activity(world.village_a1, title="健康讲座")
    response = client.post(
        f"/a/village-a1/activities/{activity.id}/photos",
        data={
            "photos": [
                (io.BytesIO(samples.jpeg_with_gps()), "one.jpg"),
                (io.BytesIO(samples.jpeg_with_gps()), "two.jpg"),
            ]
        },
        content_type="multipart/form-data",
    )
    assert response.status_code in (200, 303)
    with UNSCOPED_BYPASS("the test reads the photos it uploaded"):
        return activity, list(
            db.session.scalars(
                select(ActivityPhoto.id)
                .where(ActivityPhoto.activity_id == activity.id)
                .order_by(ActivityPhoto.id)
            )
        )


def test_a_photo_marked_public_is_shown_without_its_exif_and_others_stay_private(
    world, make_client
):
    create_plan(world.village_a1, published=True)
    secretary = make_client(world.secretary_a1.login)
    activity, (shown, kept) = _activity_with_photos(world, secretary)
    anonymous = make_client()
    assert 'data-testid="public-photos"' not in anonymous.get("/p/village-a1").get_data(
        as_text=True
    )

    # The question comes first: without an answer nothing changes.
    page = secretary.get(f"/a/village-a1/governance/photos/{shown}/public")
    assert page.status_code == 200 and "人脸" in page.get_data(as_text=True)
    refused = secretary.post(
        f"/a/village-a1/governance/photos/{shown}/public", data={"public": "1"}
    )
    assert refused.status_code == 422
    assert "请说明照片中的居民是否同意" in refused.get_data(as_text=True)
    assert anonymous.get(f"/p/village-a1/photos/{shown}.jpg").status_code == 404

    marked = secretary.post(
        f"/a/village-a1/governance/photos/{shown}/public",
        data={"public": "1", "basis": "consented"},
    )
    assert marked.status_code == 303
    with UNSCOPED_BYPASS("the test reads the photo's marking"):
        photo = db.session.get(ActivityPhoto, shown)
        assert photo.public_basis == "consented" and photo.public_by_id == world.secretary_a1.id
        db.session.rollback()
    detail = secretary.get(f"/a/village-a1/activities/{activity.id}").get_data(as_text=True)
    assert f'data-testid="photo-public-{shown}"' in detail
    assert f'data-testid="photo-publish-{kept}"' in detail

    text = anonymous.get("/p/village-a1").get_data(as_text=True)
    assert f"/p/village-a1/photos/{shown}.jpg" in text
    assert f"/p/village-a1/photos/{kept}.jpg" not in text
    assert "one.jpg" not in text and "two.jpg" not in text
    served = anonymous.get(f"/p/village-a1/photos/{shown}.jpg")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert b"PhoneMaker" not in served.data and b"Exif" not in served.data
    with Image.open(io.BytesIO(served.data)) as image:
        assert not image.getexif()
    assert anonymous.get(f"/p/village-a1/photos/{kept}.jpg").status_code == 404
    # Another association's address does not serve it either.
    create_plan(world.village_a2, published=True)
    assert anonymous.get(f"/p/village-a2/photos/{shown}.jpg").status_code == 404

    # Private again: gone from the page and its address.
    assert (
        secretary.post(
            f"/a/village-a1/governance/photos/{shown}/public", data={"public": "0"}
        ).status_code
        == 303
    )
    assert f"/p/village-a1/photos/{shown}.jpg" not in anonymous.get("/p/village-a1").get_data(
        as_text=True
    )
    assert anonymous.get(f"/p/village-a1/photos/{shown}.jpg").status_code == 404


def test_only_the_secretary_marks_a_photo_public(world, make_client):
    _activity, (photo, _other) = _activity_with_photos(world, make_client(world.secretary_a1.login))
    for login in (world.member_a1.login, world.county_auditor.login):
        answer = make_client(login).post(
            f"/a/village-a1/governance/photos/{photo}/public",
            data={"public": "1", "basis": "no_faces"},
        )
        assert answer.status_code in (403, 404)
    with UNSCOPED_BYPASS("the test reads the photo's marking"):
        assert db.session.get(ActivityPhoto, photo).public_at is None
