"""Download and thumbnail of a kept upload, after the association's access check and the
policy's own `may_read`. Pictures show inline; documents always download."""

import re
from urllib.parse import quote

from flask import Response, abort, g
from sqlalchemy import select

from app.core.uploads import POLICIES, StoredFile, read_file
from app.core.views import require
from app.extensions import db


def _served(stored: StoredFile, *, thumbnail: bool) -> Response:
    try:
        body = read_file(stored, thumbnail=thumbnail)
    except KeyError:
        abort(404)
    content_type = "image/jpeg" if thumbnail and stored.thumbnail_key else stored.content_type
    response = Response(body, mimetype=content_type)
    # Pictures show inline; documents always download, so the browser never renders them here.
    disposition = "inline" if stored.is_image else "attachment"
    ascii_name = stored.original_name.encode("ascii", "ignore").decode() or "file"
    ascii_name = re.sub(r'["\\]', "", ascii_name)
    response.headers["Content-Disposition"] = (
        f'{disposition}; filename="{ascii_name}"; '
        f"filename*=UTF-8''{quote(stored.original_name, safe='')}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def _load_readable(file_id: int) -> StoredFile:
    stored = db.session.scalar(select(StoredFile).where(StoredFile.id == file_id))
    if stored is None:
        abort(404)
    policy = POLICIES.get(stored.purpose)
    if policy is None or not policy.may_read(g.access):
        abort(403)
    return stored


@require(lambda access: access.can_read, "read")
def download(file_id: int):
    return _served(_load_readable(file_id), thumbnail=False)


@require(lambda access: access.can_read, "read")
def thumbnail(file_id: int):
    return _served(_load_readable(file_id), thumbnail=True)
