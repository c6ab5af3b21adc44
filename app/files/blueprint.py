"""URL map of kept uploads (/a/<slug>/files)."""

from flask import Blueprint

from app.files import views

bp = Blueprint("files", __name__, url_prefix="/a/<slug>/files")
bp.add_url_rule("/<int:file_id>", "download", views.download)
bp.add_url_rule("/<int:file_id>/thumbnail", "thumbnail", views.thumbnail)
