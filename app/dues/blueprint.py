"""URL map of dues."""

from flask import Blueprint

from app.dues import models  # noqa: F401  (the tables are part of the app's metadata)

bp = Blueprint("dues", __name__, url_prefix="/a/<slug>/dues")
