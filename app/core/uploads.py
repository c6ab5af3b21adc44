"""Checked, tenant-owned file uploads: policies, sniffing, caps, image re-encoding, keeping.

Every upload goes through `store_upload(file, policy)`: the type is read from the content (never
the name or the browser's claim) and must be on the policy's allow-list; size, pixel count and
the association's quota are capped; images are decoded and re-encoded (EXIF/GPS and anything
appended to them is dropped) with a thumbnail; files get server-made names under
`<association_id>/` in a storage backend outside the web root (local disk by default, or an
S3-compatible bucket: `app.core.storage`). A `StoredFile` row (tenant-owned) records what was
kept; files are read back only through the `files` blueprint (`app/files/`), after the
association's access check.
"""

import errno
import hashlib
import io
import re
import secrets
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.datastructures import FileStorage

from app.core.clock import utcnow
from app.core.models import BigId, CreatedAtMixin
from app.core.problems import Problem
from app.core.storage import delete_after_commit, get_storage, remember_written
from app.extensions import db
from tenants.access import Access
from tenants.models import TenantMixin

JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOC = "application/msword"
IMAGE_TYPES = frozenset({JPEG, PNG, WEBP})
EXTENSIONS = {JPEG: "jpg", PNG: "png", WEBP: "webp", PDF: "pdf", DOCX: "docx", DOC: "doc"}
PIL_FORMATS_READ = {JPEG: {"JPEG", "MPO"}, PNG: {"PNG"}, WEBP: {"WEBP"}}
MB = 1024 * 1024
DEFAULT_QUOTA_BYTES = 2 * 1024 * MB
THUMBNAIL_SIZE = (480, 480)
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


@dataclass(frozen=True)
class UploadPolicy:
    """What one use of uploads accepts, and who may read the stored files back."""

    purpose: str
    allowed: frozenset[str]
    max_bytes: int
    max_pixels: int = 40_000_000  # a 48-megapixel phone photo fits; a 20k×20k bomb does not
    max_side: int = 2560  # images are scaled down to this on the longest side when re-encoded
    may_read: Callable[[Access], bool] = lambda access: access.can_read_registers


PHOTO = UploadPolicy("photo", IMAGE_TYPES, 10 * MB)
EVIDENCE = UploadPolicy("evidence", IMAGE_TYPES | {PDF, DOCX, DOC}, 20 * MB)
LOGO = UploadPolicy("logo", IMAGE_TYPES, 2 * MB, max_side=1024, may_read=lambda a: a.can_read)
POLICIES = {policy.purpose: policy for policy in (PHOTO, EVIDENCE, LOGO)}


class UploadRejected(Problem):
    """A file that is not kept, with a translated reason and the HTTP status that fits it."""

    def __init__(self, message, status: int = 422):
        super().__init__(message, status=status)


class StoredFile(TenantMixin, CreatedAtMixin, db.Model):
    """One kept upload of an association: what it is, who sent it, where its bytes are."""

    __tablename__ = "stored_files"
    __table_args__ = (
        UniqueConstraint("association_id", "id"),
        UniqueConstraint("association_id", "storage_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))
    original_name: Mapped[str] = mapped_column(String(160))  # cleaned, for display only
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)  # bytes kept, thumbnail included
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    thumbnail_key: Mapped[str | None] = mapped_column(String(200))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def is_image(self) -> bool:
        return self.content_type in IMAGE_TYPES


# --- checking ---------------------------------------------------------------------------------


def sniff(data: bytes) -> str | None:
    """The file type from its first bytes and structure; None when it is none we know."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        return DOCX if _is_word_document(data) else None
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        # An OLE2 compound file: Word's has a stream named "WordDocument".
        return DOC if "WordDocument".encode("utf-16-le") in data else None
    return None


def _is_word_document(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        return False
    # A zip bomb dressed as a .docx is refused even though we never unpack it ourselves.
    return "word/document.xml" in names and len(names) < 2000 and unpacked < 200 * MB


def clean_filename(name: str | None, content_type: str) -> str:
    """A display name: no folders, no control characters, the extension of the real type."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = stem[:120] or "file"
    return f"{stem}.{EXTENSIONS[content_type]}"


def _read_capped(file: BinaryIO, limit: int) -> bytes:
    data = file.read(limit + 1)
    if len(data) > limit:
        raise UploadRejected(
            _l("The file is larger than %(size)d MB.", size=limit // MB), status=413
        )
    if not data:
        raise UploadRejected(_l("The file is empty."))
    return data


@dataclass
class _Prepared:
    content_type: str
    data: bytes
    thumbnail: bytes | None = None
    width: int | None = None
    height: int | None = None


def _reencode_image(data: bytes, content_type: str, policy: UploadPolicy) -> _Prepared:
    too_many_pixels = UploadRejected(
        _l(
            "The picture has too many pixels (at most %(mp)d megapixels).",
            mp=policy.max_pixels // 1_000_000,
        )
    )
    try:
        with Image.open(io.BytesIO(data)) as image:
            # The header gives the size before anything is decoded: refuse bombs here.
            if image.width * image.height > policy.max_pixels:
                raise too_many_pixels
            # Many phones save photos as MPO: a JPEG with extra frames appended.
            if image.format not in PIL_FORMATS_READ[content_type]:
                raise UploadRejected(_l("The picture could not be read."))
            image.load()
            image = ImageOps.exif_transpose(image)
            has_alpha = image.mode in ("RGBA", "LA") or "transparency" in image.info
            mode = "RGBA" if has_alpha and content_type != JPEG else "RGB"
            image = image.convert(mode)
    except Image.DecompressionBombError as error:
        raise too_many_pixels from error
    except UploadRejected:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise UploadRejected(_l("The picture could not be read.")) from error
    image.thumbnail((policy.max_side, policy.max_side))
    # A fresh image from the pixels alone: no EXIF, GPS, comments or trailing bytes survive.
    clean = Image.frombytes(image.mode, image.size, image.tobytes())
    out = io.BytesIO()
    if content_type == JPEG:
        clean.save(out, "JPEG", quality=85, optimize=True)
    elif content_type == PNG:
        clean.save(out, "PNG", optimize=True)
    else:
        clean.save(out, "WEBP", quality=85)
    thumb = clean.convert("RGB") if clean.mode != "RGB" else clean.copy()
    thumb.thumbnail(THUMBNAIL_SIZE)
    thumb_out = io.BytesIO()
    thumb.save(thumb_out, "JPEG", quality=80)
    return _Prepared(content_type, out.getvalue(), thumb_out.getvalue(), *clean.size)


def check_upload(data: bytes, policy: UploadPolicy) -> _Prepared:
    """Sniff, check and (for images) re-encode; raises UploadRejected."""
    content_type = sniff(data)
    if content_type not in policy.allowed:
        if policy.allowed <= IMAGE_TYPES:
            message = _l("Only JPEG, PNG or WebP pictures can be uploaded here.")
        else:
            message = _l("Only pictures (JPEG, PNG, WebP), PDF or Word files can be uploaded here.")
        raise UploadRejected(message, status=415)
    if content_type in IMAGE_TYPES:
        return _reencode_image(data, content_type, policy)
    return _Prepared(content_type, data)


def quota_bytes() -> int:
    return int(current_app.config.get("UPLOAD_QUOTA_BYTES") or DEFAULT_QUOTA_BYTES)


def used_bytes() -> int:
    """Bytes kept by the current association (the query is scoped to it)."""
    return db.session.scalar(select(func.coalesce(func.sum(StoredFile.size), 0))) or 0


def store_upload(
    file: FileStorage | BinaryIO,
    policy: UploadPolicy,
    *,
    association_id: int,
    uploaded_by_id: int | None,
    filename: str | None = None,
) -> StoredFile:
    """Check and keep one upload for the current association; raises UploadRejected.

    Nothing is written unless every check passes; the row is added to the session (flushed).
    """
    stream = file.stream if isinstance(file, FileStorage) else file
    name = filename if filename is not None else getattr(file, "filename", None)
    prepared = check_upload(_read_capped(stream, policy.max_bytes), policy)
    size = len(prepared.data) + len(prepared.thumbnail or b"")
    if used_bytes() + size > quota_bytes():
        raise UploadRejected(
            _l("The association's storage is full. Remove old files or ask for more space."),
            status=413,
        )
    now = utcnow()
    token = secrets.token_hex(16)
    extension = EXTENSIONS[prepared.content_type]
    folder = f"{association_id}/{policy.purpose}/{now:%Y%m}"
    stored = StoredFile(
        association_id=association_id,
        purpose=policy.purpose,
        original_name=clean_filename(name, prepared.content_type),
        content_type=prepared.content_type,
        size=size,
        sha256=hashlib.sha256(prepared.data).hexdigest(),
        storage_key=f"{folder}/{token}.{extension}",
        thumbnail_key=f"{folder}/{token}_thumb.jpg" if prepared.thumbnail else None,
        width=prepared.width,
        height=prepared.height,
        uploaded_by_id=uploaded_by_id,
    )
    storage = get_storage()
    pieces = [(stored.storage_key, prepared.data)]
    if prepared.thumbnail:
        pieces.append((stored.thumbnail_key, prepared.thumbnail))
    written = []
    try:
        for key, data in pieces:
            storage.save(key, data)
            written.append(key)
            remember_written(key)
    except OSError as error:
        if error.errno not in DISK_FULL:
            raise
        # A full disk (or quota) is the server's condition, not a broken request: refuse this
        # file with a clear message and keep nothing of it; the request goes on.
        for key in written:
            storage.delete(key)
        raise UploadRejected(
            _l("The server's storage is full: the file was not kept. Try again later."),
            status=507,
        ) from error
    db.session.add(stored)
    db.session.flush()
    return stored


def read_file(stored: StoredFile, *, thumbnail: bool = False) -> bytes:
    key = stored.thumbnail_key if thumbnail and stored.thumbnail_key else stored.storage_key
    return get_storage().read(key)


def delete_stored_file(stored: StoredFile) -> None:
    """Remove the row now and the bytes once the transaction commits."""
    keys = [key for key in (stored.storage_key, stored.thumbnail_key) if key]
    db.session.delete(stored)
    db.session.flush()
    delete_after_commit(keys)


def delete_association_files(association_id: int) -> int:
    """Every file of an association, bytes and rows (offboarding). Returns files removed.

    Runs in a writable tenant context of that association (or a named bypass)."""
    db.session.execute(
        StoredFile.__table__.delete().where(StoredFile.association_id == association_id)
    )
    return get_storage().delete_prefix(f"{association_id}/")
