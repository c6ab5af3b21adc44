"""The platform operator's console: top-level tenants, and moving an association in the tree."""

import functools

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from app.accounts import second_factor
from app.accounts.models import User
from app.admin import offboarding, services
from app.admin.forms import DeleteAssociationForm, MoveAssociationForm, TopAssociationForm
from app.core.audit import record, record_denial
from app.core.views import render
from app.dashboards import totals as subtree_totals
from app.extensions import db
from tenants import tree
from tenants.models import Association, AssociationKind


def platform_admin_only(view):
    @functools.wraps(view)
    @login_required
    def guarded(*args, **kwargs):
        if not current_user.is_platform_admin:
            record_denial(association_id=None, reason="platform console")
            abort(403)
        return view(*args, **kwargs)

    return guarded


@platform_admin_only
def index():
    form = TopAssociationForm()
    if form.validate_on_submit():
        taken = db.session.scalar(select(Association.id).where(Association.slug == form.slug.data))
        if taken:
            form.slug.errors.append(_("This web address name is taken."))
        else:
            try:
                association = tree.create_association(
                    name=form.name.data.strip(),
                    slug=form.slug.data,
                    kind=AssociationKind(form.kind.data),
                    parent=None,
                    division_code=form.division_code.data or None,
                    served_population=form.served_population.data,
                )
            except tree.TreeError as error:
                form.division_code.errors.append(str(error))
            else:
                record("create_association", target=association, name=association.name)
                flash(_("%(name)s has been created.", name=association.name), "success")
                return redirect(url_for("admin.index"), 303)
    tops = db.session.scalars(
        select(Association).where(Association.parent_id.is_(None)).order_by(Association.name)
    ).all()
    total = db.session.scalar(select(func.count(Association.id)))
    search = request.args.get("q", "").strip()[:80]
    found = []
    if search:
        pattern = f"%{search}%"
        found = db.session.scalars(
            select(Association)
            .where(Association.name.like(pattern) | Association.slug.like(pattern))
            .order_by(Association.path)
            .limit(50)
        ).all()
    return render(
        "admin/index.html",
        form=form,
        tops=tops,
        usage=services.usage_of(list(tops)),
        total=total,
        search=search,
        found=found,
        status=422 if form.errors else 200,
    )


@platform_admin_only
def move_association(association_id: int):
    """Two steps: the operator names the new parent and sees what changes hands (the chain
    above that will read its data, the people and files that move along), then types the
    association's name to confirm."""
    association = _load(association_id)
    form = MoveAssociationForm()
    preview = None
    if form.validate_on_submit():
        new_parent = db.session.scalar(
            select(Association).where(Association.slug == form.new_parent.data.strip())
        )
        error = (
            _("No association has this web address name.")
            if new_parent is None
            else tree.check_move(association, new_parent)
        )
        if error:
            form.new_parent.errors.append(error)
        else:
            preview = _move_preview(association, new_parent)
            typed = (form.confirm_name.data or "").strip()
            if typed and typed != association.name:
                form.confirm_name.errors.append(
                    _("Type the name exactly as shown: %(name)s", name=association.name)
                )
            elif typed:
                return _move(association, new_parent)
    return render(
        "admin/move.html",
        form=form,
        association=association,
        preview=preview,
        current_chain=_chain(association.parent_id),
        status=422 if form.errors else 200,
    )


def _chain(association_id: int | None) -> list[Association]:
    """The association and those above it, from the top down."""
    if association_id is None:
        return []
    association = db.session.get(Association, association_id)
    ids = association.ancestor_ids
    found = {
        a.id: a for a in db.session.scalars(select(Association).where(Association.id.in_(ids)))
    }
    return [found[i] for i in ids if i in found]


def _move_preview(association: Association, new_parent: Association) -> dict:
    return {
        "new_parent": new_parent,
        "new_chain": _chain(new_parent.id),
        "usage": services.usage_of([association])[association.id],
    }


def _move(association: Association, new_parent: Association):
    old_parent_id = association.parent_id
    with subtree_totals.carried(association):
        tree.move_association(association, new_parent)
    record(
        "move_association", target=association, old_parent=old_parent_id, new_parent=new_parent.id
    )
    flash(
        _("%(name)s now sits under %(parent)s.", name=association.name, parent=new_parent.name),
        "success",
    )
    return redirect(url_for("admin.index"), 303)


def _load(association_id: int) -> Association:
    association = db.session.get(Association, association_id)
    if association is None:
        abort(404)
    return association


@platform_admin_only
def association_detail(association_id: int):
    return _detail_page(_load(association_id), DeleteAssociationForm(formdata=None))


def _detail_page(association: Association, delete_form: DeleteAssociationForm, status=200):
    return render(
        "admin/association.html",
        status=status,
        delete_form=delete_form,
        association=association,
        usage=services.usage_of([association])[association.id],
        parent=db.session.get(Association, association.parent_id)
        if association.parent_id
        else None,
    )


@platform_admin_only
def suspend(association_id: int):
    association = _load(association_id)
    count = services.suspend_subtree(association)
    record("suspend_subtree", target=association, associations=count)
    flash(
        _("%(name)s and the associations below it are suspended.", name=association.name),
        "success",
    )
    return redirect(url_for("admin.association_detail", association_id=association_id), 303)


@platform_admin_only
def unsuspend(association_id: int):
    association = _load(association_id)
    count = services.unsuspend_subtree(association)
    record("unsuspend_subtree", target=association, associations=count)
    flash(_("%(name)s is active again.", name=association.name), "success")
    return redirect(url_for("admin.association_detail", association_id=association_id), 303)


@platform_admin_only
def export_association(association_id: int):
    association = _load(association_id)
    archive = offboarding.export_subtree(association)
    record("export", target=association, scope="subtree", bytes=len(archive))
    filename = f"xiehui-export-{association.slug}.zip"
    return Response(
        archive,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@platform_admin_only
def delete_association(association_id: int):
    association = _load(association_id)
    form = DeleteAssociationForm()
    if not form.validate_on_submit() or form.confirm.data.strip() != association.slug:
        if form.confirm.data is not None:
            form.confirm.errors = [
                *form.confirm.errors,
                _("Type %(slug)s exactly to confirm.", slug=association.slug),
            ]
        return _detail_page(association, form, status=422)
    name, slug, parent_id = association.name, association.slug, association.parent_id
    report = offboarding.delete_subtree(association)
    record(
        "delete_association",
        name=name,
        slug=slug,
        associations=report.associations,
        rows=report.rows,
        users=report.users,
        files=report.files,
    )
    flash(
        _(
            "%(name)s has been deleted for good: %(count)s associations, with their data and "
            "files.",
            name=name,
            count=report.associations,
        ),
        "success",
    )
    if parent_id:
        return redirect(url_for("admin.association_detail", association_id=parent_id), 303)
    return redirect(url_for("admin.index"), 303)


@platform_admin_only
def users():
    """Find a login, to reset its lost second factor."""
    search = request.args.get("q", "").strip().lower()[:120]
    found = []
    if search:
        found = db.session.scalars(
            select(User).where(User.login.like(f"%{search}%")).order_by(User.login).limit(50)
        ).all()
    return render("admin/users.html", search=search, found=found)


@platform_admin_only
def reset_second_factor(user_id: int):
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    try:
        second_factor.reset(user, actor=current_user)
    except second_factor.SecondFactorError as error:
        flash(str(error), "error")
    else:
        flash(
            _(
                "The second factor of %(name)s has been reset; their sessions have ended.",
                name=user.name,
            ),
            "success",
        )
    return redirect(url_for("admin.users", q=user.login), 303)
