"""Activity photos on the public page (居务公开): the secretary marks a photo public after saying
on what basis — the residents who can be recognised in it agreed, or no one can be recognised —
and the public page shows the year's marked photos; every other photo stays behind the sign-in.

What is served publicly is the thumbnail the upload already re-encoded from the pixels alone
(app/core/uploads.py: no EXIF, GPS, comments or trailing bytes), never the original name.
"""

import enum

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import extract, select
from wtforms import RadioField
from wtforms.validators import InputRequired

from app.activities.models import Activity, ActivityPhoto
from app.core import uploads
from app.core.clock import utcnow
from app.core.forms import options
from app.core.views import render, secretary_only
from app.extensions import db
from app.governance.plans import GovernanceError
from tenants.context import scope_for, tenant_context

MAX_PUBLIC_PHOTOS = 60  # per year on the public page


class PublicBasis(enum.StrEnum):
    CONSENTED = "consented"  # the residents who can be recognised agreed
    NO_FACES = "no_faces"  # no resident can be recognised


BASIS_LABELS = {
    PublicBasis.CONSENTED: _l("Everyone who can be recognised in it agreed to its publication"),
    PublicBasis.NO_FACES: _l("No resident can be recognised in it (no faces, no name tags)"),
}


class PublicPhotoForm(FlaskForm):
    basis = RadioField(
        _l("Residents' faces"),
        choices=options((basis.value, label) for basis, label in BASIS_LABELS.items()),
        validators=[InputRequired(message=_l("Say whether the residents in it agreed."))],
    )


# --- services ---------------------------------------------------------------------------------


def mark_public(photo: ActivityPhoto, basis: str, *, user_id: int | None) -> None:
    if basis not in set(PublicBasis):
        raise GovernanceError(_l("Say whether the residents in it agreed."), field="basis")
    photo.public_at, photo.public_by_id, photo.public_basis = utcnow(), user_id, basis
    db.session.flush()


def mark_private(photo: ActivityPhoto) -> None:
    photo.public_at = photo.public_by_id = photo.public_basis = None
    db.session.flush()


def public_photos(year: int) -> list[tuple[int, object]]:
    """(photo id, activity date) of the year's photos marked public, in the order held."""
    return list(
        db.session.execute(
            select(ActivityPhoto.id, Activity.held_on)
            .join(
                Activity,
                (Activity.id == ActivityPhoto.activity_id)
                & (Activity.association_id == ActivityPhoto.association_id),
            )
            .where(
                ActivityPhoto.public_at.is_not(None),
                extract("year", Activity.held_on) == year,
            )
            .order_by(Activity.held_on, ActivityPhoto.id)
            .limit(MAX_PUBLIC_PHOTOS)
        ).all()
    )


# --- views ------------------------------------------------------------------------------------


def _photo(photo_id: int) -> ActivityPhoto:
    photo = db.session.scalar(select(ActivityPhoto).where(ActivityPhoto.id == photo_id))
    if photo is None:
        abort(404)
    return photo


def _publication_page(photo: ActivityPhoto, form: PublicPhotoForm, *, status: int = 200):
    return render("governance/photo_public.html", status=status, photo=photo, form=form)


@secretary_only
def publication(photo_id: int):
    """The question before a photo goes public: may the residents in it be shown?"""
    return _publication_page(_photo(photo_id), PublicPhotoForm(formdata=None))


@secretary_only
def set_publication(photo_id: int):
    photo = _photo(photo_id)
    back = url_for("activities.detail", activity_id=photo.activity_id)
    if request.form.get("public") == "0":
        mark_private(photo)
        flash(_("The photo is private again."), "success")
        return redirect(back, code=303)
    form = PublicPhotoForm()
    if not form.validate():
        return _publication_page(photo, form, status=422)
    try:
        mark_public(photo, form.basis.data, user_id=current_user.id)
    except GovernanceError as error:
        form.basis.errors = [*form.basis.errors, error.message]
        return _publication_page(photo, form, status=error.status)
    flash(_("The photo is shown on the public page."), "success")
    return redirect(back, code=303)


def served_photo(association, photo_id: int) -> Response:
    """A public photo's thumbnail for /p/<slug>; 404 for any photo not marked public."""
    with tenant_context(scope_for(association, writable=False)):
        photo = db.session.scalar(
            select(ActivityPhoto).where(
                ActivityPhoto.id == photo_id, ActivityPhoto.public_at.is_not(None)
            )
        )
        if photo is None or not photo.stored_file.thumbnail_key:
            abort(404)
        try:
            body = uploads.read_file(photo.stored_file, thumbnail=True)
        except KeyError:
            abort(404)
    response = Response(body, mimetype="image/jpeg")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # Public, but a photo made private again should not linger in shared caches for long.
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
