"""Upload checking and storage: types from content, caps, re-encoding, names, quota, deletion."""

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from app.core import storage, uploads
from app.core.uploads import EVIDENCE, PHOTO, StoredFile, UploadRejected, store_upload
from app.extensions import db
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context
from tests.uploads import samples


def _store(world, data: bytes, name: str, policy=PHOTO, association=None):
    association = association or world.village_a1
    with tenant_context(scope_for(association, writable=True)):
        stored = store_upload(
            io.BytesIO(data),
            policy,
            association_id=association.id,
            uploaded_by_id=world.secretary_a1.id,
            filename=name,
        )
        db.session.commit()
        return stored, uploads.read_file(stored)


def _files_on_disk(app) -> list[Path]:
    root = Path(app.config["UPLOAD_ROOT"])
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def _rows():
    with UNSCOPED_BYPASS("test assertion"):
        return db.session.scalars(select(StoredFile)).all()


def test_png_renamed_pdf_is_kept_as_a_png_with_the_right_name(app, world):
    stored, data = _store(world, samples.png(), "制度.pdf", policy=EVIDENCE)
    assert stored.content_type == "image/png"
    assert stored.original_name == "制度.png"
    assert Image.open(io.BytesIO(data)).format == "PNG"


def test_pdf_renamed_jpg_is_refused_as_a_photo(app, world):
    with pytest.raises(UploadRejected) as refused:
        _store(world, samples.PDF, "photo.jpg")
    assert refused.value.status == 415
    assert _files_on_disk(app) == [] and _rows() == []


def test_a_50_mb_file_is_refused_with_413_without_reading_it_all(app, world):
    class Endless(io.RawIOBase):
        """50 MB of JPEG-looking bytes, counting how much is read."""

        read_so_far = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            remaining = 50 * 1024 * 1024 - self.read_so_far
            n = min(len(buffer), remaining)
            buffer[:n] = b"\xff" * n
            self.read_so_far += n
            return n

    stream = Endless()
    with pytest.raises(UploadRejected) as refused:
        _store_stream(world, io.BufferedReader(stream))
    assert refused.value.status == 413
    assert stream.read_so_far <= PHOTO.max_bytes + 64 * 1024
    assert _files_on_disk(app) == []


def _store_stream(world, stream):
    with tenant_context(scope_for(world.village_a1, writable=True)):
        store_upload(stream, PHOTO, association_id=world.village_a1.id, uploaded_by_id=None)


def test_gps_and_camera_exif_are_gone_from_the_stored_copy_and_thumbnail(app, world):
    original = samples.jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)
    stored, data = _store(world, original, "IMG_0001.JPG")
    kept = Image.open(io.BytesIO(data))
    assert not kept.getexif()
    assert b"PhoneMaker" not in data and b"Exif" not in data
    thumbnail = uploads.read_file(stored, thumbnail=True)
    assert not Image.open(io.BytesIO(thumbnail)).getexif()
    assert (stored.width, stored.height) == (120, 80)
    assert len(stored.sha256) == 64


def test_html_renamed_jpg_is_refused(app, world):
    with pytest.raises(UploadRejected) as refused:
        _store(world, samples.HTML, "holiday.jpg")
    assert refused.value.status == 415


def test_polyglot_jpeg_loses_its_appended_html_when_re_encoded(app, world):
    stored, data = _store(world, samples.polyglot_jpeg(), "poly.jpg")
    assert stored.content_type == "image/jpeg"
    assert b"<script" not in data and b"<html" not in data


def test_svg_with_script_is_refused_everywhere(app, world):
    for policy in (PHOTO, EVIDENCE):
        with pytest.raises(UploadRejected) as refused:
            _store(world, samples.SVG, "logo.svg", policy=policy)
        assert refused.value.status == 415


def test_20k_by_20k_png_is_refused_before_decoding(app, world):
    with pytest.raises(UploadRejected) as refused:
        _store(world, samples.png_bomb(), "bomb.png")
    with app.test_request_context():
        assert "像素过多" in str(refused.value.message)
    assert _files_on_disk(app) == [] and _rows() == []


def test_path_traversal_names_never_reach_the_disk(app, world):
    stored, _ = _store(world, samples.jpeg(), "../../../etc/passwd.jpg")
    assert stored.original_name == "passwd.jpg"
    assert ".." not in stored.storage_key
    assert stored.storage_key.startswith(f"{world.village_a1.id}/photo/")
    root = Path(app.config["UPLOAD_ROOT"]).resolve()
    assert all(root in path.resolve().parents for path in _files_on_disk(app))
    stored_windows, _ = _store(world, samples.jpeg(), "..\\..\\evil\x00name.jpg")
    assert stored_windows.original_name == "evilname.jpg"
    with pytest.raises(ValueError):
        storage.LocalStorage(root).save("../escape.jpg", b"x")


def test_word_pdf_and_pictures_are_accepted_as_evidence(app, world):
    for data, name, content_type in (
        (samples.docx(), "rules.docx", uploads.DOCX),
        (samples.doc(), "rules.doc", uploads.DOC),
        (samples.PDF, "rules.pdf", uploads.PDF),
        (samples.webp(), "board.webp", uploads.WEBP),
    ):
        stored, data_kept = _store(world, data, name, policy=EVIDENCE)
        assert stored.content_type == content_type
        if content_type in (uploads.DOCX, uploads.DOC, uploads.PDF):
            assert data_kept == data  # documents are kept byte for byte


def test_a_zip_that_is_not_a_word_document_is_refused(app, world):
    with pytest.raises(UploadRejected):
        _store(world, samples.plain_zip(), "rules.docx", policy=EVIDENCE)


def test_an_empty_file_is_refused(app, world):
    with pytest.raises(UploadRejected):
        _store(world, b"", "empty.jpg")


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_ROOT": str(tmp_path / "uploads"), "UPLOAD_QUOTA_BYTES": 6000}


def test_the_association_quota_is_enforced_per_association(app, world):
    _store(world, samples.jpeg(), "a.jpg")
    with pytest.raises(UploadRejected) as refused:
        for _ in range(10):
            _store(world, samples.jpeg(), "more.jpg")
    assert refused.value.status == 413
    # Another association has its own quota.
    _store(world, samples.jpeg(), "b.jpg", association=world.village_a2)


def test_deleting_an_associations_files_leaves_the_others(app, world):
    _store(world, samples.jpeg(), "a.jpg")
    _store(world, samples.PDF, "b.pdf", policy=EVIDENCE)
    other, _ = _store(world, samples.jpeg(), "c.jpg", association=world.village_a2)
    with tenant_context(scope_for(world.village_a1, writable=True)):
        removed = uploads.delete_association_files(world.village_a1.id)
        db.session.commit()
    assert removed == 3  # two files and one thumbnail
    assert [row.id for row in _rows()] == [other.id]
    assert len(_files_on_disk(app)) == 2
    assert all(f"/{world.village_a2.id}/" in str(path) for path in _files_on_disk(app))


def test_files_written_by_a_transaction_that_rolls_back_are_removed(app, world):
    with tenant_context(scope_for(world.village_a1, writable=True)):
        store_upload(
            io.BytesIO(samples.jpeg()),
            PHOTO,
            association_id=world.village_a1.id,
            uploaded_by_id=None,
            filename="x.jpg",
        )
        assert len(_files_on_disk(app)) == 2
        db.session.rollback()
    assert _files_on_disk(app) == []


def test_a_deleted_file_keeps_its_bytes_until_the_commit(app, world):
    stored, _ = _store(world, samples.jpeg(), "a.jpg")
    with tenant_context(scope_for(world.village_a1, writable=True)):
        stored = db.session.scalar(select(StoredFile).where(StoredFile.id == stored.id))
        uploads.delete_stored_file(stored)
        db.session.rollback()
        assert len(_files_on_disk(app)) == 2
        stored = db.session.scalar(select(StoredFile).where(StoredFile.id == stored.id))
        uploads.delete_stored_file(stored)
        db.session.commit()
    assert _files_on_disk(app) == []


class FakeS3:
    """Just enough of a boto3 S3 client, in memory."""

    class exceptions:  # noqa: N801 - mirrors boto3's attribute
        class NoSuchKey(Exception):
            pass

    def __init__(self):
        self.objects: dict[tuple[str, str], bytes] = {}

    def put_object(self, Bucket, Key, Body):  # noqa: N803 - boto3's parameter names
        self.objects[(Bucket, Key)] = Body

    def get_object(self, Bucket, Key):  # noqa: N803
        if (Bucket, Key) not in self.objects:
            raise self.exceptions.NoSuchKey()
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}

    def delete_object(self, Bucket, Key):  # noqa: N803
        self.objects.pop((Bucket, Key), None)

    def get_paginator(self, name):
        assert name == "list_objects_v2"
        fake = self

        class Paginator:
            def paginate(self, Bucket, Prefix):  # noqa: N803
                keys = [k for b, k in fake.objects if b == Bucket and k.startswith(Prefix)]
                yield {"Contents": [{"Key": k} for k in keys]} if keys else {}

        return Paginator()

    def delete_objects(self, Bucket, Delete):  # noqa: N803
        for item in Delete["Objects"]:
            self.objects.pop((Bucket, item["Key"]), None)


def test_s3_storage_keeps_reads_and_deletes_by_association(app, world):
    fake = FakeS3()
    app.extensions["uploads_storage"] = storage.S3Storage("xiehui", fake)
    stored, data = _store(world, samples.jpeg(), "a.jpg")
    key = stored.storage_key
    _store(world, samples.jpeg(), "b.jpg", association=world.village_a2)
    assert fake.objects[("xiehui", key)] == data
    assert len(fake.objects) == 4
    with tenant_context(scope_for(world.village_a1, writable=True)):
        assert uploads.delete_association_files(world.village_a1.id) == 2
        db.session.commit()
    assert all(key.startswith(f"{world.village_a2.id}/") for _, key in fake.objects)
    with pytest.raises(KeyError):
        storage.S3Storage("xiehui", fake).read(key)
    assert _files_on_disk(app) == []


def test_a_multi_picture_phone_jpeg_is_kept_as_a_plain_jpeg(app, world):
    stored, data = _store(world, samples.mpo(), "DSC_0001.JPG")
    assert stored.content_type == "image/jpeg"
    kept = Image.open(io.BytesIO(data))
    assert kept.format == "JPEG" and kept.size == (80, 60)
