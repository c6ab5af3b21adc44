"""A full upload disk: uploads are refused with a translated 507, nothing partial is kept
(no file, no row), and reading what is already there goes on."""

import errno
import io
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from app.activities.models import ActivityPhoto
from app.core import storage, uploads
from app.core.storage import LocalStorage
from app.core.uploads import StoredFile
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS
from tests.factories import create_activity
from tests.uploads import samples

URL = "/a/village-a1/activities"
FULL = "存储空间已满"  # part of the translated refusal


def _files_on_disk(app) -> list[Path]:
    root = Path(app.config["UPLOAD_ROOT"])
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def _rows():
    with UNSCOPED_BYPASS("test assertion"):
        return (
            db.session.scalars(select(StoredFile)).all(),
            db.session.scalars(select(ActivityPhoto)).all(),
        )


def fill_disk_after(monkeypatch, room: int) -> None:
    """The upload disk has `room` bytes left: LocalStorage writes for real, and the write that
    does not fit fails as the kernel reports it (OSError ENOSPC when the data is flushed), after
    part of the file is already on disk."""
    real_fsync = os.fsync
    left = [room]

    def fsync(fd):
        size = os.fstat(fd).st_size
        if size > left[0]:
            raise OSError(errno.ENOSPC, "No space left on device")
        left[0] -= size
        real_fsync(fd)

    monkeypatch.setattr(storage.os, "fsync", fsync)


@pytest.fixture
def activity(app, world):
    return create_activity(world.village_a1, title="世界人口日宣传")


def _add(client, activity_id, *names):
    return client.post(
        f"{URL}/{activity_id}/photos",
        {"photos": [(io.BytesIO(samples.jpeg()), name) for name in names]},
        content_type="multipart/form-data",
    )


def test_a_full_disk_refuses_the_upload_with_507_and_keeps_nothing(
    app, world, make_client, activity, monkeypatch
):
    client = make_client(world.secretary_a1.login)
    assert _add(client, activity.id, "before.jpg").status_code == 303
    kept_files, kept_rows = _files_on_disk(app), _rows()
    assert len(kept_files) == 2  # the photo and its thumbnail

    fill_disk_after(monkeypatch, 0)
    response = _add(client, activity.id, "full.jpg")
    assert response.status_code == 507
    assert FULL in response.get_data(as_text=True)
    assert _files_on_disk(app) == kept_files
    stored, photos = _rows()
    assert [row.id for row in stored] == [row.id for row in kept_rows[0]]
    assert len(photos) == 1

    # Reads go on: the activity page and the photo already kept.
    page = client.get(f"{URL}/{activity.id}")
    assert page.status_code == 200
    thumb = client.get(f"/a/village-a1/files/{stored[0].id}/thumbnail")
    assert thumb.status_code == 200 and thumb.data.startswith(b"\xff\xd8")


def test_a_disk_that_fills_between_photo_and_thumbnail_leaves_no_orphan(
    app, world, make_client, activity, monkeypatch
):
    client = make_client(world.secretary_a1.login)
    # Room for the first picture of the request but not for its thumbnail.
    sizes = []
    real = uploads.check_upload

    def measuring(data, policy):
        prepared = real(data, policy)
        sizes.append(len(prepared.data))
        return prepared

    monkeypatch.setattr(uploads, "check_upload", measuring)
    uploads.check_upload(samples.jpeg(), uploads.PHOTO)
    fill_disk_after(monkeypatch, sizes[0])
    response = _add(client, activity.id, "one.jpg", "two.jpg")
    assert response.status_code == 507
    assert FULL in response.get_data(as_text=True)
    assert _files_on_disk(app) == []
    assert _rows() == ([], [])


def test_other_storage_errors_are_not_reported_as_a_full_disk(
    app, world, make_client, activity, monkeypatch
):
    """Only ENOSPC/EDQUOT are the user's 'full' message; a broken disk is a server error."""

    def broken(storage, key, data):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(LocalStorage, "save", broken)
    client = make_client(world.secretary_a1.login)
    with pytest.raises(OSError) as raised:  # the test app propagates errors (a 500 live)
        _add(client, activity.id, "x.jpg")
    assert raised.value.errno == errno.EIO
    assert _files_on_disk(app) == []
